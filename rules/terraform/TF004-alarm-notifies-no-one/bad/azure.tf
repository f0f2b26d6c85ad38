resource "azurerm_monitor_metric_alert" "cpu" {   # expect: TF004
  name                = "orders-cpu"
  resource_group_name = "rg-orders"
  scopes              = ["/subscriptions/0000/resourceGroups/rg-orders/providers/Microsoft.Web/sites/orders"]

  criteria {
    metric_namespace = "Microsoft.Web/sites"
    metric_name      = "CpuTime"
    aggregation      = "Total"
    operator         = "GreaterThan"
    threshold        = 300
  }
}

resource "azurerm_monitor_scheduled_query_rules_alert_v2" "errors" {
  name                 = "orders-errors"
  resource_group_name  = "rg-orders"
  location             = "westeurope"
  evaluation_frequency = "PT5M"
  window_duration      = "PT5M"
  scopes               = ["/subscriptions/0000/resourceGroups/rg-orders/providers/Microsoft.Insights/components/orders"]
  severity             = 1

  criteria {
    query                   = "requests | where success == false"
    time_aggregation_method = "Count"
    threshold               = 10
    operator                = "GreaterThan"
  }

  action {   # expect: TF004
    action_groups = []
  }
}
