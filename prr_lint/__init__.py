"""prr-lint: production-readiness review linter."""

__version__ = "0.1.0"
