"""Installed releases of libraries, read from package metadata without importing them."""

from __future__ import annotations

import importlib.util
import os


def installed_release(module: str, distribution: str) -> str | None:
    """`distribution release` of the installed package that provides `module`, read from the name of its
    .dist-info directory beside it, without importing the module (the helm SDK loads its native library when
    imported; jsonschema takes longer to import than a config takes to validate). None when no single such
    directory sits beside the module found."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    site = os.path.dirname(os.path.dirname(spec.origin))
    prefix = distribution.replace("-", "_").lower() + "-"       # the normalised name of a wheel's metadata
    try:
        names = [n for n in os.listdir(site) if n.lower().startswith(prefix) and n.endswith(".dist-info")]
    except OSError:
        return None
    if len(names) != 1:       # none, or two releases side by side: which one the module is is not known
        return None
    return f"{distribution} {names[0][len(prefix):-len('.dist-info')]}"
