from prr_lint.checks.k8s import (
    MUTABLE_TAGS,
    WORKLOADS,
    container_label,
    containers,
    int_value,
    is_workload,
    label,
    split_image,
    templated,
)
from prr_lint.model import Hit
from prr_lint.rule import rule


@rule(
    id="K8S007",
    name="rollback-possible",
    summary="A workload cannot be rolled back: no revision history, or an image with no tag or a mutable "
            "tag (`latest`) and no digest.",
    why="Rolling back means running the previous pod template again. With `revisionHistoryLimit: 0` there "
        "is no previous template to return to. With an untagged or `latest` image the previous template "
        "names the same moving tag, so a rollback (or a plain pod restart) pulls whatever was pushed last, "
        "not the version that worked.",
    fix="Keep some history (`revisionHistoryLimit` of at least 2, or leave the default of 10) and reference "
        "every image by an immutable version tag (`app:1.4.2`) or a digest (`app@sha256:...`).",
    targets=["k8s"],
    tags=["rollback"],
    severity={0: "error", 1: "error", 2: "warning", 3: "off"},
    since="0.1.0",
)
def check(doc, ctx):
    if not is_workload(doc, WORKLOADS):
        return  # bare Pods and Jobs are not rolled back
    if int_value(doc.get(("spec", "revisionHistoryLimit"))) == 0:
        yield Hit(doc, ("spec", "revisionHistoryLimit"),
                  f"{label(doc)}: revisionHistoryLimit 0 keeps no previous revision to roll back to; "
                  "remove it or set it to 2 or more")
    for path, container in containers(doc):
        image = container.get("image")
        if not isinstance(image, str) or not image.strip() or templated(image):
            continue
        _, tag, digest = split_image(image.strip())
        if digest:
            continue
        if tag is None:
            problem = "has no tag (so it means latest)"
        elif tag.lower() in MUTABLE_TAGS:
            problem = f'uses the mutable tag "{tag}"'
        else:
            continue
        yield Hit(doc, path + ("image",),
                  f"{label(doc)}: {container_label(container, path)} image \"{image}\" {problem}; pin a version "
                  "tag or a digest so a rollback runs the previous version")
