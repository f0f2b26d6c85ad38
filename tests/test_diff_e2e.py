"""--diff-base end to end: only what the change touched is reported, in full and shallow clones."""

import os

import pytest

from ci_sample import DEPLOY, FILES, SIDECAR_LINE, TERRAFORM, WORKER, commit, found, git, make_repo, report, write

DEPLOY_FILE = "services/checkout/k8s/deploy.yaml"
TF_FILE = "services/checkout/infra/main.tf"
SEARCH = "services/search"
SEARCH_SERVICE = """\
apiVersion: prr-lint/v1
kind: Service
metadata:
  name: search
  tier: 1
"""   # SVC001: no owner (a service-level finding)

NEW_CONTAINER = """\
        - name: cache
          image: registry.example.com/redis:7.2
          resources:
            requests: {cpu: 50m, memory: 64Mi}
"""
NEW_DB = """
resource "aws_db_instance" "reports" {
  engine                  = "postgres"
  instance_class          = "db.t3.micro"
  backup_retention_period = 7
  deletion_protection     = false
}
"""

def _repo(tmp_path):
    """main: two services with old findings; a feature branch forks; main then moves on."""
    files = dict(FILES)
    files[f"{SEARCH}/service.yaml"] = SEARCH_SERVICE
    files[f"{SEARCH}/k8s/deploy.yaml"] = DEPLOY.replace("checkout", "search")
    repo = make_repo(tmp_path / "repo", files)
    for n in range(4):  # some history, so that a shallow clone can miss part of it
        write(str(repo), {"NOTES.md": f"release {n}\n"})
        commit(repo, f"notes {n}")
    git(repo, "checkout", "-q", "-b", "feature")
    write(str(repo), {DEPLOY_FILE: DEPLOY + NEW_CONTAINER})               # committed on the branch
    commit(repo, "add a cache container")
    git(repo, "checkout", "-q", "main")
    write(str(repo), {DEPLOY_FILE: DEPLOY.replace("          resources:\n            requests: {cpu: 50m",
                                                  "          resources:  # reviewed\n            requests: {cpu: 50m")})
    commit(repo, "main moves on: touches the old sidecar line")
    git(repo, "checkout", "-q", "feature")
    return repo


OLD = [("K8S002", DEPLOY_FILE, SIDECAR_LINE), ("K8S002", f"{SEARCH}/k8s/deploy.yaml", SIDECAR_LINE),
       ("SVC001", f"{SEARCH}/service.yaml", 3), ("TF002", "services/checkout/infra/main.tf", 12)]
CACHE = ("K8S002", DEPLOY_FILE, 21)


def test_without_diff_base_everything_is_reported(cli, tmp_path):
    repo = _repo(tmp_path)
    _, rep, _ = report(cli, repo)
    assert found(rep) == sorted(OLD + [CACHE])


@pytest.mark.slow
def test_only_changed_lines_committed_staged_and_untracked(cli, tmp_path):
    repo = _repo(tmp_path)
    code, rep, _ = report(cli, repo, "--diff-base", "main")
    assert code == 1
    assert found(rep) == [CACHE], "main's later change to the sidecar line is not part of this change (base...HEAD)"

    write(str(repo), {TF_FILE: TERRAFORM + NEW_DB})
    git(repo, "add", TF_FILE)                                               # staged, not committed
    write(str(repo), {"services/checkout/k8s/worker.yaml": WORKER})        # untracked: wholly added
    _, rep, _ = report(cli, repo, "--diff-base", "main")
    assert found(rep) == [CACHE, ("K8S002", "services/checkout/k8s/worker.yaml", 10), ("TF002", TF_FILE, 19)]

    write(str(repo), {TF_FILE: TERRAFORM})                                 # working tree undoes the staged change
    _, rep, _ = report(cli, repo, "--diff-base", "main")
    assert ("TF002", TF_FILE, 19) not in found(rep)


@pytest.mark.slow
def test_service_level_findings_of_changed_services(cli, tmp_path):
    repo = _repo(tmp_path)
    _, rep, _ = report(cli, repo, "--diff-base", "main")
    assert not [f for f in found(rep) if f[0] == "SVC001"], "search did not change"
    # an unrelated line of a file the search service owns: its service-level findings come back, not its old
    # line findings
    write(str(repo), {f"{SEARCH}/k8s/deploy.yaml": DEPLOY.replace("checkout", "search").replace("replicas: 3",
                                                                                               "replicas: 4")})
    commit(repo, "scale search")
    _, rep, _ = report(cli, repo, "--diff-base", "main")
    assert found(rep) == [CACHE, ("SVC001", f"{SEARCH}/service.yaml", 3)]


def test_parse_error_of_a_changed_file_is_reported(cli, tmp_path):
    repo = _repo(tmp_path)
    write(str(repo), {f"{SEARCH}/k8s/broken.yaml": "apiVersion: v1\nkind: ConfigMap\ndata: [unclosed\n"})
    _, rep, _ = report(cli, repo, "--diff-base", "main")
    assert found(rep) == [CACHE, ("PRR000", f"{SEARCH}/k8s/broken.yaml", 3), ("SVC001", f"{SEARCH}/service.yaml", 3)]


def test_unknown_base_is_exit_2_with_one_line(cli, tmp_path):
    repo = _repo(tmp_path)
    proc = cli("check", "--diff-base", "no-such-branch", str(repo))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "prr-lint: error: --diff-base no-such-branch: no such commit in this repository"]
    plain = tmp_path / "plain"
    write(str(plain), {"k8s/deploy.yaml": WORKER})
    proc = cli("check", "--diff-base", "main", str(plain))
    assert proc.returncode == 2 and "needs a git repository" in proc.stderr and len(proc.stderr.splitlines()) == 1


@pytest.mark.slow
def test_shallow_clone_with_and_without_the_base(cli, tmp_path):
    repo = _repo(tmp_path)
    deep = tmp_path / "deep"
    git(tmp_path, "clone", "-q", "--depth", "3", "--no-single-branch", "--branch", "feature", f"file://{repo}",
        str(deep))
    assert (deep / ".git" / "shallow").exists()
    code, rep, _ = report(cli, deep, "--diff-base", "origin/main")
    assert (code, found(rep)) == (1, [CACHE])

    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{repo}", str(shallow))
    main_sha = git(repo, "rev-parse", "main")
    for base in ("origin/main", main_sha, "HEAD~1"):
        proc = cli("check", "--diff-base", base, str(shallow))
        assert proc.returncode == 2, proc.stdout
        assert proc.stderr.strip().splitlines() == [
            f"prr-lint: error: --diff-base {base}: no such commit in this repository (this is a shallow clone: "
            "fetch more history, e.g. `git fetch --deepen=50`, or fetch the base ref)"]
    # fetching the base makes it work
    # fetching the base commit makes it work; without the fork point it is measured from the base itself
    git(shallow, "fetch", "-q", "--depth", "3", "origin", "main:refs/remotes/origin/main")
    code, rep, err = report(cli, shallow, "--diff-base", "origin/main")
    assert found(rep) == [("K8S002", DEPLOY_FILE, SIDECAR_LINE), CACHE]
    assert err.strip() == ("prr-lint: warning: --diff-base origin/main: the merge base with HEAD is not in this "
                           "shallow clone; comparing with origin/main itself (fetch more history for an exact diff)")
    git(shallow, "fetch", "-q", "--deepen", "5", "origin")
    code, rep, err = report(cli, shallow, "--diff-base", "origin/main")
    assert (found(rep), err) == ([CACHE], "")


# names git quotes in its patch headers (`"a/my dir/d\303\251\"p.yaml"`): spaces, quotes, backslashes, tabs,
# non-ASCII, newlines, and a name that looks like a hunk of another file
ODD_NAMES = ['my dir/dé"p.yaml', 'back\\slash.yaml', 'tab\there.yaml', 'new\nline.yaml', 'ünï cødé.yaml',
             ' lead.yaml', '"quoted".yaml', 'x".yaml', '@@ -1 +1,9 @@.yaml']


def _odd_repo(tmp_path):
    repo = make_repo(tmp_path / "repo", {**FILES, **{f"services/checkout/k8s/{n}": WORKER.replace("worker", "w")
                                                      for n in ODD_NAMES}})
    git(repo, "checkout", "-q", "-b", "feature")
    return repo


def _odd(name, line):
    return ("K8S002", f"services/checkout/k8s/{name}", line)


@pytest.mark.slow
def test_odd_file_names_keep_their_findings(cli, tmp_path):
    repo = _odd_repo(tmp_path)
    assert found(report(cli, repo, "--diff-base", "main")[1]) == []
    extra = "        - name: extra\n          image: registry.example.com/extra:1.0\n"
    # committed, staged, unstaged and untracked changes, one kind per name
    for i, name in enumerate(ODD_NAMES):
        write(str(repo), {f"services/checkout/k8s/{name}": WORKER.replace("worker", "w") + extra})
        if i % 3 == 0:
            commit(repo, f"change {i}")
        elif i % 3 == 1:
            git(repo, "add", "-A")
    write(str(repo), {"services/checkout/k8s/untracked \"dir\"/ñ\n.yaml": WORKER})
    _, rep, _ = report(cli, repo, "--diff-base", "main")
    # the new container (line 12) is changed; the old one (line 10) is not
    assert found(rep) == sorted([_odd(n, 12) for n in ODD_NAMES]
                                + [_odd("untracked \"dir\"/ñ\n.yaml", 10)]), [n for n in ODD_NAMES]


def test_odd_names_renamed_and_deleted(cli, tmp_path):
    repo = _odd_repo(tmp_path)
    old, new = ODD_NAMES[0], 'moved "here"/dé\tp\n2.yaml'
    os.makedirs(repo / "services/checkout/k8s/moved \"here\"")
    git(repo, "mv", f"services/checkout/k8s/{old}", f"services/checkout/k8s/{new}")
    text = (repo / "services/checkout/k8s" / new).read_text()
    write(str(repo), {f"services/checkout/k8s/{new}": text.replace("replicas: 2", "replicas: 2\n  paused: false")})
    git(repo, "rm", "-q", f"services/checkout/k8s/{ODD_NAMES[1]}")
    commit(repo, "rename and delete")
    _, rep, _ = report(cli, repo, "--diff-base", "main")
    # a rename with an edit: only the edited line is changed, the old finding (now line 11) is not reported
    assert found(rep) == []
    from prr_lint.git import changed_lines

    changes = changed_lines(str(repo), "main")
    assert changes.lines == {f"services/checkout/k8s/{new}": {7}}
    assert changes.files == {f"services/checkout/k8s/{n}" for n in (old, new, ODD_NAMES[1])}


def test_content_that_looks_like_diff_headers(cli, tmp_path):
    repo = _odd_repo(tmp_path)
    # removed and added lines that read as `--- a/x`, `+++ b/y`, `diff --git` and `@@` headers of another file
    write(str(repo), {"services/checkout/k8s/notes.yaml": "-- a/services/checkout/k8s/new\n++ b/other.yaml\n"})
    commit(repo, "notes")
    base = git(repo, "rev-parse", "HEAD")
    write(str(repo), {"services/checkout/k8s/notes.yaml": "++ b/q\n-- a/q\n@@ -1 +1,99 @@\ndiff --git a/q b/q\n",
                      DEPLOY_FILE: DEPLOY + NEW_CONTAINER})
    from prr_lint.git import changed_lines

    changes = changed_lines(str(repo), base)
    assert changes.lines == {"services/checkout/k8s/notes.yaml": {1, 2, 3, 4}, DEPLOY_FILE: {19, 20, 21, 22}}
