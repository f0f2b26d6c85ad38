"""A hostile file system: the checked repository comes from a stranger's pull request.

Every read and every existence test resolves the real path and refuses what is outside the root or not a
regular file; nothing blocks; a file or directory that cannot be read is a PRR000, never a silent skip.
Each test runs the real CLI on a git repository with a timeout, so a hang fails instead of blocking.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from conftest import BARE_DEPLOYMENT, PRR, write

SECRET = "TOPSECRET-DO-NOT-PRINT"
FORMATS = ("text", "json", "sarif", "github", "markdown", "junit")

WORKLOAD = BARE_DEPLOYMENT


def manifest(runbooks=(), deploy=None) -> str:
    lines = ["apiVersion: prr-lint/v1", "kind: Service", "metadata: {name: shop, owner: team-shop, tier: 2}",
             "spec:", "  runbooks:"]
    lines += [f"    - {json.dumps(r)}" for r in runbooks] or ["    []"]
    if deploy:
        lines += ["  deploy:", f"    kubernetes: {json.dumps(list(deploy))}"]
    return "\n".join(lines) + "\n"


def git_repo(base, files: dict, origin: str | None = "https://github.com/acme/shop.git"):
    write(base, files)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e"}
    subprocess.run(["git", "init", "-q", str(base)], check=True)
    if origin:
        subprocess.run(["git", "-C", str(base), "remote", "add", "origin", origin], check=True)
    return env


def commit(base) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@e"}
    subprocess.run(["git", "-C", str(base), "add", "-A"], check=True, env=env)
    subprocess.run(["git", "-C", str(base), "commit", "-q", "-m", "x"], check=True, env=env)


def run(*args, cwd=None, prefix=(), timeout=120):
    """The installed CLI with a stdin that never ends (so a read of /dev/stdin would block) and a deadline."""
    read_end, write_end = os.pipe()
    try:
        proc = subprocess.run([*prefix, PRR, *args], cwd=cwd, stdin=read_end, capture_output=True,
                              env={**os.environ, "NO_COLOR": "1"}, timeout=timeout)
    finally:
        os.close(read_end)
        os.close(write_end)
    out = proc.stdout.decode("utf-8")   # every output is valid UTF-8
    err = proc.stderr.decode("utf-8")
    assert "Traceback" not in err, err
    return proc.returncode, out, err


def check(repo, *extra, fmt="json", **kw):
    code, out, err = run("check", "--no-cache", "--format", fmt, *extra, str(repo), **kw)
    return code, out, err


def findings(out: str) -> list:
    return json.loads(out)["findings"]


def by_rule(out: str, rule: str) -> dict:
    return {(f["file"], f["line"]): f["message"] for f in findings(out) if f["rule"] == rule}


def assert_no_secret(repo, *extra, **kw):
    """No output format shows the secret file's text."""
    for fmt in FORMATS:
        code, out, err = check(repo, *extra, fmt=fmt, **kw)
        assert code in (0, 1), (fmt, err)
        assert SECRET not in out and SECRET not in err, fmt
        assert "secret-heading" not in out.lower(), fmt


@pytest.fixture
def secret_dir(tmp_path):
    outside = tmp_path / "outside"
    write(outside, {"secret.md": f"# {SECRET} one\n\n## Secret heading two\n",
                    "deploy.yaml": WORKLOAD.replace("web", SECRET.lower())})
    return outside


# -- reads outside the root ---------------------------------------------------------------------

@pytest.mark.slow
def test_a_symlinked_runbook_out_of_the_root_is_never_read(tmp_path, secret_dir):
    repo = tmp_path / "repo"
    git_repo(repo, {"service.yaml": manifest(["docs/runbook.md#nope", "docs/runbook.md"])})
    os.makedirs(repo / "docs")
    os.symlink(secret_dir / "secret.md", repo / "docs" / "runbook.md")
    commit(repo)
    assert_no_secret(repo)
    code, out, _ = check(repo, "--fail-on", "warning")
    assert code == 1
    messages = by_rule(out, "SVC021")
    assert "points outside the repository" in messages[("service.yaml", 6)]
    assert "points outside the repository" in messages[("service.yaml", 7)]


@pytest.mark.slow
def test_a_symlinked_directory_out_of_the_root_is_never_listed_or_read(tmp_path, secret_dir):
    repo = tmp_path / "repo"
    git_repo(repo, {"service.yaml": manifest(["ext#one"], deploy=["ext", "ext.yaml"])})
    os.symlink(secret_dir, repo / "ext")
    os.symlink(secret_dir, repo / "ext.yaml")
    commit(repo)
    assert_no_secret(repo)
    code, out, _ = check(repo)
    assert code == 1
    assert "points outside the repository" in by_rule(out, "SVC021")[("service.yaml", 6)]
    prr003 = by_rule(out, "PRR003")
    assert "points outside the repository" in prr003[("service.yaml", 8)]
    # the outside Deployment was not checked as this repository's file
    assert not [f for f in findings(out) if f["rule"].startswith("K8S")]


@pytest.mark.parametrize("url", [
    "https://github.com/acme/shop/blob/main/%2F{outside}%2Fsecret.md#x",
    "https://github.com/acme/shop/blob/main/..%2F..%2Foutside%2Fsecret.md#x",
    "https://github.com/acme/shop/blob/main/docs/..%2F..%2F..%2Foutside%2Fsecret.md#x",
    "https://github.com/acme/shop/blob/main/%2E%2E/%2E%2E/outside/secret.md#x",
])
@pytest.mark.slow
def test_a_repository_url_with_an_encoded_escape_reads_nothing(tmp_path, secret_dir, url):
    repo = tmp_path / "repo"
    url = url.replace("{outside}", str(secret_dir).strip("/").replace("/", "%2F"))
    git_repo(repo, {"service.yaml": manifest([url]), "docs/runbook.md": "# Rollback\n"})
    commit(repo)
    assert_no_secret(repo)
    code, out, _ = check(repo, "--fail-on", "warning")
    assert code == 1
    assert "outside the repository" in by_rule(out, "SVC021")[("service.yaml", 6)]


@pytest.mark.slow
def test_file_urls_are_refused_unread(tmp_path, secret_dir):
    repo = tmp_path / "repo"
    git_repo(repo, {"service.yaml": manifest([f"file://{secret_dir}/secret.md#one"])})
    commit(repo)
    assert_no_secret(repo)
    code, out, _ = check(repo, "--fail-on", "warning")
    assert code == 1 and "is a file link" in by_rule(out, "SVC021")[("service.yaml", 6)]


@pytest.mark.slow
def test_a_path_out_of_the_root_is_no_existence_oracle(tmp_path):
    repo = tmp_path / "repo"
    ups = "../" * 12
    git_repo(repo, {"service.yaml": manifest(deploy=[f"{ups}etc", f"{ups}no-such-dir-xyz"])})
    commit(repo)
    code, out, _ = check(repo)
    assert code == 1
    both = sorted(f["message"] for f in findings(out) if f["rule"] == "PRR003")
    assert len(both) == 2
    # the same finding whether or not the path exists outside the repository
    assert both[0].replace("etc", "X") == both[1].replace("no-such-dir-xyz", "X")
    assert "points outside the repository" in both[0]


def test_paths_outside_the_root_are_never_tested(tmp_path, monkeypatch):
    """Repository.exists/read decide from the path alone: no stat, no open of anything outside."""
    from prr_lint.repo import Repository

    write(tmp_path / "repo", {"a.yaml": "x: 1\n"})
    repo = Repository(str(tmp_path / "repo"))
    touched = []
    real_stat, real_open = os.stat, os.open
    monkeypatch.setattr(os, "stat", lambda p, *a, **k: touched.append(p) or real_stat(p, *a, **k))
    monkeypatch.setattr(os, "open", lambda p, *a, **k: touched.append(p) or real_open(p, *a, **k))
    for rel in ("../../../etc", "../../../etc/passwd", "/etc/passwd", "..", "a/../../x", "x\0y"):
        assert repo.outside(rel)
        assert not repo.exists(rel)
        assert repo.read(rel) is None
    assert touched == []
    assert repo.exists("a.yaml") and repo.read("a.yaml") == "x: 1\n"


# -- special files ------------------------------------------------------------------------------

@pytest.mark.parametrize("use_git", [True, False])
@pytest.mark.slow
def test_fifos_devices_and_stdin_symlinks_are_never_opened(tmp_path, use_git):
    repo = tmp_path / "repo"
    (git_repo if use_git else write)(repo, {
        "service.yaml": manifest(["docs/pipe.md#x", "docs/stdin.md#x", "docs/zero.md#x"]),
        "k8s/deploy.yaml": WORKLOAD,
        "infra/main.tf": 'variable "keep" {\n  default = false\n}\n'
                         'resource "aws_db_instance" "db" {\n  deletion_protection = var.keep\n}\n',
    })
    os.makedirs(repo / "docs")
    for rel in ("pipe.yaml", "pipe.tf", "infra/terraform.tfvars", "docs/pipe.md"):
        os.mkfifo(repo / rel)
    for rel, target in (("stdin.yaml", "/dev/stdin"), ("zero.tf", "/dev/zero"), ("docs/stdin.md", "/dev/stdin"),
                        ("docs/zero.md", "/dev/zero"), ("infra/x.auto.tfvars", "/dev/stdin")):
        os.symlink(target, repo / rel)
    if use_git:
        commit(repo)
    started = time.monotonic()
    code, out, err = check(repo, timeout=60)
    assert time.monotonic() - started < 60
    assert code == 1, err
    errors = by_rule(out, "PRR000")
    if use_git:
        assert errors == {}       # git lists no FIFO: there is nothing of the pull request in one
    else:
        assert "not a regular file (FIFO)" in errors[("pipe.yaml", 1)]
        assert "not a regular file (FIFO)" in errors[("pipe.tf", 1)]
    runbooks = by_rule(out, "SVC021")
    assert "docs/pipe.md is not a regular file" in runbooks[("service.yaml", 6)]
    assert "outside the repository" in runbooks[("service.yaml", 7)]
    assert "outside the repository" in runbooks[("service.yaml", 8)]
    notices = {(n["file"], n["message"]) for n in json.loads(out)["notices"]}
    assert ("stdin.yaml", "symlink leads outside the repository; not checked") in notices
    assert ("zero.tf", "symlink leads outside the repository; not checked") in notices
    # the other files are still checked
    assert ("k8s/deploy.yaml", 9) in by_rule(out, "K8S002")
    assert any(f["rule"] == "TF002" for f in findings(out))


@pytest.mark.slow
def test_symlink_loops_and_directories_named_like_files(tmp_path):
    repo = tmp_path / "repo"
    git_repo(repo, {"k8s/deploy.yaml": WORKLOAD, "dir.yaml/inner.yaml": WORKLOAD,
                    "service.yaml": manifest(["loop.md#x"])})
    os.symlink("loop-b.yaml", repo / "loop-a.yaml")
    os.symlink("loop-a.yaml", repo / "loop-b.yaml")
    os.symlink("loop.md", repo / "loop.md")
    os.symlink("k8s", repo / "linked-dir.yaml")
    commit(repo)
    code, out, err = check(repo, timeout=60)
    assert code == 1, err
    errors = by_rule(out, "PRR000")
    assert "symbolic links" in errors[("loop-a.yaml", 1)]
    assert "symbolic links" in errors[("loop-b.yaml", 1)]
    assert "not a regular file (directory)" in errors[("linked-dir.yaml", 1)]
    assert ("k8s/deploy.yaml", 9) in by_rule(out, "K8S002")
    assert ("dir.yaml/inner.yaml", 9) in by_rule(out, "K8S002")
    assert "service.yaml" in {f for f, _ in by_rule(out, "PRR003")} | {f for f, _ in by_rule(out, "SVC021")}


def _without_file_permissions_bypass(tmp) -> tuple | None:
    """A prefix that runs the CLI where file permissions apply (root bypasses them: drop its
    capabilities), else None."""
    locked = tmp / "probe"
    locked.mkdir()
    os.chmod(locked, 0)
    prefix = ()
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        prefix = (setpriv, "--bounding-set=-all") if setpriv else None
    try:
        if prefix is None or subprocess.run([*prefix, sys.executable, "-c", f"import os; os.listdir({str(locked)!r})"],
                                            capture_output=True).returncode == 0:
            return None
        return prefix
    finally:
        os.chmod(locked, 0o755)


@pytest.fixture
def no_bypass(tmp_path_factory):
    prefix = _without_file_permissions_bypass(tmp_path_factory.mktemp("perm"))
    if prefix is None:
        pytest.skip("cannot run without the permission bypass of root here")
    return prefix


@pytest.mark.parametrize("use_git", [True, False])
@pytest.mark.slow
def test_unreadable_files_and_directories_are_prr000_and_fail_the_gate(tmp_path, no_bypass, use_git):
    repo = tmp_path / "repo"
    files = {"k8s/deploy.yaml": WORKLOAD, "locked-file.yaml": WORKLOAD, "tracked/deploy.yaml": WORKLOAD}
    if use_git:
        git_repo(repo, files)
        commit(repo)
    else:
        write(repo, files)
    write(repo, {"untracked/deploy.yaml": WORKLOAD})
    for rel in ("locked-file.yaml", "tracked", "untracked"):
        os.chmod(repo / rel, 0)
    try:
        code, out, err = check(repo, prefix=no_bypass, timeout=60)
        gate = run("gate", "--no-cache", str(repo), prefix=no_bypass, timeout=60)
    finally:
        for rel in ("locked-file.yaml", "tracked", "untracked"):
            os.chmod(repo / rel, 0o755)
    assert code == 1, err
    errors = by_rule(out, "PRR000")
    assert "Permission denied" in errors[("locked-file.yaml", 1)]
    assert "directory cannot be read" in errors[("untracked", 1)]
    if use_git:  # git knows the tracked file's name: the file itself is the finding
        assert "Permission denied" in errors[("tracked/deploy.yaml", 1)]
    else:
        assert "directory cannot be read" in errors[("tracked", 1)]
    assert ("k8s/deploy.yaml", 9) in by_rule(out, "K8S002")
    assert gate[0] == 2 and "COULD NOT DECIDE" in gate[1] and "untracked:1" in gate[1], gate


@pytest.mark.slow
def test_a_file_name_that_is_not_utf8_breaks_no_reporter(tmp_path):
    repo = tmp_path / "repo"
    git_repo(repo, {"k8s/deploy.yaml": WORKLOAD})
    with open(os.path.join(os.fsencode(str(repo)), b"bad\xff.yaml"), "w") as fh:
        fh.write(WORKLOAD)
    with open(os.path.join(os.fsencode(str(repo)), b"caf\xe9.png"), "w") as fh:
        fh.write("not ours")
    commit(repo)
    for fmt in FORMATS:
        code, out, err = check(repo, fmt=fmt, timeout=60)
        assert code == 1, (fmt, err)
        assert "bad\\xff.yaml" in out.replace("\\\\", "\\"), fmt
        assert "\ufffd" not in out, fmt
    code, out, _ = check(repo)
    assert by_rule(out, "PRR000") == {("bad\\xff.yaml", 1): "file name is not valid UTF-8; not checked"}
    assert ("k8s/deploy.yaml", 9) in by_rule(out, "K8S002")


# -- sizes and shapes ---------------------------------------------------------------------------

def test_a_runbook_over_max_file_size_is_not_truncated_into_a_wrong_heading_finding(tmp_path):
    repo = tmp_path / "repo"
    runbook = "# Intro\n\n" + "filler line\n" * 2_000 + "## Rollback\n"
    git_repo(repo, {".prr-lint.yaml": "max_file_size: 10000\n", "docs/runbook.md": runbook,
                    "service.yaml": manifest(["docs/runbook.md#rollback"])})
    commit(repo)
    code, out, _ = check(repo)
    message = by_rule(out, "SVC021")[("service.yaml", 6)]
    assert "larger than max_file_size (10000 bytes)" in message and "headings were not checked" in message
    assert "has no heading" not in message and "raise max_file_size" in message


def test_quadratic_markdown_is_linear():
    from prr_lint.checks import links

    for hostile in ("![" * 128_000, "[a](" * 64_000, "[" * 256_000, "<" * 256_000, "<a " * 85_000,
                    "<a name='x' " * 20_000, "[x]" * 85_000, "[x][" * 64_000):
        started = time.monotonic()
        links.markdown_anchors(f"# {hostile}\n{hostile}\n")
        assert time.monotonic() - started < 2, hostile[:8]


def test_linear_scanners_agree_with_the_regexes_they_replace():
    import random
    import re

    from prr_lint.checks import links

    inline = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|!?\[([^\]]*)\]\[[^\]]*\]")
    tag = re.compile(r"<[^>]+>")
    anchor = re.compile(r"""<a\s[^>]*?\b(?:name|id)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
    rng = random.Random(8)
    alphabet = ["!", "[", "]", "(", ")", "<", ">", "a", " ", "<a ", "name=", "id=", "'", '"', "x", "A"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        want = inline.sub(lambda m: m.group(1) if m.group(1) is not None else (m.group(2) or ""), text)
        assert links._strip_links(text) == want, text
        assert links._strip_tags(text) == tag.sub("", text), text
        assert links.html_anchors(text) == [m.group(1) for m in anchor.finditer(text)], text


def test_a_runbook_with_a_huge_heading_of_link_openers_is_checked_quickly(tmp_path):
    repo = tmp_path / "repo"
    git_repo(repo, {"docs/runbook.md": "# " + "![" * 32_000 + "\n", "service.yaml": manifest(["docs/runbook.md#x"])})
    commit(repo)
    started = time.monotonic()
    code, out, _ = check(repo, "--fail-on", "warning", timeout=30)
    assert time.monotonic() - started < 30
    assert code == 1 and "has no heading for #x" in by_rule(out, "SVC021")[("service.yaml", 6)]


@pytest.mark.slow
def test_huge_deep_and_alias_bomb_files_are_each_one_prr000(tmp_path):
    repo = tmp_path / "repo"
    laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        laughs.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 10) + "]")
    git_repo(repo, {
        "k8s/deploy.yaml": WORKLOAD,
        "big.yaml": "apiVersion: v1\nkind: ConfigMap\ndata:\n  k: '" + "x" * ((5 << 20) + 1) + "'\n",
        "deep.yaml": "apiVersion: v1\nkind: ConfigMap\ndata:\n  k:\n" + "    " + "- " * 10_000 + "x\n",
        "laughs.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\n" + "\n".join(laughs) + "\n",
    })
    commit(repo)
    code, out, err = check(repo, timeout=120)
    assert code == 1, err
    errors = by_rule(out, "PRR000")
    assert "larger than max_file_size (5242880 bytes)" in errors[("big.yaml", 1)]
    deep = [m for (f, _), m in errors.items() if f == "deep.yaml"]
    assert len(deep) == 1 and "nest" in deep[0]
    assert [line for f, line in errors if f == "deep.yaml"] == [5]
    bomb = [(line, m) for (f, line), m in errors.items() if f == "laughs.yaml"]
    assert len(bomb) == 1 and "alias bomb" in bomb[0][1]
    assert ("k8s/deploy.yaml", 9) in by_rule(out, "K8S002")


def test_a_tfvars_file_of_blank_lines_is_scanned_in_linear_time(tmp_path):
    repo = tmp_path / "repo"
    git_repo(repo, {
        "infra/main.tf": 'variable "keep" {\n  default = false\n}\n'
                         'resource "aws_db_instance" "db" {\n  deletion_protection = var.keep\n}\n',
        "infra/terraform.tfvars": "keep = true\n" + " \n" * 200_000,
    })
    commit(repo)
    code, out, err = check(repo, timeout=30)
    assert code in (0, 1), err
    # the value set in terraform.tfvars makes the default unknown: no finding about `false`
    assert not [f for f in findings(out) if f["rule"] == "TF002"]


@pytest.mark.parametrize("args", [("check", "."), ("check", "k8s/deploy.yaml"), ("check", "--diff-base", "HEAD", "."),
                                  ("gate", ".")])
def test_a_git_config_that_names_a_program_never_runs_it(tmp_path, args):
    # an unpacked archive brings its own .git: git would run core.fsmonitor's program on a listing or a status
    repo = tmp_path / "repo"
    git_repo(repo, {"service.yaml": manifest(), "k8s/deploy.yaml": WORKLOAD})
    commit(repo)
    marker = tmp_path / "ran"
    hook = tmp_path / "fsmonitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    subprocess.run(["git", "-C", str(repo), "config", "core.fsmonitor", str(hook)], check=True)
    subprocess.run(["git", "-C", str(repo), "status", "--porcelain"], capture_output=True)
    assert marker.exists()          # git itself runs it: the setup is what it claims
    marker.unlink()
    (repo / "k8s" / "deploy.yaml").write_text(WORKLOAD + "# edited\n")
    code, _, err = run(*args, cwd=repo)
    assert code in (0, 1), err
    assert not marker.exists()
