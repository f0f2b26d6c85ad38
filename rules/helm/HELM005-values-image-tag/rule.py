from prr_lint.checks.helm import check_values, image_tags
from prr_lint.rule import rule


@rule(
    id="HELM005",
    name="values-image-tag",
    summary="A component of a Helm chart's values uses a mutable image tag (`latest`) and no digest, in its "
            "`image` or in a container it lists (`initContainers[].image`).",
    why="A rollback (`helm rollback`) re-renders the previous release; if that names `latest` too, the "
        "pods pull whatever was pushed last instead of the version that worked, and two pods of one "
        "release may run different code.",
    fix="Set `image.tag` to an immutable version (or leave it empty so the chart uses its appVersion), or "
        "pin `image.digest`.",
    targets=["helm-values"],
    tags=["rollback"],
    severity={0: "error", 1: "error", 2: "warning", 3: "off"},
    since="0.1.0",
)
def check(doc, ctx):
    yield from check_values(doc, ctx, _component)


def _component(view, comp, ctx):
    for path, tag in image_tags(comp):
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path[len(comp.path):]).lstrip(".")
        yield path, (f'{comp.label}: {key} uses the mutable tag "{tag}"; pin a version tag (or leave the tag '
                     "empty for the chart's appVersion) or set image.digest")
