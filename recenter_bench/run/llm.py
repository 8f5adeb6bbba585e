"""Sending chat requests to any OpenAI-compatible endpoint over one lean aiohttp session.

vLLM, SGLang, TGI, llama.cpp, Ollama and hosted APIs all answer `/v1/chat/completions`, so one
path serves them all; scaling out is the endpoint's job (`vllm serve` behind one URL), not a
scheduler of ours. `concurrency` workers each keep one request in flight over a pool of
keep-alive connections; each request is retried with exponential backoff and jitter on 408,
409, 429, 5xx, timeouts and dropped connections (a server's Retry-After is honoured).

Why not the official `openai` client: against an instant endpoint it spent most of each
request building and validating typed objects and scanning its connection pool (a cost that
grows with the pool, so 64 requests in flight were slower than 8); this path sends the JSON
body as is and reads back the three fields the runner uses, so a fast server, not the runner,
sets the pace (benchmarks/bench_run.py).

The event loop does no file work per answer: answers are read from an `AnswerCache` before
anything is sent, new ones are handed to a `CacheWriter` thread, and the progress bar is
redrawn a few times a second. The API key is read from the environment variable the user
names and is never written anywhere; the endpoint's URL is stored without credentials.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from recenter_bench.errors import UserError, first_line
from recenter_bench.run.cache import AnswerCache, CacheWriter, is_count
from recenter_bench.run.records import Endpoint

RETRY_AFTER_CAP_S = 60.0
BACKOFF_CAP_S = 30.0
# Far above any real chat completion (4,096 tokens of text); a larger body is an error.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
RETRY_STATUSES = (408, 409, 429)
PROGRESS_EVERY_S = 0.2
UNKNOWN_ENDPOINT = "unknown"


@dataclass(frozen=True)
class Answer:
    """One request's outcome: the answer text (None if it failed), its token counts, whether it
    came from the cache, and the endpoint that first answered it ("unknown" for cache entries
    written before endpoints were recorded)."""

    text: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    error: str | None = None
    endpoint: str | None = None


class RequestFailed(Exception):
    """A request that got no usable answer: why (one line), and whether trying again may help."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after


def _proxy(url: str) -> str | None:
    """The proxy the environment names for `url` (HTTP(S)_PROXY, NO_PROXY), as the `openai`
    client honours them; looked up once per run, not per request as aiohttp's `trust_env`
    does (two thread hops per request)."""
    from urllib.request import getproxies, proxy_bypass

    parts = urlsplit(url)
    proxy = getproxies().get(parts.scheme)
    return None if not proxy or proxy_bypass(parts.hostname or "") else proxy


def _session(endpoint: Endpoint) -> Any:
    import aiohttp

    headers = {
        "Authorization": f"Bearer {endpoint.api_key()}",
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": "recenter-bench",
    }
    return aiohttp.ClientSession(
        headers=headers,
        connector=aiohttp.TCPConnector(limit=endpoint.concurrency),
        timeout=aiohttp.ClientTimeout(total=endpoint.timeout_s),
        proxy=_proxy(endpoint.base_url),
    )


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After")
    try:
        return min(max(float(value), 0.0), RETRY_AFTER_CAP_S) if value is not None else None
    except ValueError:
        return None


def _error_message(status: int, reason: str | None, body: bytes) -> str:
    """`status: message`, the message being the server's `error.message` when it sent one."""
    message = ""
    try:
        document = json.loads(body)
        error = document.get("error") if isinstance(document, dict) else None
        message = error.get("message", "") if isinstance(error, dict) else error or ""
        message = message if isinstance(message, str) else ""
    except (ValueError, RecursionError):
        message = body[:300].decode("utf-8", "replace")
    message = " ".join(message.split())[:300] or reason or "no message"
    return f"{status}: {message}"


async def _read_body(response: Any) -> bytes:
    """The response body, refused when larger than MAX_RESPONSE_BYTES (bounded work)."""
    if response.content_length is not None:
        if response.content_length > MAX_RESPONSE_BYTES:
            raise RequestFailed(
                f"the response is larger than {MAX_RESPONSE_BYTES:,} bytes", retryable=False
            )
        return await response.read()
    chunks, size = [], 0
    while chunk := await response.content.read(65536):
        chunks.append(chunk)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise RequestFailed(
                f"the response is larger than {MAX_RESPONSE_BYTES:,} bytes", retryable=False
            )
    return b"".join(chunks)


async def _exchange(session: Any, method: str, url: str, body: bytes | None) -> bytes:
    """One HTTP exchange: the body of a 2xx answer, else RequestFailed (retryable or not)."""
    import aiohttp

    try:
        async with session.request(method, url, data=body) as response:
            data = await _read_body(response)
            status = response.status
            if status < 300:
                return data
            raise RequestFailed(
                _error_message(status, response.reason, data),
                retryable=status in RETRY_STATUSES or status >= 500,
                status=status,
                retry_after=_retry_after(response.headers),
            )
    except TimeoutError:  # aiohttp's ServerTimeoutError too
        raise RequestFailed("timed out", retryable=True) from None
    except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as error:
        raise RequestFailed(first_line(error), retryable=True) from None
    except (aiohttp.ClientError, ValueError) as error:  # an invalid URL, a malformed response
        raise RequestFailed(first_line(error), retryable=False) from None


async def check_endpoint(session: Any, endpoint: Endpoint) -> None:
    """Fail early, in one line, when the endpoint is unreachable, refuses the key or does not
    serve the model (servers without a model list are taken at their word)."""
    try:
        data = await _exchange(session, "GET", endpoint.url("models"), None)
    except RequestFailed as failure:
        if failure.status == 401:
            raise UserError(
                f"--base-url: {endpoint.base_url} refused the API key in ${endpoint.api_key_env}"
            ) from None
        if failure.status == 404:
            return
        if failure.status is None:
            raise UserError(
                f"--base-url: cannot reach {endpoint.base_url} ({failure}); is the server running?"
            ) from None
        raise UserError(
            f"--base-url: {endpoint.base_url} answered {failure.status} to the model list"
        ) from None
    served = _served_models(data)
    if served and endpoint.model not in served:
        shown = ", ".join(served[:10]) + (", ..." if len(served) > 10 else "")
        raise UserError(
            f"--model: {endpoint.model!r} is not served by {endpoint.base_url} (it serves: {shown})"
        )


def _served_models(data: bytes) -> list[str]:
    """The model IDs of a `/models` answer; [] when it holds no readable list."""
    try:
        listed = json.loads(data).get("data")
    except (ValueError, AttributeError, RecursionError):
        return []
    if not isinstance(listed, list):
        return []
    return [m["id"] for m in listed if isinstance(m, dict) and isinstance(m.get("id"), str)]


def _answer_of(data: bytes, endpoint: str) -> Answer:
    """The first choice's message and the token counts of a chat completion body."""
    try:
        document = json.loads(data)
        choices = document.get("choices") or [{}]
        text = choices[0].get("message", {}).get("content")
    except (ValueError, AttributeError, IndexError, TypeError, RecursionError):
        return Answer(text=None, error="the response is not a chat completion")
    if not isinstance(text, str):
        return Answer(text=None, error="the response holds no message content")
    usage = document.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    return Answer(
        text=text,
        prompt_tokens=prompt if is_count(prompt) else 0,
        completion_tokens=completion if is_count(completion) else 0,
        endpoint=endpoint,
    )


async def _send(session: Any, body: bytes, endpoint: Endpoint) -> Answer:
    """One request with retries; never raises for an API error (the Answer carries it)."""
    url = endpoint.url("chat/completions")
    attempt = 0
    while True:
        try:
            data = await _exchange(session, "POST", url, body)
        except RequestFailed as failure:
            if not failure.retryable or attempt >= endpoint.max_retries:
                return Answer(text=None, error=str(failure))
            wait = failure.retry_after
            if wait is None:
                wait = min(BACKOFF_CAP_S, endpoint.backoff_s * 2**attempt)
                wait *= 0.5 + random.random() / 2  # jitter: retries of many requests spread out
            attempt += 1
            await asyncio.sleep(wait)
            continue
        return _answer_of(data, endpoint.public_url)


def _cache_entry(body: bytes, answer: Answer) -> bytes:
    """The cache entry of an answer as JSON, around the request body already serialised for
    sending (the request is not serialised twice)."""
    rest = {
        "answer": answer.text,
        "usage": {
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
        },
        "endpoint": answer.endpoint,
    }
    return b'{"request": ' + body + b", " + json.dumps(rest, ensure_ascii=False).encode()[1:]


async def _ask_all(
    endpoint: Endpoint,
    requests: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    answers: list[Answer | None],
    cache: AnswerCache,
    show_progress: bool,
) -> None:
    from tqdm import tqdm

    todo = [i for i, answer in enumerate(answers) if answer is None]
    async with _session(endpoint) as session:
        await check_endpoint(session, endpoint)
        cache.create()
        counts = {"done": 0, "tokens": 0, "failed": 0}
        with (
            CacheWriter(cache) as writer,
            tqdm(
                total=len(todo),
                desc=f"{endpoint.model} ({len(requests) - len(todo)} cached)",
                unit="req",
                file=sys.stderr,
                disable=not show_progress,
            ) as bar,
        ):
            pending = iter(todo)

            async def worker() -> None:
                for i in pending:  # the workers share one iterator: each index is sent once
                    body = json.dumps(requests[i], ensure_ascii=False).encode("utf-8")
                    answer = await _send(session, body, endpoint)
                    if answer.text is not None:
                        writer.put_json(keys[i], _cache_entry(body, answer))
                    answers[i] = answer
                    counts["done"] += 1
                    counts["tokens"] += answer.prompt_tokens + answer.completion_tokens
                    counts["failed"] += answer.text is None

            def redraw() -> None:
                bar.set_postfix(tokens=counts["tokens"], failed=counts["failed"], refresh=False)
                bar.update(counts["done"] - bar.n)

            async def progress() -> None:
                while True:
                    await asyncio.sleep(PROGRESS_EVERY_S)
                    redraw()

            ticker = asyncio.create_task(progress()) if show_progress else None
            try:
                workers = min(endpoint.concurrency, len(todo))
                await asyncio.gather(*(worker() for _ in range(workers)))
            finally:
                if ticker is not None:
                    ticker.cancel()
            redraw()


def ask(
    endpoint: Endpoint,
    requests: Sequence[Mapping[str, Any]],
    cache: AnswerCache,
    *,
    show_progress: bool = True,
    looked_up: tuple[list[str], list[dict[str, Any] | None]] | None = None,
) -> list[Answer]:
    """The answer to every request, in order: from the cache, else from the endpoint. Nothing
    is sent (not even the endpoint check) when every answer is cached. `looked_up` is
    `cache.look_up(requests)` when the caller looked the requests up already."""
    keys, entries = looked_up if looked_up is not None else cache.look_up(requests)
    answers: list[Answer | None] = []
    for entry in entries:  # checked: `usage` holds token counts when present
        if entry is None:
            answers.append(None)
            continue
        usage = entry.get("usage", {})
        first = entry.get("endpoint")
        answers.append(
            Answer(
                text=entry["answer"],
                prompt_tokens=usage.get("prompt_tokens", 0),
                completion_tokens=usage.get("completion_tokens", 0),
                cached=True,
                endpoint=first if isinstance(first, str) and first else UNKNOWN_ENDPOINT,
            )
        )
    if any(answer is None for answer in answers):
        asyncio.run(_ask_all(endpoint, requests, keys, answers, cache, show_progress))
    return [answer or Answer(text=None, error="not sent") for answer in answers]


NONE_CONTACTED = "none (every answer came from the cache)"
MAX_ENDPOINTS_LISTED = 50


def answer_provenance(endpoint: Any, answers: Sequence[Any]) -> dict[str, Any]:
    """Where a run's answers came from: the endpoint it contacted (its URL without credentials,
    or NONE_CONTACTED), how many answers the cache gave, and which endpoint first answered
    each ("unknown" for cache entries from before endpoints were recorded)."""
    contacted = any(not answer.cached for answer in answers)
    answered_by: dict[str, int] = {}
    for answer in answers:
        if answer.text is not None:
            answered_by[answer.endpoint] = answered_by.get(answer.endpoint, 0) + 1
    ranked = sorted(answered_by.items(), key=lambda item: (-item[1], item[0]))
    if len(ranked) > MAX_ENDPOINTS_LISTED:  # the metadata schema's bound
        rest = sum(count for _, count in ranked[MAX_ENDPOINTS_LISTED - 1 :])
        ranked = [*ranked[: MAX_ENDPOINTS_LISTED - 1], ("other endpoints", rest)]
    return {
        "endpoint_contacted": endpoint.public_url if contacted else NONE_CONTACTED,
        "answers_from_cache": sum(answer.cached for answer in answers),
        "first_answered_by": dict(sorted(ranked)),
    }


@dataclass(frozen=True)
class AnswerSummary:
    """What a run's answers add up to for its record: where they came from, their tokens, and
    the requests that failed (a run with any writes nothing)."""

    provenance: dict[str, Any]
    prompt_tokens: int
    completion_tokens: int
    failures: list[str]


def answer_summary(endpoint: Any, answers: Sequence[Answer]) -> AnswerSummary:
    """The provenance (`answer_provenance`), token counts and failures of a run's answers."""
    return AnswerSummary(
        answer_provenance(endpoint, answers),
        sum(a.prompt_tokens for a in answers),
        sum(a.completion_tokens for a in answers),
        [a.error or "failed" for a in answers if a.text is None],
    )
