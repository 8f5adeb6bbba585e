"""A content-addressed store of chat answers on disk: an interrupted run resumes from it and a
rerun sends no request at all.

The key is the SHA-256 of the request's content (model name, messages, decoding parameters),
not of the endpoint's URL, so the same requests sent to another server that serves the same
model are answered from the cache (a documented choice: the answer depends on the model, not
on which replica or proxy served it). Each entry records the endpoint that first answered it
(its URL without credentials), so a run's metadata can say where its cached answers came
from. Only real answers are stored; a request that failed is simply absent, so the next run
sends exactly the requests that failed. Each answer is its own small JSON file written by
`recenter_bench.atomic.write_file`, so concurrent writers and a crash never leave half an entry;
`CacheWriter` does those writes on a thread of its own, off the runner's event loop.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from recenter_bench.atomic import clean_file_leftovers, write_file
from recenter_bench.errors import UserError

# Far above any real entry (a request of a few thousand words and an answer of 4,096 tokens).
MAX_ENTRY_BYTES = 4 * 1024 * 1024
TOKEN_COUNTS = ("prompt_tokens", "completion_tokens")


def is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def request_key(request: Mapping[str, Any]) -> str:
    """The SHA-256 of a request's canonical JSON (sorted keys, no whitespace).

    >>> request_key({"model": "m", "messages": []}) == request_key({"messages": [], "model": "m"})
    True
    """
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AnswerCache:
    """`<root>/<key[:2]>/<key>.json` per answer: {"request": ..., "answer": ..., "usage": ...,
    "endpoint": ...} (entries written before endpoints were recorded have no "endpoint")."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._made: set[Path] = set()  # sub-folders known to exist: one mkdir each, not per put

    def create(self) -> None:
        """Make the cache folder before the first request is sent, so that a path that cannot
        hold it is one line naming it, not a traceback after the first answer came back."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            usable = os.access(self.root, os.W_OK | os.X_OK)
        except OSError as error:
            usable, why = False, error.strerror or type(error).__name__
        else:
            why = "not writable"
        if not usable:
            raise UserError(f"--cache-dir: {self.root}: cannot hold the answer cache ({why})")
        # Entries are written without a scan of their folder each (`put`): the temporaries of
        # a killed run are removed here, once per run that writes.
        for folder in os.scandir(self.root):
            if folder.is_dir(follow_symlinks=False):
                clean_file_leftovers(Path(folder.path))

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The entry of a key, or None when it is absent or damaged (too large, not JSON, nested
        absurdly deep, or not of the shape `put` writes): such a request is asked again and its
        entry rewritten."""
        try:
            with self._path(key).open("rb") as handle:
                data = handle.read(MAX_ENTRY_BYTES + 1)
            entry = json.loads(data) if len(data) <= MAX_ENTRY_BYTES else None
        except (OSError, ValueError, RecursionError):
            return None
        if not isinstance(entry, dict) or not isinstance(entry.get("answer"), str):
            return None
        usage = entry.get("usage", {})
        if not isinstance(usage, dict) or not all(is_count(usage.get(n, 0)) for n in TOKEN_COUNTS):
            return None
        return entry

    def look_up(
        self, requests: Sequence[Mapping[str, Any]]
    ) -> tuple[list[str], list[dict[str, Any] | None]]:
        """(the key of each request, its entry or None): every request looked up at once."""
        keys = [request_key(request) for request in requests]
        return keys, [self.get(key) for key in keys]

    def put(self, key: str, entry: Mapping[str, Any]) -> None:
        self.put_json(key, json.dumps(dict(entry), ensure_ascii=False).encode("utf-8"))

    def put_json(self, key: str, data: bytes) -> None:
        """Store an entry already serialised as the UTF-8 JSON document `put` writes."""
        path = self._path(key)
        if path.parent not in self._made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        # Not fsynced (two fsyncs were most of a put's time, on the runner's event loop): an
        # entry a power cut loses or damages is asked again.
        write_file(path, data, durable=False, clean=False)


class CacheWriter:
    """Writes entries to an `AnswerCache` on threads of their own, so that the caller (the
    runner's event loop) only hands them over. Several threads, because creating a file is
    mostly waiting on the file system (the GIL is free meanwhile) and one thread fell behind a
    fast endpoint. Leaving the `with` block waits until every entry handed over is on disk,
    also when the run was interrupted, so the next run resumes from all of them. A write that
    fails (a full disk) stops the writing with one warning on stderr: the run's answers are
    still used, they are just not cached."""

    THREADS = 8

    def __init__(self, cache: AnswerCache) -> None:
        self.cache = cache
        self.failed: str | None = None
        self._queue: queue.SimpleQueue[tuple[str, bytes] | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._write_all, name="answer-cache", daemon=True)
            for _ in range(self.THREADS)
        ]

    def __enter__(self) -> CacheWriter:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        if self.failed:
            print(
                f"warning: --cache-dir: {self.cache.root}: answers not cached ({self.failed})",
                file=sys.stderr,
            )

    def put_json(self, key: str, data: bytes) -> None:
        """Hand over an entry serialised as `AnswerCache.put_json` takes it."""
        self._queue.put((key, data))

    def _write_all(self) -> None:
        while (item := self._queue.get()) is not None:
            if self.failed:
                continue
            try:
                self.cache.put_json(*item)
            except OSError as error:
                self.failed = error.strerror or type(error).__name__
