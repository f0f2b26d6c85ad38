"""The error every layer raises for bad input or a bad invocation: the CLI prints it as one line, exit 2."""

from __future__ import annotations


class UsageError(Exception):
    """A problem with how prr-lint was called or configured: exit 2 with one line."""
