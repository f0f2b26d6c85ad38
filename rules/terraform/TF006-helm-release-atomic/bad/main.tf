resource "helm_release" "orders" {   # expect: TF006
  name       = "orders"
  repository = "oci://registry.example.com/charts"
  chart      = "orders"
  version    = "1.8.2"
  namespace  = "orders"
}

resource "helm_release" "ingress" {
  name       = "ingress-nginx"
  repository = "https://kubernetes.github.io/ingress-nginx"
  chart      = "ingress-nginx"
  version    = "4.11.3"
  atomic     = false   # expect: TF006
}
