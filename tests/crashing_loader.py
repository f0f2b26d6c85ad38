"""A loader for parse-pool tests, imported by the spawned workers: it ends its own process on a file named
`boom.yaml` (as a parser crash would), never returns on one named `hang.yaml` and raises on `bug.yaml`."""

import os
import signal
import time

from prr_lint.loaders import load_file


def load(root, rel, how, chart_dirs, max_size, raw=None):
    name = os.path.basename(rel)
    if name == "boom.yaml":
        os.kill(os.getpid(), signal.SIGKILL)
    if name == "hang.yaml":
        time.sleep(3600)
    if name == "bug.yaml":
        raise TypeError("a loader bug")
    return load_file(root, rel, how, chart_dirs, max_size, raw)


def never_ready(conn, *args):
    """A worker that starts but never says it is ready."""
    time.sleep(3600)


def exit_at_once(conn, *args):
    """A worker that ends before it is ready (an interpreter that cannot import prr-lint, say)."""
    os._exit(3)


def garbled(conn, *args):
    """A worker that says it is ready, then answers with bytes that are not an answer."""
    conn.send_bytes(b"ready")
    conn.recv_bytes()
    conn.send_bytes(b"\x80not json")
    time.sleep(3600)
