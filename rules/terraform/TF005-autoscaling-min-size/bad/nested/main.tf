module "payments_api" {
  source = "./modules/app"

  name      = "payments-api"
  min_tasks = 2 # expect: TF005
}

module "payments_worker" {
  source = "./modules/app"

  name      = "payments-worker"
  min_tasks = 4
}
