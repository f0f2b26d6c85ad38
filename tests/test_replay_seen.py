"""A run on files that changed since the last run on the same paths goes without replay: no listing stamped for
it, no entry decoded or stored (replay._seen_before); a replayed run reads its entry and stamps the listed files
while git lists them. Counted: entries read and written, stamps and when, rule checks; the findings are always
those of a run without any cache."""

import os

from test_replay import entries, findings, repo, work  # noqa: F401  (fixtures)

from prr_lint import cache, cli, replay
from prr_lint.engine import run as engine_run

EDITED = "services/svc-0/k8s/deployment.yaml"


def _edit(root: str, text: str = "# edited\n") -> None:
    with open(os.path.join(root, EDITED), "a", encoding="utf-8") as fh:
        fh.write(text)


def run(*paths: str, use_cache: bool = True):
    """The Result of `prr-lint check PATHS` in-process, as the CLI makes it (replay on unless without cache)."""
    options = cli.make_options(cli.build_parser().parse_args(["check", *paths] + ([] if use_cache else ["--no-cache"])))
    options.replay = cli.replay_environment() if use_cache else None
    return engine_run(options)


def full_run(work, *paths: str):  # noqa: F811
    before = work.checks
    result = run(*paths, use_cache=False)
    assert work.checks > before
    return result


def replayed(work, *paths: str):  # noqa: F811
    before = (work.checks, work.loads, work.parses)
    result = run(*paths)
    return (work.checks, work.loads, work.parses) == before, result


def _signed_reads(monkeypatch) -> list[str]:
    names: list[str] = []
    read = replay.read_signed

    def counted(key, directory, name):
        names.append(name)
        return read(key, directory, name)

    monkeypatch.setattr(replay, "read_signed", counted)
    return names


def test_an_edited_file_is_checked_without_replay_then_replayed_once_seen_again(repo, work, monkeypatch):  # noqa: F811
    path = os.path.join(repo, EDITED)
    read = _signed_reads(monkeypatch)
    first = run(path)             # never run on this path: no replay, nothing stored
    assert read == [replay.SEEN] and entries(repo) == []
    assert findings(first) == findings(full_run(work, path))
    run(path)                     # the same content again: the replay's way, a miss that stores its result
    assert len(entries(repo)) == 1
    hit, again = replayed(work, path)
    assert hit and findings(again) == findings(first)

    _edit(repo)
    del read[:]
    edited = run(path)                  # changed since: stored entries cannot hit, none is decoded or written
    assert read == [replay.SEEN] and len(entries(repo)) == 1
    assert findings(edited) == findings(full_run(work, path))
    assert not replayed(work, path)[0]  # seen again: a full run, whose result replaces the entry
    hit, again = replayed(work, path)
    assert hit and findings(again) == findings(edited)


def test_a_touched_file_with_the_same_bytes_is_still_replayed(repo, work):  # noqa: F811
    path = os.path.join(repo, EDITED)
    run(path)
    run(path)
    stamp = os.stat(path)
    os.utime(path, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 10**9))
    assert replayed(work, path)[0]


def test_a_run_on_a_directory_or_the_whole_tree_is_not_held_back(repo, work, monkeypatch):  # noqa: F811
    read = _signed_reads(monkeypatch)
    directory = os.path.join(repo, "services/svc-0")
    run(directory)
    run(repo)
    assert replay.SEEN not in read
    assert replayed(work, directory)[0] and replayed(work, repo)[0]


def test_a_forged_or_broken_record_of_seen_paths_is_no_error(repo, work):  # noqa: F811
    path = os.path.join(repo, EDITED)
    expected = findings(full_run(work, path))
    run(path)
    seen = os.path.join(cache.default_directory(os.environ["XDG_CACHE_HOME"], repo), replay.SEEN)
    assert os.path.isfile(seen)
    for text in ("not signed", "", "prr-lint-cache\nforged\n{}"):
        with open(seen, "w", encoding="utf-8") as fh:
            fh.write(text)
        assert findings(run(path)) == expected
        assert entries(repo) == []          # not what a run on these paths saw: the next run is a first sighting


def test_a_warm_run_reads_its_entry_and_stamps_the_listed_files_while_git_lists(repo, work, monkeypatch):  # noqa: F811
    from prr_lint import discover

    expected = findings(run(repo))
    listed = {os.path.join(repo, rel) for rel in discover.list_files(repo, [""], [], [])}
    events: list[str] = []
    read, lstat, popen = replay.read_signed, os.lstat, discover.subprocess.Popen

    class Listing(popen):
        def communicate(self, *args, **kwargs):
            if "ls-files" in self.args:
                events.append("git read")
            return super().communicate(*args, **kwargs)

    def counted_read(key, directory, name):
        if name.startswith(replay.PREFIX):
            events.append("entry")
        return read(key, directory, name)

    stamped_first: set = set()

    def counted_lstat(path, *args, **kwargs):
        if os.fspath(path) in listed:
            events.append("lstat")
            if "git read" not in events:
                stamped_first.add(os.fspath(path))
        return lstat(path, *args, **kwargs)

    monkeypatch.setattr(discover.subprocess, "Popen", Listing)
    monkeypatch.setattr(replay, "read_signed", counted_read)
    monkeypatch.setattr(os, "lstat", counted_lstat)
    hit, again = replayed(work, repo)
    assert hit and findings(again) == expected
    # the entry is decoded and every file it lists stamped before git's answer is read; none stamped again after
    answer = events.index("git read")
    assert events[:answer].count("entry") == 1 and stamped_first == listed
    assert "lstat" not in events[answer:] and "entry" not in events[answer:]
