"""Error-budget overrides: a file like the waiver file, each entry naming a service and SLO, a reason, an
approver and an expiry date. An override lets a release through a spent or burning budget, never through a
freeze or a budget that could not be known; an expired one applies to nothing and is listed as such."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from ..escape import one_line


@dataclass
class Override:
    service: str
    slo: str
    reason: str
    approver: str
    expires: datetime.date
    source: str
    ticket: str = ""
    applied_to: list = field(default_factory=list)

    def covers(self, service: str, slo: str) -> bool:
        return self.service == service and self.slo in ("*", slo)

    def expired(self, today: datetime.date) -> bool:
        return self.expires < today

    def as_dict(self) -> dict:
        return {"service": self.service, "slo": self.slo, "reason": self.reason, "approver": self.approver,
                "ticket": self.ticket, "expires": self.expires.isoformat(), "source": self.source,
                "applied_to": list(self.applied_to)}


def load_overrides(path: str, shown: str) -> list:
    """Every entry of an overrides file; any problem with the file is a usage error (exit 2)."""
    from ..loaders.errors import LoadError
    from ..loaders.yamlread import load_yaml
    from ..schemas import schema_errors, schema_message

    try:
        with open(path, encoding="utf-8") as fh:
            docs = load_yaml(fh.read())
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"{shown}: cannot read overrides file: {getattr(e, 'strerror', None) or e}") from None
    except LoadError as e:
        raise UsageError(f"{shown}:{e.line}: invalid overrides file: {e.message}") from None
    data: Any = docs[0][0] if docs else None
    spans: dict = docs[0][1] if docs else {}
    errors = schema_errors(data, "budget-overrides.schema.json")
    if errors:
        where = tuple(errors[0].absolute_path)
        line = next((spans[where[:n]].line for n in range(len(where), -1, -1) if where[:n] in spans), 1)
        raise UsageError(f"{shown}:{line}: invalid overrides file: {one_line(schema_message(errors[0]))}")
    out = []
    for i, item in enumerate(data["overrides"]):
        try:
            expires = datetime.date.fromisoformat(item["expires"])
        except ValueError:
            raise UsageError(f"{shown}:{spans[('overrides', i)].line}: expires: not a date (YYYY-MM-DD)") from None
        out.append(Override(item["service"], item["slo"], item["reason"], item["approver"], expires,
                            f"{shown}:{spans[('overrides', i)].line}", item.get("ticket", "")))
    return out
