"""The Space's API answers malformed calls with one line and a 4xx, and only with valid JSON.

`ApiGuard` is an ASGI middleware in front of Gradio's API routes:

- a call (`/gradio_api/run/<name>`, `/gradio_api/call/<name>`, `/gradio_api/queue/join`) whose
  values do not fit the endpoint's inputs (how many; a radio or checkbox-group value that is not
  one of its choices; text that is not text; a file that is not an upload of this server) is
  refused with 400 and one line naming the input, before Gradio sees it: Gradio would log a
  multi-kilobyte traceback for each and answer `/run/` with 500. A value is never echoed.
- `/gradio_api/run/` never answers 500 for an error raised while processing a call (a value
  Gradio still refuses, say an unknown submission id): 400, Gradio's own one-line message.
- JSON in the API's answers (JSON bodies and the `data:` lines of event streams) never holds a
  bare NaN or Infinity, which no JSON parser but Python's accepts: they become null.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from recenter_bench.leaderboard.limits import gradio_cache_folder, send_json_error

_CALL = re.compile(r"^/gradio_api/(?:run|call)/(?P<name>[^/]+)/?$")
_JOIN = "/gradio_api/queue/join"
# Choices named in a message (the Submission picker has one per submission).
_MAX_CHOICES_SHOWN = 8


def _choices(block: Any) -> list[Any]:
    return [c[1] if isinstance(c, tuple | list) else c for c in (block.choices or [])]


def _shown(choices: list[Any]) -> str:
    text = ", ".join(str(c) for c in choices[:_MAX_CHOICES_SHOWN])
    return text + (", ..." if len(choices) > _MAX_CHOICES_SHOWN else "")


def _is_upload(value: Any) -> bool:
    """A FileData of a file inside Gradio's upload cache (what an upload of this server is)."""
    if not isinstance(value, dict) or not isinstance(value.get("path"), str):
        return False
    try:
        path = Path(value["path"]).resolve()
    except (OSError, ValueError):
        return False
    return path.is_relative_to(gradio_cache_folder().resolve())


def value_problem(block: Any, value: Any, api: bool = True) -> str:
    """Why `value` does not fit an input component ("" when it does, or is not checked here);
    `api`: a call without a page session (`/run/`, `/call/`)."""
    if isinstance(block, gr.Radio):
        choices = _choices(block)
        return "" if value is None or value in choices else f"must be one of {_shown(choices)}"
    if isinstance(block, gr.CheckboxGroup):
        choices = _choices(block)
        if isinstance(value, list) and all(v in choices for v in value):
            return ""
        return f"must be a list of {_shown(choices)}"
    if isinstance(block, gr.Checkbox):
        return "" if isinstance(value, bool) else "must be true or false"
    if isinstance(block, gr.Dropdown) and not block.multiselect:
        if value is not None and not isinstance(value, str):
            return "must be text"
        # A page's picker may have been given newer choices (its session's copy); an API call
        # has no session, so its values are those of the component as built.
        if api and not block.allow_custom_value and value not in _choices(block):
            return f"must be one of its {len(_choices(block))} choices (see the page)"
        return ""
    if isinstance(block, gr.Textbox):
        return "" if value is None or isinstance(value, str) else "must be text"
    if isinstance(block, gr.File):
        files = value if isinstance(value, list) else [value]
        if value is None or all(_is_upload(f) for f in files):
            return ""
        return "must be files uploaded to this server (POST /gradio_api/upload)"
    return ""


def call_problem(blocks: gr.Blocks, body: Any, name: str | None) -> str:
    """Why a call's body does not fit its endpoint ("" when it does, or names no endpoint)."""
    if not isinstance(body, dict):
        return "the body must be a JSON object with a `data` list"
    if name is None:
        index = body.get("fn_index")
        fn = blocks.fns.get(index) if isinstance(index, int) else None
    else:
        fn = next((f for f in blocks.fns.values() if f.api_name == name), None)
    if fn is None:
        return ""  # Gradio answers an unknown endpoint itself
    data = body.get("data")
    label = fn.api_name or "this endpoint"
    if not isinstance(data, list) or len(data) != len(fn.inputs):
        count = len(data) if isinstance(data, list) else "no list of"
        return f"{label}: takes {len(fn.inputs)} input values, got {count}"
    for index, (block, value) in enumerate(zip(fn.inputs, data, strict=True)):
        why = value_problem(block, value, api=name is not None)
        if why:
            shown = getattr(block, "label", None) or type(block).__name__
            return f"{label}: input {index + 1} ({shown}): {why}"
    return ""


def json_safe(text: str) -> str:
    """JSON text with bare NaN / Infinity replaced by null (unchanged when it has none).

    >>> json_safe('[1.0, NaN, {"a": -Infinity}]')
    '[1.0, null, {"a": null}]'
    """
    if "NaN" not in text and "Infinity" not in text:
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return json.dumps(_finite(value), allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _event_stream_safe(chunk: bytes) -> bytes:
    """Each `data:` line of server-sent events made valid JSON (`json_safe`)."""
    lines = chunk.decode("utf-8", errors="surrogateescape").split("\n")
    for i, line in enumerate(lines):
        if line.startswith("data:"):
            lines[i] = "data: " + json_safe(line[5:].strip())
    return "\n".join(lines).encode("utf-8", errors="surrogateescape")


class ApiGuard:
    """ASGI middleware: malformed API calls get one line and 400; answers are valid JSON."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/gradio_api/"):
            await self.app(scope, receive, send)
            return
        match = _CALL.match(path)
        if scope.get("method") == "POST" and (match or path == _JOIN):
            body, receive = await _buffered(receive)
            blocks = _blocks(scope)
            if blocks is not None:
                try:
                    parsed = json.loads(body or b"null")
                except (ValueError, RecursionError):
                    await _answer(send, 400, "the body is not JSON")
                    return
                why = call_problem(blocks, parsed, match["name"] if match else None)
                if why:
                    await _answer(send, 400, why)
                    return
        await self.app(scope, receive, _safe_sender(send, path))


def _blocks(scope: dict) -> gr.Blocks | None:
    get_blocks = getattr(scope.get("app"), "get_blocks", None)
    try:
        return get_blocks() if get_blocks else None
    except Exception:  # no app mounted yet
        return None


async def _buffered(receive: Callable) -> tuple[bytes, Callable]:
    """The request body (RequestLimits, in front, already capped it) and a receive that
    replays it."""
    chunks = []
    while True:
        message = await receive()
        if message.get("type") != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replay = [{"type": "http.request", "body": body, "more_body": False}]

    async def again() -> dict:
        return replay.pop() if replay else await receive()

    return body, again


def _safe_sender(send: Callable, path: str) -> Callable:
    """`send` with JSON answers made valid and `/run/` errors answered 400, not 500."""
    state: dict[str, Any] = {"start": None, "kind": "", "body": []}

    async def safe_send(message: dict) -> None:
        if message["type"] == "http.response.start":
            headers = dict(message.get("headers") or [])
            kind = headers.get(b"content-type", b"").split(b";")[0].strip()
            status = message["status"]
            if status == 500 and path.startswith("/gradio_api/run/"):
                message = {**message, "status": 400}
            if kind == b"application/json":
                state["start"], state["kind"] = message, "json"  # sent with the whole body
                return
            state["kind"] = "events" if kind == b"text/event-stream" else ""
            await send(message)
            return
        if message["type"] != "http.response.body" or not state["kind"]:
            await send(message)
            return
        if state["kind"] == "events":
            await send({**message, "body": _event_stream_safe(message.get("body", b""))})
            return
        state["body"].append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = json_safe(b"".join(state["body"]).decode("utf-8", "surrogateescape")).encode(
            "utf-8", "surrogateescape"
        )
        start = state["start"]
        headers = [(k, v) for k, v in start.get("headers") or [] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return safe_send


async def _answer(send: Callable, status: int, why: str) -> None:
    """One line of JSON, the connection kept (a refused call's body was already read)."""
    await send_json_error(send, status, " ".join(why.split())[:300], close=False)
