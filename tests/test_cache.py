"""The parse cache trusts nothing it did not write: no pickle, an HMAC on every file, content keys, and a
location outside the checked tree unless the command line or the environment says otherwise."""

import datetime
import glob
import json
import os
import pickle
import shutil
import stat
import subprocess
import sys

import pytest

from prr_lint import cache
from prr_lint.cache import ParseCache, content_key, decode_loaded, default_directory, encode_loaded, read_signed
from prr_lint.loaders import Loaded
from prr_lint.loaders.errors import LoadError
from prr_lint.model import Document, Span

from conftest import ROOT, run_cli, write

SAMPLE = os.path.join(ROOT, "examples", "monorepo")
GOLDEN_REPO = os.path.join(ROOT, "tests", "data", "golden-repo")

MANIFEST = """apiVersion: prr-lint/v1
kind: Service
metadata:
  name: api
  tier: 0
  owner: team-api
"""
DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: {replicas}
  template:
    spec:
      containers:
        - name: api
          image: api:1.0
          resources:
            limits: {{memory: 256Mi}}
"""


@pytest.fixture
def home(tmp_path):
    """A private user cache directory for the run (the key lives there)."""
    path = tmp_path / "xdg-cache"
    path.mkdir()
    return path


def prr(home, *args, env=None, cwd=None):
    # runs that test the parse cache itself: no result replay (test_replay.py tests that)
    return run_cli(*args, cwd=cwd, env={"XDG_CACHE_HOME": str(home), "PRR_LINT_CACHE_DIR": "",
                                        "PRR_LINT_ALLOW_CONFIG_CACHE_DIR": "", "PRR_LINT_NO_REPLAY": "1",
                                        **(env or {})})


def git_init(base):
    """A work tree, so that a one-file run has the repository as its root."""
    subprocess.run(["git", "init", "-q", str(base)], check=True)
    return base


def small_repo(base, replicas=1):
    write(base, {"services/api/service.yaml": MANIFEST,
                 "services/api/k8s/deployment.yaml": DEPLOY.format(replicas=replicas)})
    return git_init(base)


def cache_files(home, repo):
    return sorted(glob.glob(os.path.join(default_directory(str(home), str(repo)), "*.json")))


def findings(proc):
    assert proc.returncode in (0, 1), proc.stderr
    return [(f["rule"], f["file"], f["line"]) for f in json.loads(proc.stdout)["findings"]]


# -- the committed-pickle attack ---------------------------------------------------------------
class _Touch:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):  # unpickling this opens (creates) the file: code from the repository runs
        return (open, (self.path, "w"))


@pytest.mark.parametrize("command", ["check", "gate"])
@pytest.mark.slow
def test_committed_pickles_never_run(tmp_path, home, command):
    repo = small_repo(tmp_path / "repo")
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Touch(str(marker)))
    rel = "services/api/k8s/deployment.yaml"
    raw = (repo / rel).read_bytes()
    import hashlib

    key = hashlib.blake2b(rel.encode() + b"\0" + raw, digest_size=16).hexdigest()   # the old layout's key
    write(repo, {".prr-lint-cache/index.pickle": payload, f".prr-lint-cache/docs/{key[:2]}/{key}.pickle": payload,
                 ".prr-lint.yaml": "cache_dir: .prr-lint-cache\n"})
    for extra in ([], ["--allow-config-cache-dir"], ["--cache-dir", str(repo / ".prr-lint-cache")]):
        proc = prr(home, command, *extra, str(repo))
        assert proc.returncode in (0, 1), proc.stderr
        assert not marker.exists(), f"{command} {extra} unpickled a file from the repository"
    assert not any(p.endswith(".pickle") for p in glob.glob(os.path.join(str(home), "**"), recursive=True))


def test_the_cache_module_never_imports_pickle():
    code = "import sys, prr_lint.cache, prr_lint.repo, prr_lint.engine; print('pickle' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# -- authentication ----------------------------------------------------------------------------
def _forge_tier(directory, name, key=None):
    """Rewrite the cached manifest to tier 3 (no replica minimum); sign with `key`, or keep the old MAC."""
    path = os.path.join(directory, name)
    with open(path, "rb") as fh:
        magic, mac, payload = fh.read().split(b"\n", 2)
    data = json.loads(payload)
    (entry,) = data.values()
    entry[3][0][4]["metadata"]["tier"] = 3
    payload = json.dumps(data).encode()
    if key is not None:
        mac = cache._mac(key, name, payload)
    with open(path, "wb") as fh:
        fh.write(magic + b"\n" + mac + b"\n" + payload)


@pytest.mark.slow
def test_forged_cache_without_the_right_mac_is_ignored(tmp_path, home):
    repo = small_repo(tmp_path / "repo")
    expected = findings(prr(home, "check", "-f", "json", "--no-cache", str(repo)))
    assert ("K8S005", "services/api/k8s/deployment.yaml", 6) in expected    # tier 0 wants 3 replicas
    assert findings(prr(home, "check", "-f", "json", str(repo))) == expected
    directory = default_directory(str(home), str(repo))
    index = os.path.basename(glob.glob(os.path.join(directory, "docs-*-ctx.json"))[0])
    pristine = open(os.path.join(directory, index), "rb").read()

    _forge_tier(directory, index)                                           # the MAC no longer matches
    assert findings(prr(home, "check", "-f", "json", str(repo))) == expected
    open(os.path.join(directory, index), "wb").write(pristine)
    _forge_tier(directory, index, key=b"k" * 32)                            # signed with another key
    assert findings(prr(home, "check", "-f", "json", str(repo))) == expected

    # control: the same forgery under the real key would change the findings, so the MAC is what stops it
    open(os.path.join(directory, index), "wb").write(pristine)
    _forge_tier(directory, index, key=(home / "prr-lint" / "key").read_bytes())
    assert findings(prr(home, "check", "-f", "json", str(repo))) != expected


@pytest.mark.slow
def test_a_validly_signed_cache_committed_to_the_tree_is_not_trusted(tmp_path, home):
    """An attacker can build a cache with their own key and commit it; pointing --cache-dir at it changes nothing."""
    repo = small_repo(tmp_path / "repo")
    expected = findings(prr(home, "check", "-f", "json", "--no-cache", str(repo)))
    evil_home = tmp_path / "attacker"
    committed = repo / "committed-cache"
    prr(evil_home, "check", "--cache-dir", str(committed), str(repo))
    index = os.path.basename(glob.glob(str(committed / "docs-*-ctx.json"))[0])
    _forge_tier(str(committed), index, key=(evil_home / "prr-lint" / "key").read_bytes())
    assert findings(prr(evil_home, "check", "-f", "json", "--cache-dir", str(committed), str(repo))) != expected
    assert findings(prr(home, "check", "-f", "json", "--cache-dir", str(committed), str(repo))) == expected


def _hostile_variants(directory):
    """Ways a cache file can be broken or not ours, each applied to a fresh copy of the cache."""
    def truncate(path):
        data = open(path, "rb").read()
        open(path, "wb").write(data[: len(data) // 2])

    def flip(path):
        data = bytearray(open(path, "rb").read())
        data[-3] ^= 0x20
        open(path, "wb").write(bytes(data))

    def other_version(path):
        data = open(path, "rb").read()
        open(path, "wb").write(data.replace(cache.MAGIC, b"prr-lint-cache 3 0.0.1", 1))

    def garbage(path):
        open(path, "wb").write(b"\x80\x04\x95 not json at all \xff" * 10)

    def empty(path):
        open(path, "wb").close()

    def directory_instead(path):
        os.unlink(path)
        os.mkdir(path)

    def symlink_out(path):
        os.unlink(path)
        os.symlink("/dev/zero", path)

    def fifo(path):
        os.unlink(path)
        os.mkfifo(path)

    return [truncate, flip, other_version, garbage, empty, directory_instead, symlink_out, fifo]


@pytest.mark.parametrize("variant", range(8))
@pytest.mark.slow
def test_truncated_corrupt_and_foreign_cache_files_are_misses(tmp_path, home, variant):
    repo = small_repo(tmp_path / "repo")
    expected = prr(home, "check", "-f", "json", "--no-cache", str(repo))
    prr(home, "check", "-f", "json", str(repo))
    files = cache_files(home, repo)
    assert any("index-" in f for f in files) and any("docs-" in f for f in files)
    for path in files:
        _hostile_variants(os.path.dirname(path))[variant](path)
    proc = prr(home, "check", "-f", "json", str(repo))
    assert (proc.returncode, proc.stdout, proc.stderr) == (expected.returncode, expected.stdout, expected.stderr)


def test_a_cache_of_the_previous_format_is_a_miss_and_is_written_again(tmp_path, home):
    """Format 7 wrote ASCII-escaped JSON with json.dumps; format 8 writes orjson's UTF-8. Files of the old format,
    signed with the key as that version signed them, are misses: the run parses again and writes the new form."""
    import hashlib
    import hmac

    repo = small_repo(tmp_path / "repo")
    expected = prr(home, "check", "-f", "json", "--no-cache", str(repo))
    prr(home, "check", "-f", "json", str(repo))
    key = (home / "prr-lint" / "key").read_bytes()
    old_magic = cache.MAGIC.replace(b"prr-lint-cache 8 ", b"prr-lint-cache 7 ")
    assert cache.FORMAT == 8 and old_magic != cache.MAGIC
    files = cache_files(home, repo)
    assert any("docs-" in f for f in files)
    for path in files:
        payload = json.dumps(read_signed(key, os.path.dirname(path), os.path.basename(path), json.loads)).encode()
        mac = hmac.new(key, old_magic + b"\n" + os.path.basename(path).encode() + b"\n" + payload, hashlib.sha256)
        with open(path, "wb") as fh:
            fh.write(old_magic + b"\n" + mac.hexdigest().encode() + b"\n" + payload)
    proc = prr(home, "check", "-f", "json", str(repo))
    assert (proc.returncode, proc.stdout, proc.stderr) == (expected.returncode, expected.stdout, expected.stderr)
    for path in cache_files(home, repo):       # written again, in the new format
        with open(path, "rb") as fh:
            assert fh.readline() == cache.MAGIC + b"\n", path


def test_the_cache_is_utf8_json_that_reads_back_exactly(tmp_path):
    text = "caf\u00e9 \u2713 \U0001f680"
    store = ParseCache(str(tmp_path), b"k" * 32)
    doc = Document("k8s", "app/x.yaml", {"kind": "ConfigMap", text: [text, 1.5, -0.0, 2 ** 64 - 1]},
                   {(): Span(1, 1), (text,): Span(2, 3, 2, 9)})
    store.put("app/x.yaml", "key0", Loaded("app/x.yaml", docs=[doc]))
    store.save(["app/x.yaml"])
    shard = os.path.join(str(tmp_path), store._shard_name(cache.shard_of("app/x.yaml")))
    with open(shard, "rb") as fh:
        assert text.encode("utf-8") in fh.read()          # not escaped: orjson writes UTF-8
    back = ParseCache(str(tmp_path), b"k" * 32).get("app/x.yaml", "key0")
    assert back.docs[0].data == doc.data and dict(back.docs[0].spans) == doc.spans


def test_a_shard_copied_under_another_name_is_foreign(tmp_path, home):
    repo = small_repo(tmp_path / "repo")
    prr(home, "check", str(repo))
    directory = default_directory(str(home), str(repo))
    shard = next(f for f in cache_files(home, repo) if "docs-" in f)
    key = (home / "prr-lint" / "key").read_bytes()
    assert read_signed(key, directory, os.path.basename(shard)) is not None
    other = os.path.join(directory, "docs-000000000000-00.json")
    shutil.copy(shard, other)
    assert read_signed(key, directory, os.path.basename(other)) is None


@pytest.mark.slow
def test_signed_but_malformed_entries_are_misses(tmp_path, home):
    repo = small_repo(tmp_path / "repo")
    expected = prr(home, "check", "-f", "json", "--no-cache", str(repo))
    prr(home, "check", str(repo))
    directory = default_directory(str(home), str(repo))
    key = (home / "prr-lint" / "key").read_bytes()
    rel = "services/api/k8s/deployment.yaml"
    ckey = content_key(rel, "yaml", 5 << 20, (repo / rel).read_bytes())
    index = os.path.basename(glob.glob(os.path.join(directory, "index-*.json"))[0])
    shard = os.path.basename(next(f for f in cache_files(home, repo) if "docs-" in f and "-ctx" not in f))
    bad_indexes = ([], {"entries": []}, {"entries": {rel: [ckey, "k8s", False]}}, {"entries": {rel: 5}},
                   {"entries": {rel: [ckey, ["k8s"], "ctx"]}}, {"entries": {rel: [ckey, [5], 5]}},
                   {"entries": {rel: [ckey, ["k8s"], ["00"]]}}, {"entries": {rel: [ckey, ["k8s"], "../../x"]}})
    bad_shards = ([], {ckey: [1, 2]}, {ckey: "x"}, {ckey: [rel, None, None, [["k8s", rel, 0, 5, {}, [], []]]]},
                  {ckey: [rel, None, ["m"], []]}, {ckey: [rel, None, None, [["k8s", rel, 0, [], {}, [[1]], [1]]]]},
                  {ckey: [rel, None, None, [["k8s", rel, 0, [], {}, "[[[1]],[1]]"]]]},
                  {ckey: [rel, None, None, [["k8s", rel, 0, [], {}, "not json"]]]},
                  {ckey: [rel, None, None, [["k8s", rel, 0, [], {}, [[], []]]]]})
    good_index = read_signed(key, directory, index)
    for name, bad in [(index, b) for b in bad_indexes] + [(shard, b) for b in bad_shards]:
        cache.write_signed(key, directory, index, json.dumps(good_index))
        cache.write_signed(key, directory, name, json.dumps(bad))
        proc = prr(home, "check", "-f", "json", str(repo))
        assert (proc.returncode, proc.stdout, proc.stderr) == \
            (expected.returncode, expected.stdout, expected.stderr), bad


# -- the key -----------------------------------------------------------------------------------
def test_key_is_private_and_created_once(tmp_path, home):
    repo = small_repo(tmp_path / "repo")
    prr(home, "check", str(repo))
    key_file = home / "prr-lint" / "key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "prr-lint").stat().st_mode) == 0o700
    key = key_file.read_bytes()
    assert len(key) == 32
    prr(home, "check", str(repo))
    assert key_file.read_bytes() == key


def test_a_key_others_can_read_is_not_used(tmp_path, home):
    repo = small_repo(tmp_path / "repo")
    (home / "prr-lint").mkdir()
    key_file = home / "prr-lint" / "key"
    key_file.write_bytes(b"k" * 32)
    key_file.chmod(0o644)                 # e.g. a key checked out of a repository
    expected = prr(home, "check", "-f", "json", "--no-cache", str(repo))
    proc = prr(home, "check", "-f", "json", str(repo))
    assert proc.stdout == expected.stdout
    assert cache_files(home, repo) == []  # no cache without a private key
    assert key_file.read_bytes() == b"k" * 32


def test_a_key_inside_the_checked_tree_is_not_used(tmp_path):
    repo = small_repo(tmp_path / "repo")
    inside = repo / ".cache"
    prr(inside, "check", str(repo))
    assert not (inside / "prr-lint").exists()


# -- location ----------------------------------------------------------------------------------
def test_default_location_is_outside_the_tree(tmp_path, home):
    repo = small_repo(tmp_path / "repo")
    before = sorted(p.relative_to(repo) for p in repo.rglob("*"))
    prr(home, "check", str(repo))
    assert sorted(p.relative_to(repo) for p in repo.rglob("*")) == before
    files = cache_files(home, repo)
    assert files and all(f.startswith(os.path.join(str(home), "prr-lint") + os.sep) for f in files)


@pytest.mark.slow
def test_cache_dir_option_and_environment(tmp_path, home):
    repo = small_repo(tmp_path / "repo")
    by_option, by_env = tmp_path / "opt", tmp_path / "env"
    prr(home, "check", "--cache-dir", str(by_option), str(repo), env={"PRR_LINT_CACHE_DIR": str(by_env)})
    assert glob.glob(str(by_option / "index-*.json")) and not by_env.exists()
    prr(home, "gate", str(repo), env={"PRR_LINT_CACHE_DIR": str(by_env)})
    assert glob.glob(str(by_env / "index-*.json"))
    baseline_dir = tmp_path / "baseline-cache"
    proc = prr(home, "baseline", "--cache-dir", str(baseline_dir), "-o", str(tmp_path / "b.json"), str(repo))
    assert proc.returncode == 0, proc.stderr
    assert glob.glob(str(baseline_dir / "index-*.json"))
    assert cache_files(home, repo) == []


@pytest.mark.slow
def test_repository_config_cache_dir_is_ignored_unless_allowed(tmp_path, home):
    repo = small_repo(tmp_path / "repo")
    write(repo, {".prr-lint.yaml": "cache_dir: ../elsewhere\n"})
    elsewhere = tmp_path / "elsewhere"
    proc = prr(home, "check", "-f", "json", str(repo))
    notices = json.loads(proc.stdout)["notices"]
    assert [n["file"] for n in notices if "cache_dir is ignored" in n["message"]] == [".prr-lint.yaml"]
    assert not elsewhere.exists() and cache_files(home, repo)
    text = prr(home, "check", "-v", str(repo)).stdout
    assert text.count("cache_dir is ignored") == 1
    proc = prr(home, "check", "-f", "json", "--allow-config-cache-dir", str(repo))
    assert glob.glob(str(elsewhere / "index-*.json"))
    assert not [n for n in json.loads(proc.stdout)["notices"] if "cache_dir" in n["message"]]
    shutil.rmtree(elsewhere)
    prr(home, "check", str(repo), env={"PRR_LINT_ALLOW_CONFIG_CACHE_DIR": "1"})
    assert glob.glob(str(elsewhere / "index-*.json"))


def test_no_cache_writes_nothing(tmp_path, home):
    repo = small_repo(tmp_path / "repo")
    prr(home, "check", "--no-cache", str(repo))
    assert not (home / "prr-lint").exists()


# -- content keys ------------------------------------------------------------------------------
@pytest.mark.slow
def test_an_edit_that_keeps_mtime_and_size_is_seen(tmp_path, home):
    repo = small_repo(tmp_path / "repo", replicas=1)
    deploy = repo / "services/api/k8s/deployment.yaml"
    first = findings(prr(home, "check", "-f", "json", str(repo)))
    assert ("K8S005", "services/api/k8s/deployment.yaml", 6) in first
    st = deploy.stat()
    deploy.write_text(DEPLOY.format(replicas=3))        # same size
    os.utime(deploy, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert deploy.stat().st_size == st.st_size and deploy.stat().st_mtime_ns == st.st_mtime_ns
    for args in ([str(repo)], [str(deploy)]):           # whole run and one-file run
        assert not [f for f in findings(prr(home, "check", "-f", "json", *args)) if f[0] == "K8S005"]
    manifest = repo / "services/api/service.yaml"       # a manifest (inline in the index) too
    st = manifest.stat()
    manifest.write_text(MANIFEST.replace("tier: 0", "tier: 3"))
    os.utime(manifest, ns=(st.st_atime_ns, st.st_mtime_ns))
    deploy.write_text(DEPLOY.format(replicas=1))
    got = findings(prr(home, "check", "-f", "json", str(deploy)))
    assert got == findings(prr(home, "check", "-f", "json", "--no-cache", str(deploy)))
    assert not [f for f in got if f[0] == "K8S005"]     # tier 3 asks for one replica


# -- same answers with and without the cache -----------------------------------------------------
@pytest.mark.parametrize("source", [SAMPLE, GOLDEN_REPO], ids=["monorepo", "golden-repo"])
@pytest.mark.slow
def test_cached_runs_give_byte_identical_reports(tmp_path, home, source):
    repo = tmp_path / "repo"
    git_init(shutil.copytree(source, repo))
    one = next(os.path.relpath(p, repo) for p in sorted(glob.glob(str(repo / "**" / "*.yaml"), recursive=True))
               if "/k8s/" in p)
    for fmt in ("text", "json", "sarif"):
        for target in (str(repo), str(repo / one)):
            base = ["check", "-f", fmt, "--today", "2026-11-01", target]
            uncached = prr(home, *base, "--no-cache")
            shutil.rmtree(home / "prr-lint", ignore_errors=True)
            cold = prr(home, *base)
            warm = prr(home, *base)
            for proc in (cold, warm):
                assert (proc.returncode, proc.stdout, proc.stderr) == \
                    (uncached.returncode, uncached.stdout, uncached.stderr), (fmt, target)
    assert cache_files(home, repo)


@pytest.mark.slow
def test_concurrent_runs_do_not_corrupt_the_cache(tmp_path, home):
    repo = tmp_path / "repo"
    shutil.copytree(SAMPLE, repo)
    expected = prr(home, "check", "-f", "json", "--no-cache", str(repo)).stdout
    env = {**os.environ, "NO_COLOR": "1", "XDG_CACHE_HOME": str(home)}
    from conftest import PRR

    procs = [subprocess.Popen([PRR, "check", "-f", "json", str(repo)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(out == (expected, "") for out in outs)
    key = (home / "prr-lint" / "key").read_bytes()
    for path in cache_files(home, repo):
        assert read_signed(key, os.path.dirname(path), os.path.basename(path)) is not None, path
    assert not glob.glob(os.path.join(default_directory(str(home), str(repo)), "*.tmp"))
    assert prr(home, "check", "-f", "json", str(repo)).stdout == expected


# -- the JSON form -----------------------------------------------------------------------------
def test_round_trip_is_exact():
    doc = Document("sloth", "a/b.yaml", {"x": [1, 1.5, True, None, "s", {"y": -0.0}], "big": 2 ** 64 - 1,
                                         "small": -2 ** 63, "text": "caf\u00e9 \u2713 \U0001f680"},
                   {(): Span(1, 1, 9, 3), ("x",): Span(2, 3, 2, 9), ("x", 0): Span(2, 4, 2, 5)}, 2,
                   {"slos_path": ("spec", "slos"), "chart": "c", "overlay": False})
    loaded = Loaded("a/b.yaml", [doc], LoadError("bad thing", 7, 3), "a notice")
    back = decode_loaded(json.loads(encode_loaded(loaded)))
    assert back.docs[0].meta["slos_path"] == ("spec", "slos") and isinstance(back.docs[0].meta["slos_path"], tuple)
    assert all(type(p) is tuple for p in back.docs[0].spans)
    assert all(type(s) is Span for s in back.docs[0].spans.values())
    assert back.docs[0].spans == doc.spans and back.docs[0].data == doc.data and back.docs[0].index == 2
    assert (back.error.message, back.error.line, back.error.col, back.notice) == ("bad thing", 7, 3, "a notice")
    assert (back.file, back.docs[0].kind, back.docs[0].file, back.docs[0].meta) == ("a/b.yaml", "sloth", "a/b.yaml",
                                                                                   doc.meta)


def test_what_json_cannot_carry_exactly_is_not_cached():
    # orjson writes a NaN as null and refuses integers beyond 64 bits: neither would read back as it was
    for data in ({"x": float("nan")}, {1: "int key"}, {"t": ("a", "b")}, {"deep": [{"t": (1,)}]}, {True: 1},
                 {"big": 2 ** 64}, {"small": -2 ** 63 - 1}, {"s": "\ud800"}, {"d": datetime.date(2026, 1, 2)}):
        assert encode_loaded(Loaded("f.yaml", [Document("k8s", "f.yaml", data, {(): Span(1)})])) is None


def test_unusable_cache_directory_is_not_an_error(tmp_path, home):
    repo = small_repo(tmp_path / "repo")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = prr(home, "check", "-f", "json", "--cache-dir", str(blocker / "sub"), str(repo))
    assert proc.returncode == 1 and proc.stderr == ""
    assert isinstance(ParseCache(str(blocker), b"k" * 32).index, dict)


def test_reading_a_small_file_does_not_allocate_the_size_limit(tmp_path):
    """Every run reads every candidate file once (content keys): asking for max_file_size bytes per file
    allocated that much each time (and a huge limit was a MemoryError)."""
    from prr_lint.loaders import read_bytes

    path = tmp_path / "small.yaml"
    path.write_bytes(b"kind: x\n")
    assert read_bytes(str(path), 1 << 50) == b"kind: x\n"
    assert read_bytes(str(path), 3) == b"kind"           # one byte more than allowed: too large
    (tmp_path / "empty.yaml").write_bytes(b"")
    assert read_bytes(str(tmp_path / "empty.yaml"), 1 << 50) == b""
