# hash comment
// slash comment
/* block
   comment */
variable "name" {
  type        = string # trailing
  default     = "svc" // trailing slash
  description = "a # not a comment // either /* nor this */"
}

/* before */ variable "count" { /* inside */
  default = 3 /* after */
}

variable "complex" {
  type = object({
    a = string
    b = optional(number, 1)
  })
  default = {
    a = "x"
  }
  validation {
    condition     = length(var.complex.a) > 0
    error_message = "The a field must not be empty."
  }
}
