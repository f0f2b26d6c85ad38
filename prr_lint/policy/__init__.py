"""Rego policies: an embedded evaluator (regopy) and an OPA server client (opa-python-client), one interface.

Importing this package is cheap: the evaluators and regopy are imported when a policy is first loaded.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .errors import PolicyError, PolicyTimeout

if TYPE_CHECKING:
    from ..rule import Rule
    from .runtime import PolicyRuntime

__all__ = ["PolicyError", "PolicyTimeout", "runtime_for", "policy_loader", "close_runtimes"]

# every runtime of this process, so that the command can stop their evaluators when it ends; weak, so a runtime
# nothing else holds can still be collected
_RUNTIMES: weakref.WeakSet = weakref.WeakSet()


def runtime_for(owner: Any) -> PolicyRuntime:
    """The run's PolicyRuntime, kept on `owner` (engine Options, or a Config for `prr-lint rules`), created
    from the config's `policy:` settings."""
    runtime: PolicyRuntime | None = getattr(owner, "policy_runtime", None)
    if runtime is None:
        from .runtime import PolicyRuntime, PolicySettings

        config = getattr(owner, "config", owner)
        runtime = PolicyRuntime(PolicySettings.from_config(getattr(config, "policy", None) or {}))
        owner.policy_runtime = runtime
        _RUNTIMES.add(runtime)
    return runtime


def close_runtimes() -> None:
    """Stop the evaluators of every runtime (the embedded worker process, the server connection): a command's
    runtimes live in a reference cycle (rules <-> checks), so garbage collection alone may stop them late."""
    for runtime in list(_RUNTIMES):
        runtime.close()


def policy_loader(owner: Any) -> Callable[[str], list[Rule]]:
    """registry.load_rules' `policy_loader`: a rule directory holding policy.rego -> [Rule]."""

    def load(directory: str) -> list[Rule]:
        return runtime_for(owner).load_pack_dir(directory)

    return load
