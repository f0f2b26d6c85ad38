"""Configs known valid: a config whose data was validated against the config schema before is not validated
again (jsonschema's import and the validation are most of what reading a config costs a one-file run).

A verdict is kept only for "valid" and keyed by the validated data in an exact JSON form (data JSON cannot carry
exactly, e.g. a date, is always validated), the schema's bytes, prr-lint's and jsonschema's releases. The keys
live in one signed file beside the parse cache's key (cache.py: a file that fails its MAC is no verdict), never
in the checked tree, and only once a run that uses the cache made that key. `--no-cache` and a config that
turns the cache off keep none.
"""

from __future__ import annotations

import json
import os
from typing import Any

from . import __version__
from .cache import KEY_NAME, _inside, _read_key, read_signed, write_signed
from .releases import installed_release
from .resources import schema_path
from .verdicts import keyed

FORMAT = 1
NAME = "config-verdicts.json"
KEEP = 32              # verdicts kept: configs of the repositories and branches a user checks
SCHEMA = "config.schema.json"


class ConfigVerdicts:
    def __init__(self, directory: str, mac_key: bytes, salt: bytes):
        self._directory = directory
        self._mac_key = mac_key
        self._salt = salt
        self._known: list | None = None

    @classmethod
    def open(cls, cache_home: str | None, root: str) -> ConfigVerdicts | None:
        """The verdicts in the user's cache directory; None without one, or with a key inside the checked tree."""
        if not cache_home:
            return None
        directory = os.path.join(cache_home, "prr-lint")
        if _inside(root, directory):
            return None
        validator = installed_release("jsonschema", "jsonschema")
        if validator is None:
            return None
        try:
            with open(schema_path(SCHEMA), "rb") as fh:
                schema = fh.read()
        except OSError:
            return None
        mac_key = _read_key(os.path.join(directory, KEY_NAME))     # made by a run that uses the cache, not here
        if mac_key is None:
            return None
        salt = f"{FORMAT}\0{__version__}\0{validator}\0".encode() + schema
        return cls(directory, mac_key, salt)

    def key(self, data: Any) -> str | None:
        """The verdict key of a config's data; None when JSON does not carry it exactly."""
        return keyed(data, self._salt)

    def _keys(self) -> list:
        if self._known is None:
            stored = read_signed(self._mac_key, self._directory, NAME)
            self._known = [k for k in stored if isinstance(k, str)] if isinstance(stored, list) else []
        return self._known

    def valid(self, key: str) -> bool:
        return key in self._keys()

    def add(self, key: str) -> None:
        keys = [k for k in self._keys() if k != key][-(KEEP - 1):] + [key]
        self._known = keys
        write_signed(self._mac_key, self._directory, NAME, json.dumps(keys))

