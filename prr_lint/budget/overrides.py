"""Error-budget overrides: a file like the waiver file, each entry naming a service and SLO, a reason, an
approver and an expiry date. An override lets a release through a spent or burning budget, never through a
freeze or a budget that could not be known; an expired one applies to nothing and is listed as such."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

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
    from ..config import read_yaml_file
    from ..model import Document
    from ..schemas import schema_errors, schema_message

    data, spans = read_yaml_file(path, shown, "cannot read overrides file", "invalid overrides file: ")
    errors = schema_errors(data, "budget-overrides.schema.json")
    if errors:
        line = Document("budget-overrides", shown, data, spans).locate(tuple(errors[0].absolute_path)).line
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
