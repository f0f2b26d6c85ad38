from prr_lint.checks.time import parse_duration
from prr_lint.model import Hit
from prr_lint.rule import SERVICE, rule

NAMES = {"rto": "RTO (how long until it is back)", "rpo": "RPO (how much data may be lost)"}


@rule(
    id="SVC040",
    name="dr-objectives",
    summary="The service declares no disaster-recovery objectives (RTO and RPO).",
    why="Without a recovery time objective and a recovery point objective nobody can tell whether the "
        "backups, replicas and restore procedure are good enough, and the business learns what the service "
        "can lose only after losing it.",
    fix="Declare `spec.dr.rto` and `spec.dr.rpo` as Prometheus durations (e.g. `rto: 1h`, `rpo: 5m`), agreed "
        "with the service's users, and make sure backups and the restore procedure meet them. In a Backstage "
        "Component: the annotations `prr-lint/dr-rto` and `prr-lint/dr-rpo`.",
    targets=[SERVICE],
    tags=["dr"],
    severity={0: "error", 1: "warning", 2: "off", 3: "off"},
    since="0.1.0",
)
def check(service, _ctx):
    where = service.path("dr")
    dr = service.get("dr")
    if not isinstance(dr, dict):
        yield Hit(service.manifest, where,
                  f"{service.label}: no disaster-recovery objectives; add {service.field('dr', 'rto')} and "
                  f"{service.field('dr', 'rpo')} (e.g. 1h and 5m)")
        return
    missing = [key for key in ("rto", "rpo") if dr.get(key) in (None, "")]
    if missing:
        yield Hit(service.manifest, where,
                  f"{service.label}: disaster recovery declares no " + " and no ".join(NAMES[k] for k in missing)
                  + "; set " + " and ".join(service.field("dr", k) for k in missing))
    for key in ("rto", "rpo"):
        value = dr.get(key)
        if value not in (None, "") and parse_duration(value if isinstance(value, str) else None) is None:
            yield Hit(service.manifest, service.at("dr", key),
                      f"{service.label}: DR {key} {value!r} is not a duration; write it like 1h or 15m")
