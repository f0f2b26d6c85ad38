variable "atomic" {
  type = bool
}

resource "helm_release" "orders" {
  name       = "orders"
  repository = "oci://registry.example.com/charts"
  chart      = "orders"
  version    = "1.8.2"
  namespace  = "orders"
  atomic     = true
  timeout    = 600
}

resource "helm_release" "ingress" {
  name       = "ingress-nginx"
  repository = "https://kubernetes.github.io/ingress-nginx"
  chart      = "ingress-nginx"
  version    = "4.11.3"
  atomic     = var.atomic # unknown here: not a finding
}
