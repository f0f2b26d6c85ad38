# Strings: escapes, interpolations, template directives, unicode
locals {
  plain       = "hello"
  escaped     = "tab\there \"quoted\" back\\slash\nnewline"
  unicode     = "caf\u00e9 \U0001F600"
  literal     = "not $${interpolated} nor %%{directive}"
  interp      = "${var.env}-db"
  nested      = "a-${lower("${var.env}-x")}-b"
  directive   = "%{if var.on}on%{else}off%{endif}"
  escaped_in  = "${var.a}\n\"${var.b}\""
  only_interp = "${var.name}"
  empty       = ""
  spaces      = "  padded  "
  utf8        = "größe ✓"
  dollar      = "costs $5"
  percent     = "100%"
}
