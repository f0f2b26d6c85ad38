"""Which charts are another chart's `file://` dependency, without reading every Chart.yaml on every run.

A subchart is rendered as part of its parent, so a run must know every chart's `file://` dependencies before it
renders any chart, even a run on one file. The targets each Chart.yaml names are kept in one signed file of the
parse cache (cache.py: same key and trust rules), by Chart.yaml path with the content key of the file they were
read from. An entry is used only while that key is the file's current one, as the cache index answers from the
file's stamp without reading it; a Chart.yaml that changed, appeared or was renamed (no stamp to trust) is read,
and kept once a later run finds its stamp unchanged. Entries of charts that are gone are dropped.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable

from ..model import Document
from ..repo import Repository

_NAME = re.compile(r"(?!\.\.?$)[A-Za-z0-9_.-]+")
FORMAT = 1


def file_dependency(directory: str, dep: dict) -> str | None:
    """The repository directory a `repository: file://...` dependency names (None: another kind, or outside)."""
    source, name = dep.get("repository"), dep.get("name")
    if not isinstance(source, str) or not source.startswith("file://") or not isinstance(name, str) \
            or not _NAME.fullmatch(name):
        return None               # the name becomes a directory of the copy: never `..` or a path
    target = posixpath.normpath(posixpath.join(directory, source[len("file://"):]))
    return None if target == ".." or target.startswith("../") or posixpath.isabs(target) else target


def dependency_targets(directory: str, meta: Document) -> list[str]:
    """The chart directories a Chart.yaml names as `file://` dependencies, in its order."""
    deps = meta.get(("dependencies",)) or []
    found = (file_dependency(directory, dep) for dep in deps if isinstance(dep, dict)) if isinstance(deps, list) \
        else ()
    return [target for target in found if target is not None]


def subcharts(repo: Repository, chart_files: dict[str, str], read_meta: Callable[[str], Document]) -> set[str]:
    """The chart directories some chart (`chart_files`: directory -> its Chart.yaml) names as a `file://`
    dependency. `read_meta` parses a Chart.yaml: called only for those the cache cannot answer for."""
    store = repo.cache
    name = store.side_name("helm-subcharts") if store is not None else ""
    stored = store.read_side(name) if store is not None else None
    entries = stored.get("charts") if isinstance(stored, dict) and stored.get("format") == FORMAT else None
    old: dict = entries if isinstance(entries, dict) else {}
    new: dict[str, list] = {}
    out: set[str] = set()
    for directory, chart_file in chart_files.items():
        key = repo.known_key(chart_file)
        entry = old.get(chart_file)
        if key is not None and isinstance(entry, list) and len(entry) == 2 and entry[0] == key \
                and isinstance(entry[1], list) and all(isinstance(t, str) for t in entry[1]):
            targets = entry[1]
        else:
            targets = dependency_targets(directory, read_meta(chart_file))
        if key is not None:
            new[chart_file] = [key, targets]
        out.update(targets)
    if store is not None and new != old:
        store.write_side(name, json.dumps({"format": FORMAT, "charts": new}, separators=(",", ":")))
    return out
