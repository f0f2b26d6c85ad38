"""Where the shipped rule pack and schemas are: inside the wheel, or beside the package in a checkout."""

from __future__ import annotations

import os

_PKG = os.path.dirname(os.path.abspath(__file__))


def _data_dir(name: str) -> str:
    inside = os.path.join(_PKG, name)
    if os.path.isdir(inside):
        return inside
    return os.path.join(os.path.dirname(_PKG), name)


def rules_dir() -> str:
    return _data_dir("rules")


def schema_path(name: str) -> str:
    return os.path.join(_data_dir("schemas"), name)
