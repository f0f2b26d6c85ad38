locals {
  int      = 42
  negative = -7
  neg_flt  = -0.5
  float    = 3.25
  exp      = 1e3
  exp_neg  = 2.5e-2
  bool_t   = true
  bool_f   = false
  nothing  = null
  list     = [1, "two", true, null, [3]]
  trailing = [
    "a",
    "b",
  ]
  map = {
    plain_key     = 1
    "quoted key"  = 2
    (var.dynamic) = 3
    nested        = { inner = [1, 2] }
    "with-dash" : "colon"
  }
  cond    = var.enabled ? 1 : 0
  call    = merge(local.map, { extra = true })
  splat   = aws_instance.web[*].id
  index   = var.list[0]
  attr    = aws_instance.web.id
  for_l   = [for s in var.list : upper(s) if s != ""]
  for_m   = { for k, v in var.map : k => v }
  math    = 1 + 2 * 3
  not     = !var.enabled
  paren   = (1 + 2)
  compare = var.a >= 2 && var.b != "x" || var.c
  multi = merge(
    local.map,
    { another = 1 }, # inline comment
  )
}
