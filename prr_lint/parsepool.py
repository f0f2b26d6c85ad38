"""Parse many files in worker processes, so that a large first run uses every core; small runs stay in-process.

Workers are started with `spawn`, never `fork` (a forked child inherits the parent's threads and locks). Only
bytes travel between the parent and a worker, never pickles: the parent sends a batch of [path, loader] pairs as
JSON, and a worker answers each file with one message, a JSON header [path, content key, encoded] and, when
encoded, the file's documents in the parse cache's JSON form (cache.encode_loaded). The parent reads them with
json.loads, so nothing a repository holds, and nothing a worker could send, can run code in the parent.

A worker that dies (a parser crash takes its process with it) or stays silent longer than FILE_TIMEOUT costs
the one file it was parsing, which gets a load error (PRR000); the rest of its batch goes to a new worker. A
pool that cannot start a worker at all raises PoolUnavailable, and the caller parses in-process.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

import orjson

from . import shared
from .cache import content_key, decode_loaded, encode_loaded
from .loaders import Loaded, load_file, read_bytes
from .loaders.errors import LoadError

MAX_WORKERS = 8
BATCH = 32                    # files per message to a worker: few messages, and a dead worker's loss is small
FILE_TIMEOUT = 120.0          # seconds without an answer after which a worker is ended
READY = b"ready"
DONE = b"done"

Loader = Callable[..., Loaded]


class PoolUnavailable(Exception):
    """No worker could be started (or one died before it was ready): parse in-process instead."""


@dataclass
class Parsed:
    rel: str
    key: str | None           # content key of the bytes parsed; None: unreadable (the error is not cached)
    text: str | None          # the Loaded in the cache's JSON form; None when JSON cannot carry it exactly
    loaded: Loaded | None     # None: parse it in-process (JSON could not carry it)


def worker_count(requested: int | None) -> int:
    """Workers to start: as asked, else one per CPU this process may run on, at most MAX_WORKERS."""
    if requested is not None:
        return max(0, requested)
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:    # not on Linux
        cpus = os.cpu_count() or 1
    return min(cpus, MAX_WORKERS)


# -- in the worker -----------------------------------------------------------------------------
def _serve(conn: Connection, root: str, chart_dirs: list[str], max_size: int, load: Loader) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)     # Ctrl-C is the parent's to handle: it ends the workers
    charts = set(chart_dirs)
    conn.send_bytes(READY)
    while True:
        try:
            batch = json.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        if batch is None:
            return
        for rel, how in batch:
            try:
                answer = _parse_one(root, rel, how, charts, max_size, load)
            except Exception:
                # a loader bug, not a crash: the parent parses the file itself, and fails as it would alone
                answer = json.dumps([rel, None, False]).encode()
            conn.send_bytes(answer)
        conn.send_bytes(DONE)


def _parse_one(root: str, rel: str, how: str, charts: set, max_size: int, load: Loader) -> bytes:
    try:
        raw: bytes | None = read_bytes(os.path.join(root, rel), max_size)
    except LoadError:
        raw = None            # the loader reads it again and reports why not
    key = content_key(rel, how, max_size, raw) if raw is not None else None
    text = encode_loaded(load(root, rel, how, charts, max_size, raw))
    header = json.dumps([rel, key, text is not None]).encode()
    return header if text is None else header + b"\n" + text.encode("utf-8")


# -- in the parent -----------------------------------------------------------------------------
def _decode(messages: list[bytes]) -> list[Parsed]:
    """The answers of one batch, read with one orjson.loads: the documents of its files then share one string per
    distinct key (orjson keeps a cache of short keys) and per short value (shared.py)."""
    heads = []
    bodies = []
    for message in messages:
        header, _, body = message.partition(b"\n")
        rel, key, encoded = json.loads(header)
        if not isinstance(rel, str) or not (key is None or isinstance(key, str)):
            raise ValueError("malformed answer from a parse worker")
        heads.append((rel, key, encoded))
        if encoded:
            bodies.append(body)
    entries = shared.share_values(orjson.loads(b"[" + b",".join(bodies) + b"]")) if bodies else []
    if len(entries) != len(bodies):     # each body is one JSON value, or the answers are not ours
        raise ValueError("malformed answer from a parse worker")
    stored, texts = iter(entries), iter(bodies)
    out = []
    for rel, key, encoded in heads:
        if not encoded:
            out.append(Parsed(rel, key, None, None))
            continue
        # spans decoded on first use: most documents of a run never have a finding to place
        loaded = decode_loaded(next(stored), lazy=True, pack=True)   # a whole run's: held to its end
        if loaded is None or loaded.file != rel:
            raise ValueError("malformed answer from a parse worker")
        out.append(Parsed(rel, key, next(texts).decode("utf-8"), loaded))
    return out


def _answers(w: _Worker) -> list[Parsed]:
    """What the worker answered for its batch so far, decoded; PoolUnavailable when it is not what we asked."""
    messages, w.answers = w.answers, []
    try:
        return _decode(messages)
    except (ValueError, RecursionError) as e:   # UnicodeDecodeError is a ValueError
        raise PoolUnavailable(f"a parse worker answered something else: {e}") from None


class _Worker:
    def __init__(self, ctx: Any, args: tuple) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child, *args), daemon=True)
        self.process.start()
        child.close()         # the child holds the only other end: its death is EOF here
        self.ready = False
        self.batch: list = []
        self.answered = 0
        self.answers: list[bytes] = []     # this batch's answers, decoded together when it is done
        self.last = time.monotonic()
        self.timed_out = False

    def give(self, batch: list) -> None:
        self.batch, self.answered, self.last = batch, 0, time.monotonic()
        self.conn.send_bytes(json.dumps(batch).encode())

    def stop(self) -> None:
        try:
            self.conn.send_bytes(b"null")
        except OSError:
            pass
        self.conn.close()
        self.process.join(5)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join(5)

    def kill(self) -> None:
        self.process.kill()
        self.conn.close()
        self.process.join(5)

    def how_it_ended(self) -> str:
        self.process.join(5)
        code = self.process.exitcode
        if self.timed_out or code is None:
            return f"did not answer within {FILE_TIMEOUT:.0f} s"
        return f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"


class Started:
    """Workers started ahead of their batches (a process takes a few tenths of a second to start and import):
    the caller does other work meanwhile, then hands them to parse_files. Ended with stop() when not used."""

    def __init__(self, root: str, chart_dirs: set, max_size: int, workers: int, load: Loader = load_file) -> None:
        self.args = (root, sorted(chart_dirs), max_size, load)
        self.workers: list[_Worker] = []
        try:
            for _ in range(workers):
                self.workers.append(_Worker(multiprocessing.get_context("spawn"), self.args))
        except (OSError, ValueError, RuntimeError):
            pass                # parse_files starts what is missing, or finds the pool unavailable

    def take(self, args: tuple) -> list[_Worker]:
        """The workers, if started for these arguments (else they are ended)."""
        workers, self.workers = self.workers, []
        if args == self.args:
            return workers
        for w in workers:
            w.kill()
        return []

    def stop(self) -> None:
        for w in self.take(()):
            w.kill()


def parse_files(root: str, items: list[tuple[str, str]], chart_dirs: set, max_size: int, workers: int,
                load: Loader = load_file, started: Started | None = None) -> Iterator[Parsed]:
    """Parse `items` ([path, loader name]) in `workers` spawned processes; one Parsed per item, in any order.
    `started`: workers started ahead, used first."""
    ctx = multiprocessing.get_context("spawn")
    args = (root, sorted(chart_dirs), max_size, load)
    pending = deque(items[i:i + BATCH] for i in range(0, len(items), BATCH))
    pool: list[_Worker] = []
    try:
        wanted = min(workers, len(pending))
        pool = started.take(args) if started is not None else []
        for w in pool[wanted:]:
            w.kill()
        del pool[wanted:]
        try:
            while len(pool) < wanted:
                pool.append(_Worker(ctx, args))
        except (OSError, ValueError, RuntimeError) as e:
            raise PoolUnavailable(str(e)) from None
        while pool:
            ready = wait([w.conn for w in pool], timeout=FILE_TIMEOUT / 4)
            now = time.monotonic()
            for w in list(pool):
                if w.conn not in ready:
                    if not w.ready and now - w.last > FILE_TIMEOUT:
                        raise PoolUnavailable(f"a parse worker did not start within {FILE_TIMEOUT:.0f} s")
                    if w.batch and now - w.last > FILE_TIMEOUT:
                        w.timed_out = True
                        w.kill()
                        yield from _lost(w, pending, pool, ctx, args)
                    continue
                try:
                    message = w.conn.recv_bytes()
                except (EOFError, OSError):
                    if not w.ready:
                        raise PoolUnavailable(f"a parse worker {w.how_it_ended()} before it was ready") from None
                    yield from _lost(w, pending, pool, ctx, args)
                    continue
                w.last = now
                if message == READY or message == DONE:
                    yield from _answers(w)
                    w.ready, w.batch = True, []
                    if pending:
                        w.give(pending.popleft())
                    else:
                        w.stop()
                        pool.remove(w)
                    continue
                w.answered += 1
                w.answers.append(message)
    finally:
        for w in pool:
            w.kill()


def _lost(w: _Worker, pending: deque, pool: list, ctx: Any, args: tuple) -> Iterator[Parsed]:
    """A worker died (or hung) during its batch: the file it was on gets the error, the rest go to a new one."""
    pool.remove(w)
    yield from _answers(w)
    why = w.how_it_ended()
    w.conn.close()
    rest = w.batch[w.answered:]
    if rest:
        rel = rest[0][0]
        yield Parsed(rel, None, None, Loaded(rel, error=LoadError(
            f"the parser's worker process {why} while reading this file; not checked")))
        if rest[1:]:
            pending.appendleft(rest[1:])
    if pending:
        try:
            pool.append(_Worker(ctx, args))
        except (OSError, ValueError, RuntimeError) as e:
            raise PoolUnavailable(str(e)) from None
