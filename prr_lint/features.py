"""Optional capabilities plugged into the CLI and engine without the CLI knowing their details.

A feature module has any of `add_arguments(parser)` (options of check/gate/baseline), `configure(args, options)`
(turn its options into engine steps, see engine.Step, or extra rules), `add_commands(subparsers)` (its own
sub-commands, each setting `handler`) and `extra_rules(config)` (rules it contributes to `prr-lint rules`).
"""

from __future__ import annotations

import importlib

# order matters: suppressions first, then the filters that decide what is reported
FEATURE_MODULES: list[str] = [".waivers", ".baseline", ".diff", ".plans", ".gate", ".policy.feature", ".merge",
                              ".init", ".report"]

_loaded: list | None = None


def load() -> list:
    global _loaded
    if _loaded is None:
        _loaded = [importlib.import_module(name, __package__) for name in FEATURE_MODULES]
    return _loaded
