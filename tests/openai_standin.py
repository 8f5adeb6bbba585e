"""An OpenAI-compatible chat server on 127.0.0.1 for tests and benchmarks.

It serves `GET /v1/models` and `POST /v1/chat/completions` over real HTTP (a threaded server,
keep-alive), so `recenter run` is exercised through its real HTTP transport. What it
answers is up to a `respond(body) -> (status, text)` function; it can wait before answering
(`latency_s`), fail chosen requests first (`fail_first`: request content -> statuses to answer
before the real one; status 0 closes the connection without an answer), and counts every
request it receives.

`paper_replay(release)` is the responder of the end-to-end test: it answers each Stage-2
request with the authors' recorded `full_output` for that (attribute, prompt) pair, and fails
the request (400) unless it is exactly the paper's protocol: one user message, no system
message, the template of `../shared/protocol/stage2-relevance-prompt.txt` filled with the
pair's attribute and the prompt cut to 800 characters, temperature 0, 4,096 new tokens.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Responder = Callable[[Mapping[str, Any]], tuple[int, str]]


class _Server(ThreadingHTTPServer):
    # socketserver's default listen backlog (5) refuses connections when 64 clients open theirs
    # at once; a real endpoint queues them.
    request_queue_size = 256

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out or hung up before the answer: not an error of the stand-in.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class StandIn:
    """Start with `with StandIn(respond) as server:`; `server.url` is the base URL."""

    def __init__(
        self,
        respond: Responder,
        models: tuple[str, ...] = ("stand-in",),
        latency_s: float = 0.0,
        fail_first: Mapping[str, list[int]] | None = None,
        api_key: str | None = None,
    ) -> None:
        self.respond = respond
        self.models = models
        self.latency_s = latency_s
        self.fail_first = {k: list(v) for k, v in (fail_first or {}).items()}
        self.api_key = api_key
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _count(self, key: str) -> None:
        with self.lock:
            self.counts[key] += 1

    def _planned_failure(self, content: str) -> int | None:
        with self.lock:
            statuses = self.fail_first.get(content)
            return statuses.pop(0) if statuses else None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once, no 40 ms stall

            def log_message(self, *args: object) -> None:  # quiet test output
                pass

            def _send(self, status: int, document: Mapping[str, Any]) -> None:
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.end_headers()
                self.wfile.write(body)

            def _authorized(self) -> bool:
                if standin.api_key is None:
                    return True
                if self.headers.get("Authorization") == f"Bearer {standin.api_key}":
                    return True
                self._send(401, {"error": {"message": "invalid api key", "code": 401}})
                return False

            def do_GET(self) -> None:
                standin._count("models")
                if not self._authorized():
                    return
                if self.path.rstrip("/") != "/v1/models":
                    self._send(404, {"error": {"message": "not found"}})
                    return
                data = [{"id": m, "object": "model", "owned_by": "test"} for m in standin.models]
                self._send(200, {"object": "list", "data": data})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                standin._count("chat")
                if not self._authorized():
                    return
                if standin.latency_s:
                    time.sleep(standin.latency_s)
                if body.get("model") not in standin.models:
                    message = f"The model `{body.get('model')}` does not exist."
                    self._send(404, {"error": {"message": message, "code": 404}})
                    return
                content = "".join(m.get("content", "") for m in body.get("messages", []))
                failure = standin._planned_failure(content)
                if failure is not None:
                    standin._count(f"failed-{failure}")
                    if failure == 0:  # a dropped connection: no status line at all
                        self.close_connection = True
                        return
                    self._send(failure, {"error": {"message": "planned failure"}})
                    return
                status, text = standin.respond(body)
                if status != 200:
                    self._send(status, {"error": {"message": text}})
                    return
                standin._count("answered")
                self._send(
                    200,
                    {
                        "id": "chatcmpl-standin",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {
                                "index": 0,
                                "finish_reason": "stop",
                                "message": {"role": "assistant", "content": text},
                            }
                        ],
                        "usage": {
                            "prompt_tokens": len(content.split()),
                            "completion_tokens": len(text.split()),
                            "total_tokens": len(content.split()) + len(text.split()),
                        },
                    },
                )

        return Handler


def paper_replay(release: Path, template_path: Path) -> Responder:
    """Replay the authors' recorded answers, accepting only the paper's Stage-2 requests."""
    template = template_path.read_text(encoding="utf-8")
    head, rest = template.split("{attribute}")
    middle, tail = rest.split("{prompt}")
    shape = re.compile(
        re.escape(head)
        + r"(?P<attribute>.*)"
        + re.escape(middle)
        + r"(?P<prompt>.*)"
        + re.escape(tail)
        + r"\Z",
        re.DOTALL,
    )
    prompts = {}
    for line in (release / "data" / "extracted" / "task5_items.jsonl").open(encoding="utf-8"):
        item = json.loads(line)
        prompts[item["prompt_index"]] = item["prompt_text"]
    answers: dict[tuple[str, str], str] = {}
    for path in sorted((release / "data" / "relevance_task5").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            record = json.loads(line)
            prompt = prompts[record["prompt_index"]][:800]
            for item in record["items"]:
                answers[(path.stem, item["attribute"], prompt)] = item["full_output"]

    def respond(body: Mapping[str, Any]) -> tuple[int, str]:
        messages = body.get("messages", [])
        if len(messages) != 1 or messages[0].get("role") != "user":
            return 400, "expected exactly one user message and no system message"
        if body.get("temperature") != 0.0 or body.get("max_tokens") != 4096:
            return 400, "expected temperature 0.0 and max_tokens 4096"
        match = shape.match(messages[0]["content"])
        if match is None:
            return 400, "not the paper's Stage-2 prompt"
        key = (body["model"], match["attribute"], match["prompt"])
        if key not in answers:
            return 400, "no recorded answer for this (attribute, prompt[:800]) pair"
        return 200, answers[key]

    return respond
