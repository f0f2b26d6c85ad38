"""Result replay (prr_lint/replay.py): a run whose inputs are those of a previous run calls no rule and parses no
file, and reports byte for byte what a full run reports; each kind of change makes a full run with the findings
of a run without any cache. Work is counted (rule checks, repository loads, parses), never timed."""

import datetime
import glob
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from prr_lint import cache, cli, replay
from prr_lint import repo as repo_module
from prr_lint.engine import Engine, exit_code
from prr_lint.reporters import FORMATS, render

from conftest import BARE_DEPLOYMENT, run_cli

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
from generate import generate  # noqa: E402

TODAY = "2026-11-23"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]
# svc-1's rollback procedure lives in a file git ignores: not listed, so only the rules' path question sees it
IGNORED_PROCEDURE = "services/svc-1/docs/rollback-local.md"


def git(root, *args, env=None):
    subprocess.run(GIT + list(args), cwd=root, check=True, capture_output=True, env={**os.environ, **(env or {})})


@pytest.fixture
def repo(tmp_path, monkeypatch):
    root = str(tmp_path / "repo")
    generate(2, root)
    manifest = os.path.join(root, "services/svc-1/service.yaml")
    text = open(manifest).read()
    open(manifest, "w").write(text.replace("procedure: docs/runbook.md#rollback", "procedure: docs/rollback-local.md"))
    with open(os.path.join(root, ".gitignore"), "w") as fh:
        fh.write("rollback-local.md\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    # an old commit: runbooks are older than tier 0 allows (SVC022), until a commit makes them recent
    old = "2025-01-01T00:00:00+00:00"
    git(root, "commit", "-qm", "start", env={"GIT_AUTHOR_DATE": old, "GIT_COMMITTER_DATE": old})
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("PRR_LINT_CACHE_DIR", "")
    monkeypatch.setenv("PRR_LINT_ALLOW_CONFIG_CACHE_DIR", "")
    monkeypatch.delenv("PRR_LINT_NO_REPLAY", raising=False)
    monkeypatch.setenv("PRR_LINT_TODAY", TODAY)
    monkeypatch.setattr(cache, "RACY_SECONDS", 0)     # the files of a test are seconds old
    return root


@pytest.fixture
def work(monkeypatch):
    """Counts of the work of each run: rule checks, repository loads and file parses."""
    counts = SimpleNamespace(checks=0, loads=0, parses=0)
    check, load, parse = Engine._check, Engine.load, repo_module.load_file

    def counted_check(self, *args, **kwargs):
        counts.checks += 1
        return check(self, *args, **kwargs)

    def counted_load(self, *args, **kwargs):
        counts.loads += 1
        return load(self, *args, **kwargs)

    def counted_parse(*args, **kwargs):
        counts.parses += 1
        return parse(*args, **kwargs)

    monkeypatch.setattr(Engine, "_check", counted_check)
    monkeypatch.setattr(Engine, "load", counted_load)
    monkeypatch.setattr(repo_module, "load_file", counted_parse)
    return counts


def run(root, *argv, use_cache=True, tweak=None):
    """The Result of `prr-lint check ARGV ROOT` in-process, as the CLI makes it (steps, replay on)."""
    from prr_lint.engine import run as engine_run

    options = cli.make_options(cli.build_parser().parse_args(["check", *argv, root]))
    options.replay = cli.replay_environment() if use_cache else None
    options.use_cache = use_cache
    if tweak is not None:
        tweak(options)
    return engine_run(options)


def findings(result):
    return [(f.rule_id, f.severity, f.file, f.span.line, f.message, f.fingerprint, f.suppression)
            for f in result.findings]


def full_run(work, root, *argv):
    """The result of a run without any cache, and that it did the work."""
    before = work.checks
    result = run(root, *argv, use_cache=False)
    assert work.checks > before
    return result


def replayed(work, root, *argv, **kwargs):
    checks, loads, parses = work.checks, work.loads, work.parses
    result = run(root, *argv, **kwargs)
    return (work.checks, work.loads, work.parses) == (checks, loads, parses), result


def entries(root):
    directory = cache.default_directory(os.environ["XDG_CACHE_HOME"], root)
    return sorted(glob.glob(os.path.join(directory, replay.PREFIX + "*.json")))


def test_a_warm_unchanged_run_checks_and_parses_nothing_and_reports_the_same_bytes(repo, work):
    first = run(repo)
    assert work.checks > 100 and work.loads == 1 and work.parses > 10
    assert len(entries(repo)) == 1
    again, second = replayed(work, repo)
    assert again, "a warm run of unchanged inputs did work"
    reference = full_run(work, repo)
    assert findings(second) == findings(first) == findings(reference)
    for fmt in FORMATS:
        assert render(fmt, second) == render(fmt, reference), fmt
    assert render("markdown", second, link_base="https://example.com/blob/x", title="T") == \
        render("markdown", reference, link_base="https://example.com/blob/x", title="T")
    assert render("text", second, verbose=True, show_suppressed=True) == \
        render("text", reference, verbose=True, show_suppressed=True)
    assert render("sarif", second, category="prr") == render("sarif", reference, category="prr")
    assert exit_code(second, "warning") == exit_code(reference, "warning")


def test_a_scoped_run_and_a_shard_replay_their_own_results(repo, work):
    scoped = os.path.join(repo, "services/svc-0")
    expected = findings(full_run(work, repo, scoped)), findings(full_run(work, repo, "--shard", "2/2"))
    run(repo, scoped), run(repo, "--shard", "2/2")
    hit_scoped, scoped_result = replayed(work, repo, scoped)
    hit_shard, shard_result = replayed(work, repo, "--shard", "2/2")
    assert hit_scoped and hit_shard
    assert (findings(scoped_result), findings(shard_result)) == expected
    assert render("json", shard_result) == render("json", full_run(work, repo, "--shard", "2/2"))


def _edit(root, rel, old, new):
    path = os.path.join(root, rel)
    text = open(path).read()
    assert old in text
    with open(path, "w") as fh:
        fh.write(text.replace(old, new))


def _write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)


def _stage_and_undo(root, rel):
    """The work tree as it was, the index holding an edit: git status says the file is being changed."""
    path = os.path.join(root, rel)
    text = open(path).read()
    with open(path, "a") as fh:
        fh.write("\nReviewed.\n")
    git(root, "add", rel)
    with open(path, "w") as fh:
        fh.write(text)


def _env(name, value):
    return lambda root, mp: mp.setenv(name, value)


# each change, applied after a run that stored its result: the next run is a full run
CHANGES = {
    "file edited": lambda root, mp: _edit(root, "services/svc-0/k8s/deployment.yaml", "replicas: 1", "replicas: 3"),
    "file added": lambda root, mp: _write(root, "services/svc-0/k8s/extra.yaml", BARE_DEPLOYMENT),
    "file deleted": lambda root, mp: os.remove(os.path.join(root, "services/svc-1/monitoring/rules.yaml")),
    "unlisted linked path created": lambda root, mp: _write(root, IGNORED_PROCEDURE, "# Rollback\n"),
    "config edited": lambda root, mp: _edit(root, ".prr-lint.yaml", "runbook_hosts: [runbooks.example.com]",
                                            "runbook_hosts: [runbooks.example.com]\nseverity: {TF001: info}"),
    "date changed": _env("PRR_LINT_TODAY", "2027-06-01"),
    "environment changed": _env("PRR_LINT_PARSE_POOL_MIN", "5000"),
    "change staged, work tree undone": lambda root, mp: _stage_and_undo(root, "services/svc-0/docs/runbook.md"),
    "HEAD moved": lambda root, mp: git(root, "commit", "-q", "--allow-empty", "--amend", "-m", "recent",
                                       env={"GIT_COMMITTER_DATE": TODAY + "T00:00:00+00:00",
                                            "GIT_AUTHOR_DATE": TODAY + "T00:00:00+00:00"}),
}


@pytest.mark.parametrize("change", CHANGES)
def test_each_change_makes_a_full_run_with_the_right_findings(repo, work, monkeypatch, change):
    before = findings(run(repo))
    hit, _ = replayed(work, repo)
    assert hit
    CHANGES[change](repo, monkeypatch)
    hit, result = replayed(work, repo)
    assert not hit, f"{change}: replayed"
    assert findings(result) == findings(full_run(work, repo))
    if change not in ("environment changed",):
        assert findings(result) != before, f"{change}: the fixture should change the findings"
    hit, again = replayed(work, repo)     # the full run's result is what the next run replays
    assert hit and findings(again) == findings(result)


def test_an_unlisted_linked_path_removed_again_is_seen(repo, work):
    _write(repo, IGNORED_PROCEDURE, "# Rollback\n")
    with_file = findings(run(repo))
    os.remove(os.path.join(repo, IGNORED_PROCEDURE))
    hit, result = replayed(work, repo)
    assert not hit and findings(result) != with_file and findings(result) == findings(full_run(work, repo))


def test_an_edit_that_keeps_size_and_mtime_is_still_seen(repo, work):
    run(repo)
    path = os.path.join(repo, "services/svc-0/k8s/deployment.yaml")
    st = os.stat(path)
    _edit(repo, "services/svc-0/k8s/deployment.yaml", "replicas: 1", "replicas: 3")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    hit, result = replayed(work, repo)
    assert not hit and findings(result) == findings(full_run(work, repo))


def test_a_rule_pack_change_makes_a_full_run(repo, work, tmp_path):
    pack = tmp_path / "pack" / "ORG001-no-latest"
    pack.mkdir(parents=True)
    rule = (pack / "rule.py")
    source = '''from prr_lint.model import Hit
from prr_lint.rule import rule


@rule(id="ORG001", name="no-latest", summary="Deployments are reviewed by the platform team.",
      why="The platform team keeps a list of every Deployment.", fix="Ask the platform team for a review.",
      targets=["k8s"], tags=[], severity="warning", since="0.1.0")
def check(doc, ctx):
    if doc.get(("kind",)) == "Deployment":
        yield Hit(doc, ("kind",), "MESSAGE")
'''
    rule.write_text(source.replace("MESSAGE", "first"))
    with open(os.path.join(repo, ".prr-lint.yaml"), "a") as fh:
        fh.write(f"rule_paths: [{tmp_path / 'pack'}]\n")
    assert {f[4] for f in findings(run(repo)) if f[0] == "ORG001"} == {"first"}
    assert replayed(work, repo)[0]
    rule.write_text(source.replace("MESSAGE", "second"))
    hit, result = replayed(work, repo)
    assert not hit and {f[4] for f in findings(result) if f[0] == "ORG001"} == {"second"}


def test_never_replayed_without_the_cache_with_a_policy_server_or_after_errors(repo, work, monkeypatch):
    run(repo, use_cache=False)
    assert entries(repo) == []
    run(repo)
    assert replayed(work, repo)[0]
    assert not replayed(work, repo, use_cache=False)[0]

    def server(options):
        options.policy_runtime = SimpleNamespace(settings=SimpleNamespace(opa_url="http://127.0.0.1:1"), files=[])

    assert not replayed(work, repo, tweak=server)[0]

    # a rule whose environment fails (exit 2): its result is never kept, and the next run is a full run
    from prr_lint import engine as engine_module

    load_rules = engine_module.load_rules

    def failing_pack(*args, **kwargs):
        rules = load_rules(*args, **kwargs)
        for r in rules:
            if r.id == "K8S002":
                def check(doc, ctx):
                    raise OSError("a service the rule needs went away")
                r.check = check
        return rules

    os.remove(entries(repo)[0])
    monkeypatch.setattr(engine_module, "load_rules", failing_pack)
    for _ in range(2):
        hit, result = replayed(work, repo)
        assert not hit and result.errors and exit_code(result, "error") == 2
        assert entries(repo) == []
    monkeypatch.setattr(engine_module, "load_rules", load_rules)
    assert not replayed(work, repo)[0] and replayed(work, repo)[0]


def test_rules_handed_over_in_process_are_never_replayed(repo, work):
    from prr_lint.rule import Rule

    def extra(options):
        options.extra_rules.append(Rule("ORG002", "in-process", "s", "w", "f", ["k8s"], [],
                                        dict.fromkeys(range(4), "info"), "0.1.0", check=lambda doc, ctx: (),
                                        origin="user"))

    run(repo, tweak=extra)
    assert not replayed(work, repo, tweak=extra)[0] and entries(repo) == []


def test_a_forged_or_foreign_entry_is_a_miss(repo, work, tmp_path):
    expected = findings(run(repo))
    (path,) = entries(repo)
    pristine = open(path, "rb").read()
    forged = pristine.replace(b'"K8S', b'"XXX', 1)
    assert forged != pristine
    open(path, "wb").write(forged)
    hit, result = replayed(work, repo)
    assert not hit and findings(result) == expected
    # a whole entry signed with another key (an attacker's, committed with the tree) is a miss too
    other = tmp_path / "other-home"
    os.environ["XDG_CACHE_HOME"] = str(other)
    try:
        run(repo)
        (foreign,) = entries(repo)
    finally:
        os.environ["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    open(path, "wb").write(open(foreign, "rb").read())
    hit, result = replayed(work, repo)
    assert not hit and findings(result) == expected


def test_entries_are_bounded(repo):
    for day in range(replay.KEEP + 3):
        os.environ["PRR_LINT_TODAY"] = (datetime.date(2026, 11, 1) + datetime.timedelta(days=day)).isoformat()
        run(repo)
    os.environ["PRR_LINT_TODAY"] = TODAY
    assert len(entries(repo)) == replay.KEEP


def test_reports_from_the_command_line_are_the_same_bytes_replayed(repo, tmp_path):
    home = {"XDG_CACHE_HOME": str(tmp_path / "cli-cache")}
    for argv in (["check", "-f", "json"], ["check", "-f", "markdown"], ["report", "-f", "html"]):
        reference = run_cli(*argv, repo, env={**home, "PRR_LINT_NO_REPLAY": "1"})
        first = run_cli(*argv, repo, env=home)
        second = run_cli(*argv, repo, env=home)
        assert second.returncode == first.returncode == reference.returncode
        assert second.stdout == first.stdout == reference.stdout, argv
    assert len(glob.glob(os.path.join(cache.default_directory(home["XDG_CACHE_HOME"], repo), "replay-*.json"))) == 1


def test_the_commit_is_read_from_loose_and_packed_refs(repo):
    loose = replay._git_state(repo)[0]
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True).stdout.strip()
    assert loose.startswith(head + " ")
    git(repo, "pack-refs", "--all")
    assert replay._git_state(repo)[0] == loose
    git(repo, "commit", "-q", "--allow-empty", "-m", "next")
    assert replay._git_state(repo)[0] != loose
    assert replay._git_state(os.path.join(repo, "services")) == ("no git", None)


def test_a_rego_policy_change_makes_a_full_run(repo, work, tmp_path):
    policy = tmp_path / "policy" / "deploy.rego"
    policy.parent.mkdir()
    source = ('package main\nimport rego.v1\n'
              'deny contains "MESSAGE" if input.kind == "Deployment"\n')
    policy.write_text(source.replace("MESSAGE", "first"))
    messages = lambda result: {f[4] for f in findings(result) if f[4] in ("first", "second")}  # noqa: E731
    assert messages(run(repo, "--policy", str(policy.parent))) == {"first"}
    hit, result = replayed(work, repo, "--policy", str(policy.parent))
    assert hit and messages(result) == {"first"}
    policy.write_text(source.replace("MESSAGE", "second"))
    hit, result = replayed(work, repo, "--policy", str(policy.parent))
    assert not hit and messages(result) == {"second"}


def test_unchanged_files_are_not_read_again_to_check_them(repo, work, monkeypatch):
    run(repo)
    hashed = []
    digest = replay._read_digest

    def counting(path, max_size):
        hashed.append(os.path.relpath(path, repo))
        return digest(path, max_size)

    monkeypatch.setattr(replay, "_read_digest", counting)
    file_digest = replay._file_digest

    def counting_files(path, rel, how, stamp, max_size):
        if how is not None:         # a parsed file: hashed by its content key, not _read_digest
            hashed.append(rel)
        return file_digest(path, rel, how, stamp, max_size)

    monkeypatch.setattr(replay, "_file_digest", counting_files)
    config = [".prr-lint.yaml"]     # read for the key, as the CLI reads it for the run
    assert replayed(work, repo)[0] and hashed == config
    # a run on a path has its own entry; the whole run's entry vouches for the files' stamps
    run(repo, os.path.join(repo, "services/svc-0"))
    assert hashed == config * 2
    _edit(repo, "services/svc-0/k8s/deployment.yaml", "replicas: 1", "replicas: 3")
    assert not replayed(work, repo)[0] and hashed == config * 3 + ["services/svc-0/k8s/deployment.yaml"]


def test_hostile_file_names_replay_the_same_bytes(repo, work):
    names = [os.fsencode(repo) + b"/services/svc-0/k8s/bad-\xff.yaml",
             os.fsencode(repo) + b"/services/svc-0/k8s/line\nbreak ##vso[x].yaml"]
    for name in names:
        with open(name, "w") as fh:
            fh.write(BARE_DEPLOYMENT)
    first = run(repo)
    hit, second = replayed(work, repo)
    assert hit
    reference = full_run(work, repo)
    files = {f.file for f in reference.findings}
    assert any("bad-" in f for f in files) and any("line\nbreak" in f for f in files), files
    for fmt in FORMATS:
        assert render(fmt, second) == render(fmt, reference) == render(fmt, first), fmt


WAIVERS = """waivers:
  - rule: K8S002
    target: {service: svc-0}
    reason: memory limit comes from the namespace LimitRange
    owner: team-0
    expires: 2027-01-31
  - rule: TF001
    target: {path: "services/svc-1/infra/*.tf"}
    reason: backups are kept by the platform
    owner: team-1
    expires: 2026-11-01
"""


def test_waived_findings_and_expired_waivers_replay_the_same_bytes(repo, work):
    _write(repo, ".prr-waivers.yaml", WAIVERS)
    first = run(repo)
    assert any(f.suppression is not None for f in first.findings)
    assert any(f.rule_id == "PRR002" for f in first.findings)            # the expired waiver
    hit, second = replayed(work, repo)
    assert hit
    reference = full_run(work, repo)
    for fmt in FORMATS:
        assert render(fmt, second) == render(fmt, reference), fmt
    assert render("text", second, show_suppressed=True) == render("text", reference, show_suppressed=True)


def test_a_baseline_run_replays_the_same_bytes_and_a_baseline_change_is_seen(repo, work, tmp_path):
    baseline = str(tmp_path / "baseline.json")
    written = run_cli("baseline", "-o", baseline, repo, env={"PRR_LINT_NO_REPLAY": "1"})
    assert written.returncode == 0, written.stderr
    first = run(repo, "--baseline", baseline)
    assert first.baseline is not None and first.baseline.matched > 0
    hit, second = replayed(work, repo, "--baseline", baseline)
    assert hit and second.baseline == first.baseline
    reference = full_run(work, repo, "--baseline", baseline)
    for fmt in FORMATS:
        assert render(fmt, second) == render(fmt, reference), fmt
    # a baseline of parse errors only (there are none): every finding reported again
    empty = run_cli("baseline", "-o", baseline, "--select", "PRR000", repo, env={"PRR_LINT_NO_REPLAY": "1"})
    assert empty.returncode == 0, empty.stderr
    hit, changed = replayed(work, repo, "--baseline", baseline)
    assert not hit and changed.baseline.matched < first.baseline.matched


def test_a_first_run_reads_each_parsed_file_once_and_hashes_only_the_others(repo, work, monkeypatch):
    reads = []
    read_bytes = repo_module.read_bytes

    def counting_reads(path, max_size):
        reads.append(os.path.relpath(path, repo))
        return read_bytes(path, max_size)

    hashed = []
    digest = replay._read_digest

    def counting_digests(path, max_size):
        hashed.append(os.path.relpath(path, repo))
        return digest(path, max_size)

    monkeypatch.setattr(repo_module, "read_bytes", counting_reads)
    monkeypatch.setattr(replay, "read_bytes", counting_reads)
    monkeypatch.setattr(replay, "_read_digest", counting_digests)
    run(repo)
    listed = sorted(repo_module.Repository(repo).files)
    parsed = sorted(repo_module.Repository(repo).candidates)
    assert len(parsed) > 10 and sorted(reads) == parsed
    # the other listed files (runbooks, templates, this config for the key) are hashed once, before the run
    assert sorted(hashed) == sorted([rel for rel in listed if rel not in parsed] + [".prr-lint.yaml"])
    # what the entry holds for a parsed file is the key the parse computed; unchanged, the next run replays
    (path,) = entries(repo)
    entry = cache.read_signed(cache.load_key(os.path.join(os.environ["XDG_CACHE_HOME"], "prr-lint")),
                              os.path.dirname(path), os.path.basename(path))
    rows = dict(zip(entry["files"], entry["table"], strict=True))
    rel = "services/svc-0/k8s/deployment.yaml"
    raw = open(os.path.join(repo, rel), "rb").read()
    assert rows[rel][1] == cache.content_key(rel, "yaml", entry["max_size"], raw)
    assert replayed(work, repo)[0]
    _edit(repo, rel, "replicas: 1", "replicas: 3")
    hit, result = replayed(work, repo)
    assert not hit and findings(result) == findings(full_run(work, repo))


def test_a_file_the_run_did_not_read_and_that_changed_meanwhile_is_never_replayed(repo, work, monkeypatch):
    """A parsed file the run did not read is hashed after the run only if its stamp is unchanged (a first run
    on a path reads every file to know its kinds: the test takes one file's key away)."""
    rel = "services/svc-1/k8s/deployment.yaml"
    complete = replay.Replay._complete

    def edit_then_complete(self, table, keys):
        del keys[rel]
        _edit(repo, rel, "name: svc-1\n", "name: svc-1  # edited\n")
        return complete(self, table, keys)

    monkeypatch.setattr(replay.Replay, "_complete", edit_then_complete)
    run(repo, os.path.join(repo, "services/svc-0"))
    monkeypatch.setattr(replay.Replay, "_complete", complete)
    (path,) = entries(repo)
    entry = cache.read_signed(cache.load_key(os.path.join(os.environ["XDG_CACHE_HOME"], "prr-lint")),
                              os.path.dirname(path), os.path.basename(path))
    assert dict(zip(entry["files"], entry["table"], strict=True))[rel] == [None, replay.UNREAD]
    assert not replayed(work, repo, os.path.join(repo, "services/svc-0"))[0]


def test_the_repository_takes_the_stamps_replay_took_of_the_listing(repo, work, monkeypatch):
    """The stamps replay takes of the listed files before the run are the Repository's: no second lstat pass."""
    parsed = set(repo_module.Repository(repo).candidates)
    asked: list = []
    check_files, lstat = repo_module.check_files, os.lstat
    inside: list = []

    def counting(*args, **kwargs):      # the files the Repository's own pass lstat-s
        inside.append(True)
        try:
            return check_files(*args, **kwargs)
        finally:
            inside.pop()

    def counted_lstat(path, *args, **kwargs):
        if inside:
            asked.append(os.path.relpath(path, repo))
        return lstat(path, *args, **kwargs)

    monkeypatch.setattr(repo_module, "check_files", counting)
    monkeypatch.setattr(os, "lstat", counted_lstat)
    os.symlink("deployment.yaml", os.path.join(repo, "services/svc-0/k8s/linked.yaml"))
    run(repo)
    # none of the files replay stamped is looked at again; a symlink is (where it leads)
    # (resolving the link lstat-s the path to its target, deployment.yaml)
    assert len(parsed) > 10 and set(asked) & parsed == {"services/svc-0/k8s/deployment.yaml"}
    assert "services/svc-0/k8s/linked.yaml" in asked
    del asked[:]
    run(repo, use_cache=False)      # no replay: the Repository's own pass
    assert set(asked) >= parsed | {"services/svc-0/k8s/linked.yaml"}
