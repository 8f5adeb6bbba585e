"""A content-addressed store of chat answers on disk: an interrupted run resumes from it and a
rerun sends no request at all.

The key is the SHA-256 of the request's content (model name, messages, decoding parameters),
not of the endpoint's URL, so the same requests sent to another server that serves the same
model are answered from the cache. Only real answers are stored; a request that failed is
simply absent, so the next run sends exactly the requests that failed. Each answer is its own
small JSON file written by `recenter_bench.atomic.write_file`, so concurrent writers and a crash
never leave half an entry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from recenter_bench.atomic import write_file


def request_key(request: Mapping[str, Any]) -> str:
    """The SHA-256 of a request's canonical JSON (sorted keys, no whitespace).

    >>> request_key({"model": "m", "messages": []}) == request_key({"messages": [], "model": "m"})
    True
    """
    text = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class AnswerCache:
    """`<root>/<key[:2]>/<key>.json` per answer: {"request": ..., "answer": ..., "usage": ...}."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._made: set[Path] = set()  # sub-folders known to exist: one mkdir each, not per put

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            entry = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # absent, or unreadable: asked again and rewritten
        return entry if isinstance(entry, dict) and isinstance(entry.get("answer"), str) else None

    def put(self, key: str, entry: Mapping[str, Any]) -> None:
        path = self._path(key)
        if path.parent not in self._made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        write_file(path, json.dumps(dict(entry), ensure_ascii=False).encode("utf-8"))
