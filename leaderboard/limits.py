"""Bounded work for every request the Space serves.

- `RequestLimits`: an ASGI middleware in front of every route. A request body larger than its
  route's cap (64 KiB for API calls, such as the unqueued filter endpoints; the upload route:
  `MAX_UPLOAD_FILES` files of at most the validator's stage-file limit) is refused with 413
  before the route sees it: from its Content-Length, or as soon as the streamed bytes pass the
  cap (the body is read into memory up to the cap, never beyond); an upload with more parts
  than `MAX_UPLOAD_FILES` is refused the same way.
- `PreviewRunner`: the Submit tab's previews and the webhook's pull-request checks run in a few
  worker processes, each call with a time limit. A slow or hostile upload holds one worker
  until its limit and is then stopped (the process is killed and replaced); workers are handed
  out round-robin over clients, one job per client at a time (`FairSlots`), so one client's
  requests delay another's by at most one time limit. Workers run at a lower priority than the
  web process, so pages, filters and uploads are answered first.
- `CsvFiles`: the CSV downloads, content-addressed in one private folder inside Gradio's cache
  (so Gradio serves them without a copy of its own) that keeps at most `max_files` files and is
  removed when the process exits; folders of earlier processes that died without cleaning up
  are removed at start.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import hashlib
import json
import multiprocessing
import os
import queue
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from recenter_bench.review import ALLOWED_FILES, MAX_STAGE_FILE_BYTES, RAW_ANSWERS_FILE

MAX_BODY_BYTES = 64 * 1024
MAX_WEBHOOK_BYTES = 1024 * 1024
# A preview takes a whole submission but its raw answers: metadata, one file per stage, results.
MAX_UPLOAD_FILES = len([name for name in ALLOWED_FILES if name != RAW_ANSWERS_FILE])
MAX_UPLOAD_BYTES = MAX_UPLOAD_FILES * MAX_STAGE_FILE_BYTES + MAX_BODY_BYTES
# Upload bytes one client may send per minute: two full uploads (a visitor retrying), not a
# stream that fills the upload cache.
MAX_CLIENT_UPLOAD_BYTES_PER_MINUTE = 2 * MAX_UPLOAD_BYTES
# Clients whose upload budget is remembered (the least recently seen are forgotten first).
MAX_CLIENTS = 10_000
# RFC 2046: a boundary is 1-70 of these characters, not ending in a space.
_BOUNDARY = re.compile(rb"^[0-9A-Za-z'()+_,./:=? -]{0,69}[0-9A-Za-z'()+_,./:=?-]$")


class BadRequest(ValueError):
    """A request refused before any route sees it, with its HTTP status."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status = status


class UploadBudget:
    """Upload bytes per client over the last minute (a sliding window per client address)."""

    def __init__(self, per_minute: int = MAX_CLIENT_UPLOAD_BYTES_PER_MINUTE) -> None:
        self.per_minute = per_minute
        self._sent: OrderedDict[str, collections.deque[tuple[float, int]]] = OrderedDict()
        self._lock = threading.Lock()

    def charge(self, client: str, size: int, now: float | None = None) -> bool:
        """Count `size` more bytes from `client`; False (nothing counted) when that would pass
        its budget for the last 60 seconds."""
        now = time.monotonic() if now is None else now
        with self._lock:
            sent = self._sent.pop(client, None) or collections.deque()
            while sent and sent[0][0] <= now - 60:
                sent.popleft()
            allowed = sum(n for _, n in sent) + size <= self.per_minute
            if allowed and size:
                sent.append((now, size))
            self._sent[client] = sent
            while len(self._sent) > MAX_CLIENTS:
                self._sent.popitem(last=False)
            return allowed


class RequestLimits:
    """ASGI middleware capping each HTTP request's body size and, for uploads, its file count
    and each client's upload bytes per minute; a multipart body must name exactly one valid
    boundary (a second one, or spaces around `=`, would let a parser other than this count
    see other parts)."""

    def __init__(self, app: Any, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body
        self.uploads = UploadBudget()

    def limits(self, path: str) -> tuple[int, int | None]:
        """(byte cap, part cap or None) of a route."""
        if path.rstrip("/").endswith("/upload"):
            return MAX_UPLOAD_BYTES, MAX_UPLOAD_FILES
        if "/webhooks/" in path:
            return MAX_WEBHOOK_BYTES, None
        return self.max_body, None

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            body = await self._read_body(scope, receive)
        except BadRequest as refused:
            await send_json_error(send, refused.status, str(refused))
            return
        if body is None:
            return  # the client went away
        replay = [{"type": "http.request", "body": body, "more_body": False}]

        async def buffered_receive() -> dict:
            return replay.pop() if replay else await receive()

        await self.app(scope, buffered_receive, send)

    async def _read_body(self, scope: dict, receive: Callable) -> bytes | None:
        """The whole body (at most the route's cap), read before the route sees any of it, so
        an oversized or over-full request is refused whatever the route would do with it."""
        max_bytes, max_parts = self.limits(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > max_bytes):
            raise BadRequest(413, f"request body over {max_bytes} bytes")
        boundary = multipart_boundary(headers.get(b"content-type", b""))
        forwarded = headers.get(b"x-forwarded-for", b"").decode("latin-1")
        client = client_address(forwarded, (scope.get("client") or ("unknown",))[0])
        chunks: list[bytes] = []
        size, parts, tail = 0, 0, b""
        while True:
            message = await receive()
            if message.get("type") != "http.request":
                return None
            body = message.get("body", b"")
            size += len(body)
            if size > max_bytes:
                raise BadRequest(413, f"request body over {max_bytes} bytes")
            if max_parts is not None and not self.uploads.charge(client, len(body)):
                raise BadRequest(429, "too many upload bytes from this client; wait a minute")
            if max_parts is not None and boundary:
                window = tail + body
                parts += window.count(boundary) - tail.count(boundary)
                tail = window[-len(boundary) :]
                # The closing delimiter is the boundary once more: n files, n + 1 marks.
                if parts > max_parts + 1:
                    raise BadRequest(413, f"more than {max_parts} files in one upload")
            chunks.append(body)
            if not message.get("more_body", False):
                return b"".join(chunks)


def multipart_boundary(content_type: bytes) -> bytes:
    """`--<boundary>` of a multipart Content-Type (b"" for other types); raises BadRequest(400)
    unless it names exactly one boundary, as `boundary=X` or `boundary="X"` (RFC 2046).

    >>> multipart_boundary(b'multipart/form-data; boundary="AB"')
    b'--AB'
    >>> multipart_boundary(b"multipart/form-data; boundary=AAA; boundary=BBB")
    ... # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    BadRequest: multipart: exactly one boundary allowed
    """
    kind, *params = content_type.split(b";")
    if not kind.strip().lower().startswith(b"multipart/"):
        return b""
    values = []
    for param in params:
        key, equals, value = param.strip().partition(b"=")
        if key.strip().lower() != b"boundary":
            continue
        if not equals or key != key.strip() or value != value.strip():
            raise BadRequest(400, "multipart boundary: no spaces around '=' allowed")
        if len(value) >= 2 and value[:1] == value[-1:] == b'"':
            value = value[1:-1]
        values.append(value)
    if len(values) != 1:
        raise BadRequest(400, "multipart: exactly one boundary allowed")
    if not _BOUNDARY.match(values[0]):
        raise BadRequest(400, "multipart boundary: 1-70 characters allowed by RFC 2046")
    return b"--" + values[0]


async def send_json_error(send: Callable, status: int, why: str, *, close: bool = True) -> None:
    """Answer an ASGI request with `{"error": why}` and `status`, before the app sees it
    (`close`: end the connection too, so a refused body is not read)."""
    body = json.dumps({"error": why}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# ------------------------------------------------------------------------------------------
# Previews in worker processes
# ------------------------------------------------------------------------------------------


class PreviewTimeout(Exception):
    """A preview ran past its time limit and was stopped."""


class PreviewBusy(PreviewTimeout):
    """A client asked for more work while its earlier requests still wait their turn."""


# How much lower than the web process a worker is scheduled. A preview is CPU work that may
# wait; the web process answers every page, filter and upload, and is one GIL-bound process,
# so with the workers behind it it keeps its core while the workers share the rest (and take
# all of it whenever the web process is idle).
WORKER_NICENESS = 5


def _worker_main(connection: Any, warm: Callable[[], Any], niceness: int) -> None:
    """A worker process: lower its priority, warm up (imports, dataset), say so, then run jobs
    until told to stop."""
    try:
        os.nice(niceness)
        warm()
        connection.send(("ready", None))
    except Exception as error:  # reported to the caller, who shows it as one line
        connection.send(("error", f"{type(error).__name__}: {error}"))
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        job, args, kwargs = request
        try:
            connection.send(("ok", job(*args, **kwargs)))
        except Exception as error:  # one bad upload must not end the worker
            connection.send(("error", f"{type(error).__name__}: {error}"))


class _Worker:
    def __init__(self, warm: Callable[[], Any], niceness: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_worker_main, args=(child, warm, niceness), daemon=True
        )
        self.process.start()
        child.close()
        self.ready = False

    def call(self, request: tuple, timeout: float, start_timeout: float) -> Any:
        try:
            return self._call(request, timeout, start_timeout)
        except (EOFError, OSError) as error:  # the process died (killed, or failed to start)
            code = self.process.exitcode
            raise RuntimeError(
                f"the preview worker stopped (exit code {code}): {error!r}"
            ) from None

    def _call(self, request: tuple, timeout: float, start_timeout: float) -> Any:
        if not self.ready:
            if not self.connection.poll(start_timeout):
                raise PreviewTimeout(f"the preview worker did not start within {start_timeout:g} s")
            status, value = self.connection.recv()
            if status != "ready":
                raise RuntimeError(value)
            self.ready = True
        self.connection.send(request)
        if not self.connection.poll(timeout):
            raise PreviewTimeout(f"the work took longer than {timeout:g} s and was stopped")
        status, value = self.connection.recv()
        if status != "ok":
            raise RuntimeError(value)
        return value

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.process.kill()
            self.process.join(5)
        with contextlib.suppress(Exception):
            self.connection.close()


# Requests of one client that may wait for a worker at once (more are refused at once, so a
# client firing requests in parallel holds no server threads and no place in line).
MAX_WAITING_PER_CLIENT = 2


class FairSlots:
    """`slots` places of work handed out fairly over clients: each client runs at most one job
    at a time, and when a place frees up it goes to the waiting client served longest ago (one
    never served first), so a client with many requests delays another by at most one job's
    time limit."""

    def __init__(self, slots: int, max_waiting: int = MAX_WAITING_PER_CLIENT) -> None:
        self.free = slots
        self.max_waiting = max_waiting
        self._waiting: dict[str, collections.deque[object]] = {}
        self._running: set[str] = set()
        # client -> when it was last served (a counter); the oldest entries are forgotten.
        self._served: OrderedDict[str, int] = OrderedDict()
        self._turn = 0
        self._cond = threading.Condition()

    def _next(self) -> object | None:
        ready = [c for c, w in self._waiting.items() if w and c not in self._running]
        if not ready:
            return None
        client = min(ready, key=lambda c: self._served.get(c, -1))
        return self._waiting[client][0]

    @contextlib.contextmanager
    def slot(self, client: str) -> Any:
        ticket = object()
        with self._cond:
            waiting = self._waiting.setdefault(client, collections.deque())
            if len(waiting) >= self.max_waiting:
                raise PreviewBusy(
                    f"{len(waiting)} earlier requests of yours are waiting; try again when done"
                )
            waiting.append(ticket)
            while not (self.free > 0 and self._next() is ticket):
                self._cond.wait()
            waiting.popleft()
            if not waiting:
                del self._waiting[client]
            self._turn += 1
            self._served.pop(client, None)
            self._served[client] = self._turn
            while len(self._served) > MAX_CLIENTS:
                self._served.popitem(last=False)
            self._running.add(client)
            self.free -= 1
        try:
            yield
        finally:
            with self._cond:
                self.free += 1
                self._running.discard(client)
                self._cond.notify_all()


def client_address(forwarded: str | None, peer: str) -> str:
    """Who sent a request, for upload budgets and fairness: the address the Hub's proxy saw (the
    last entry of X-Forwarded-For, which the proxy appends) on a Space, else the connection's
    address `peer` (on a Space that is the proxy, shared by every visitor)."""
    if forwarded and os.environ.get("SPACE_ID"):
        return forwarded.split(",")[-1].strip()
    return peer


def client_of(request: Any) -> str:
    """`client_address` of a Gradio request."""
    if request is None:
        return ""
    client = getattr(request, "client", None)
    peer = str(getattr(client, "host", "") or "")
    return client_address(request.headers.get("x-forwarded-for"), peer)


class PreviewRunner:
    """Run jobs in at most `workers` processes at once, each call within a time limit, handed
    out fairly over clients (`FairSlots`).

    `job`, `warm` and any job given to `call` must be importable module-level functions (they
    are sent to spawned processes). A call past its limit kills its worker (a fresh one is
    started when next needed) and raises `PreviewTimeout`; other calls keep their own workers
    meanwhile. Workers run `niceness` steps below the calling process (`WORKER_NICENESS`).
    """

    def __init__(
        self,
        job: Callable[..., Any],
        warm: Callable[[], Any],
        workers: int = 2,
        timeout: float = 30.0,
        start_timeout: float = 180.0,
        niceness: int = WORKER_NICENESS,
    ) -> None:
        self.job, self.warm, self.niceness = job, warm, niceness
        self.workers, self.timeout, self.start_timeout = workers, timeout, start_timeout
        self._slots = FairSlots(workers)
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        atexit.register(self.close)

    def prestart(self) -> None:
        """Start the missing workers now (all `workers` of them), so no preview waits for a
        process to start and load the dataset: the workers warm themselves while the Space
        serves pages. (Started on demand, the second one held its first preview for 17-29 s
        under the load benchmark's first round.)"""
        with self._lock:
            started = [
                _Worker(self.warm, self.niceness) for _ in range(self.workers - len(self._all))
            ]
            self._all.update(started)
        for worker in started:
            self._idle.put(worker)

    def run(self, *args: Any, client: str = "") -> Any:
        """`job(*args)` in a worker, within the runner's time limit, in `client`'s turn."""
        return self.call(self.job, *args, client=client)

    def call(
        self,
        job: Callable[..., Any],
        *args: Any,
        client: str = "",
        limit: float | None = None,
        **kwargs: Any,
    ) -> Any:
        """`job(*args, **kwargs)` in a worker, within `limit` seconds (default: the runner's
        time limit), in `client`'s turn."""
        with self._slots.slot(client):
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                worker = _Worker(self.warm, self.niceness)
                with self._lock:
                    self._all.add(worker)
            try:
                result = worker.call((job, args, kwargs), limit or self.timeout, self.start_timeout)
            except BaseException:
                worker.stop()
                with self._lock:
                    self._all.discard(worker)
                raise
            self._idle.put(worker)
            return result

    def close(self) -> None:
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.stop()


# ------------------------------------------------------------------------------------------
# CSV downloads
# ------------------------------------------------------------------------------------------

CSV_PREFIX = "recenter-leaderboard-"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def gradio_cache_folder() -> Path:
    """The folder Gradio copies served files into (GRADIO_TEMP_DIR, else <tmp>/gradio)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder())


def remove_stale_folders(parent: str | Path | None = None) -> list[Path]:
    """Remove `recenter-leaderboard-<pid>-*` folders of processes that no longer run."""
    removed = []
    for folder in Path(parent or tempfile.gettempdir()).glob(f"{CSV_PREFIX}*"):
        pid = folder.name.removeprefix(CSV_PREFIX).split("-", 1)[0]
        if folder.is_dir() and not folder.is_symlink() and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


class CsvFiles:
    """At most `max_files` CSV files in one private temporary folder, removed at exit."""

    def __init__(self, max_files: int = 64, parent: str | Path | None = None) -> None:
        # Inside Gradio's own cache by default: Gradio serves a file already there as it is,
        # instead of keeping one more copy of every download for its cache's lifetime.
        parent = Path(parent or gradio_cache_folder())
        parent.mkdir(parents=True, exist_ok=True)
        remove_stale_folders(parent)
        self.folder = Path(tempfile.mkdtemp(prefix=f"{CSV_PREFIX}{os.getpid()}-", dir=parent))
        self.max_files = max_files
        self._lock = threading.Lock()
        atexit.register(self.close)

    def write(self, name: str, text: str) -> str:
        """Write `text` as `recenter-<name>-<hash>.csv` (reused when the same view is asked
        again) and drop the oldest files beyond `max_files`."""
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
        path = self.folder / f"recenter-{name}-{digest}.csv"
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            if path.exists():
                path.touch()
            else:
                scratch = path.with_suffix(".tmp")
                scratch.write_text(text, encoding="utf-8")
                os.replace(scratch, path)
            files = sorted(self.folder.glob("*.csv"), key=lambda p: p.stat().st_mtime_ns)
            for old in files[: max(0, len(files) - self.max_files)]:
                old.unlink(missing_ok=True)
        return str(path)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
