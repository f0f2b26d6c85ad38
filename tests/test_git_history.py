"""File history through gitpython: last-commit dates, uncommitted changes, shallow clones, no git at all;
and how SVC022 turns them into findings or run notes."""

import datetime
import os
import subprocess

import pytest

from prr_lint import git
from prr_lint.config import Config
from prr_lint.engine import Options, run

ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "test",
       "GIT_AUTHOR_EMAIL": "test@prr-lint.invalid", "GIT_COMMITTER_NAME": "test",
       "GIT_COMMITTER_EMAIL": "test@prr-lint.invalid"}
TODAY = datetime.date(2026, 11, 1)
SERVICE = """apiVersion: prr-lint/v1
kind: Service
metadata: {name: checkout, owner: team-payments, tier: 1}
spec:
  runbooks: [docs/runbook.md]
"""


def sh(cwd, *args, date=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(ENV)
    if date:
        env.update(GIT_AUTHOR_DATE=f"{date}T12:00:00+00:00", GIT_COMMITTER_DATE=f"{date}T12:00:00+00:00")
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def commit(repo, files, date):
    for rel, text in files.items():
        path = os.path.join(repo, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as fh:
            fh.write(text)
        sh(repo, "add", rel)
    sh(repo, "commit", "-q", "-m", f"at {date}", date=date)


def make_repo(tmp_path):
    repo = str(tmp_path / "repo")
    os.makedirs(repo)
    sh(repo, "init", "-q", "-b", "main")
    commit(repo, {"docs/runbook.md": "# Runbook\n", "service.yaml": SERVICE}, "2025-01-10")
    commit(repo, {"docs/other.md": "# Other\n"}, "2026-03-05")
    commit(repo, {"docs/runbook.md": "# Runbook\n\nreviewed\n"}, "2025-06-01")  # committer dates need not be ordered
    return repo


def test_last_change_per_file(tmp_path):
    repo = make_repo(tmp_path)
    history = git.History(repo)
    assert history.available and not history.shallow
    assert history.last_change("docs/runbook.md") == git.LastChange(datetime.date(2025, 6, 1))
    assert history.last_change("docs/other.md").date == datetime.date(2026, 3, 5)
    with open(os.path.join(repo, "docs/other.md"), "a") as fh:
        fh.write("edited\n")
    with open(os.path.join(repo, "docs/new.md"), "w") as fh:
        fh.write("# New\n")
    fresh = git.History(repo)
    assert fresh.last_change("docs/other.md").pending           # modified, not committed
    assert fresh.last_change("docs/new.md").pending             # untracked
    assert fresh.last_change("docs/runbook.md").date == datetime.date(2025, 6, 1)


def test_paths_are_relative_to_the_lint_root_not_the_git_top_level(tmp_path):
    repo = make_repo(tmp_path)
    history = git.History(os.path.join(repo, "docs"))
    assert history.last_change("runbook.md").date == datetime.date(2025, 6, 1)


def test_history_is_cached_in_the_memo(tmp_path):
    memo = {}
    repo = make_repo(tmp_path)
    assert git.history(repo, memo) is git.history(repo, memo)


def test_no_git_and_no_commits(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    history = git.History(str(plain))
    assert not history.available and "not inside a git work tree" in history.reason
    assert history.last_change("x.md") is None
    empty = tmp_path / "empty"
    empty.mkdir()
    sh(str(empty), "init", "-q")
    assert not git.History(str(empty)).available


def test_shallow_clone_marks_boundary_commits_inexact(tmp_path):
    repo = make_repo(tmp_path)
    clone = str(tmp_path / "clone")
    sh(str(tmp_path), "clone", "-q", "--depth", "1", "file://" + repo, clone)
    history = git.History(clone)
    assert history.shallow
    change = history.last_change("docs/runbook.md")
    assert change.date == datetime.date(2025, 6, 1) and not change.exact   # HEAD is the boundary


def check(root):
    options = Options(paths=[root], config=Config(), root=root, select=["SVC022"], today=TODAY, use_cache=False)
    result = run(options)
    assert not result.errors
    return [(f.rule_id, f.file, f.span.line, f.message) for f in result.findings], result.notices


def test_svc022_stale_runbook_in_full_history(tmp_path):
    findings, notices = check(make_repo(tmp_path))
    assert [(r, f, line) for r, f, line, _ in findings] == [("SVC022", "service.yaml", 5)]
    assert "last changed 518 days ago (2025-06-01), more than the 365 days allowed for tier 1" in findings[0][3]
    assert notices == []


def test_svc022_outside_git_is_one_note_not_a_finding(tmp_path):
    root = tmp_path / "plain"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "runbook.md").write_text("# Runbook\n")
    (root / "service.yaml").write_text(SERVICE)
    (root / "other").mkdir()
    (root / "other" / "service.yaml").write_text(SERVICE.replace("checkout", "search").replace(
        "docs/runbook.md", "../docs/runbook.md"))
    findings, notices = check(str(root))
    assert findings == []
    assert len(notices) == 1 and notices[0][0] == "." and "SVC022" in notices[0][1] \
        and "not inside a git work tree" in notices[0][1]


@pytest.mark.slow
def test_svc022_shallow_clone(tmp_path):
    repo = make_repo(tmp_path)
    # the boundary commit (HEAD, 2025-06-01) is already too old: reported, with "at least"
    clone = str(tmp_path / "clone")
    sh(str(tmp_path), "clone", "-q", "--depth", "1", "file://" + repo, clone)
    findings, notices = check(clone)
    assert len(findings) == 1 and "at least 518 days" in findings[0][3] and notices == []
    # a newer boundary commit hides the runbook's real age: a note, no finding
    commit(repo, {"README.md": "# Shop\n"}, "2026-10-30")
    clone2 = str(tmp_path / "clone2")
    sh(str(tmp_path), "clone", "-q", "--depth", "1", "file://" + repo, clone2)
    findings, notices = check(clone2)
    assert findings == [] and len(notices) == 1 and "shallow clone" in notices[0][1]
    # with the full history the same runbook is found stale
    sh(clone2, "fetch", "-q", "--unshallow")
    findings, notices = check(clone2)
    assert len(findings) == 1 and "at least" not in findings[0][3]


def test_a_narrow_run_looks_up_a_few_paths_alone_then_the_work_tree_once(tmp_path, monkeypatch):
    """A one-file run asks about one service's runbooks: each is looked up alone (a status of the whole work tree
    lists every file in it), up to NARROW_LOOKUPS paths; then one status of the whole work tree answers the rest."""
    repo = make_repo(tmp_path)
    names = [f"docs/r{i}.md" for i in range(git.NARROW_LOOKUPS + 2)]
    commit(repo, {name: "# Runbook\n" for name in names}, "2026-01-01")
    with open(os.path.join(repo, names[1]), "a") as fh:
        fh.write("edited\n")
    with open(os.path.join(repo, "docs", "new.md"), "w") as fh:
        fh.write("# New\n")
    statuses = []
    original = git.History._status

    def counted(self, *pathspec):
        statuses.append(pathspec)
        return original(self, *pathspec)

    monkeypatch.setattr(git.History, "_status", counted)
    history = git.History(repo, narrow=True)
    asked = [history.last_change(name).pending for name in names[:git.NARROW_LOOKUPS]]
    assert asked == [False, True] + [False] * (git.NARROW_LOOKUPS - 2)
    assert history.last_change(names[1]).pending                      # answered again without a process
    assert len(statuses) == git.NARROW_LOOKUPS and all(len(p) == 2 for p in statuses)
    assert history.last_change("docs/new.md").pending and not history.last_change(names[-1]).pending
    assert statuses[git.NARROW_LOOKUPS:] == [()]                       # the whole work tree, once


def test_a_whole_run_takes_untracked_files_from_its_listing_not_a_second_walk(tmp_path, monkeypatch):
    """Tracked changes come from `git status --untracked-files=no`; untracked files are the listed ones git does
    not track. The answers are those of a full status: the listing walked the work tree already."""
    import git as gitpython

    from prr_lint.discover import list_files

    repo = make_repo(tmp_path)
    commit(repo, {"docs/removed.md": "# Gone from the index\n"}, "2025-02-01")
    sh(repo, "rm", "-q", "--cached", "docs/removed.md")         # in history, untracked now
    with open(os.path.join(repo, "docs/other.md"), "a") as fh:
        fh.write("edited\n")
    with open(os.path.join(repo, "docs/new.md"), "w") as fh:
        fh.write("# New\n")
    paths = ["docs/runbook.md", "docs/other.md", "docs/new.md", "docs/removed.md", "service.yaml"]
    commands = []
    original = gitpython.cmd.safer_popen

    def recorded(command, *args, **kwargs):
        commands.append(command)
        return original(command, *args, **kwargs)

    monkeypatch.setattr(gitpython.cmd, "safer_popen", recorded)
    listed = git.History(repo, listed=list_files(repo, [""], [], []))
    answers = [listed.last_change(p).pending for p in paths]
    statuses = [c for c in commands if "status" in c]
    assert len(statuses) == 1 and "--untracked-files=no" in statuses[0]
    full = git.History(repo)
    assert answers == [full.last_change(p).pending for p in paths] == [False, True, True, True, False]
    assert "--untracked-files=all" in [c for c in commands if "status" in c][-1]
