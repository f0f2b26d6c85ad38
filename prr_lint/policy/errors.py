"""Errors of policy loading and evaluation. Each is one line; a UsageError, so the CLI exits 2."""

from __future__ import annotations

from ..errors import UsageError


class PolicyError(UsageError):
    """A policy that cannot be compiled or evaluated, or a policy server that cannot be used."""

    def __init__(self, message: str, file: str | None = None, offset: int | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.offset = offset


class PolicyTimeout(PolicyError):
    """An evaluation stopped at its deadline."""
