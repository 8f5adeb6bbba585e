"""Sending chat requests to any OpenAI-compatible endpoint with the official `openai` client.

vLLM, SGLang, TGI, llama.cpp, Ollama and hosted APIs all answer `/v1/chat/completions`, so one
path serves them all; scaling out is the endpoint's job (`vllm serve` behind one URL), not a
scheduler of ours. Requests go out concurrently (asyncio, at most `concurrency` in flight),
each retried with exponential backoff and jitter on 429, 5xx, timeouts and dropped connections
(a server's Retry-After is honoured). Answers are read from and written to an `AnswerCache`
first, so only requests without a cached answer are sent. The API key is read from the
environment variable the user names and is never written anywhere.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from recenter_bench.errors import UserError, first_line
from recenter_bench.run.cache import AnswerCache, request_key

RETRY_AFTER_CAP_S = 60.0
BACKOFF_CAP_S = 30.0


@dataclass(frozen=True)
class Endpoint:
    """Where requests go and how hard to try."""

    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 8
    max_retries: int = 6
    timeout_s: float = 600.0
    backoff_s: float = 1.0  # first retry waits about this long; each next one twice as long

    @property
    def label(self) -> str:
        """The base URL without credentials, query or fragment: what a cache entry and the run's
        metadata record as the endpoint that answered."""
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host
        try:
            port = f":{parts.port}" if parts.port else ""
        except ValueError:  # a port that is not a number: the request itself will say so
            port = ""
        return f"{parts.scheme}://{host}{port}{parts.path}".rstrip("/")

    def api_key(self) -> str:
        """The key from the environment; missing is a user error (a keyless local server takes
        any value, e.g. `export OPENAI_API_KEY=EMPTY`, as vLLM documents)."""
        key = os.environ.get(self.api_key_env)
        if not key:
            raise UserError(
                f"--api-key-env: the environment variable {self.api_key_env} is not set; export "
                "your API key there (for a server without authentication any value works, e.g. "
                f"{self.api_key_env}=EMPTY)"
            )
        return key


@dataclass(frozen=True)
class Answer:
    """One request's outcome: the answer text (None if it failed) and its token counts."""

    text: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    error: str | None = None
    # The endpoint that first gave this answer (a cached one: as its cache entry records it).
    answered_by: str | None = None


def _client(endpoint: Endpoint) -> Any:
    from openai import AsyncOpenAI

    # Retries are ours (below), so that a failure is counted once and never cached.
    return AsyncOpenAI(
        base_url=endpoint.base_url,
        api_key=endpoint.api_key(),
        timeout=endpoint.timeout_s,
        max_retries=0,
    )


async def check_endpoint(client: Any, endpoint: Endpoint) -> None:
    """Fail early, in one line, when the endpoint is unreachable, refuses the key or does not
    serve the model (servers without a model list are taken at their word)."""
    import openai

    try:
        served = [model.id async for model in client.models.list()]
    except openai.AuthenticationError:
        raise UserError(
            f"--base-url: {endpoint.base_url} refused the API key in ${endpoint.api_key_env}"
        ) from None
    except openai.NotFoundError:
        return
    except (openai.APIConnectionError, openai.APITimeoutError) as error:
        raise UserError(
            f"--base-url: cannot reach {endpoint.base_url} ({first_line(error)}); is the server "
            "running?"
        ) from None
    except openai.APIStatusError as error:
        raise UserError(
            f"--base-url: {endpoint.base_url} answered {error.status_code} to the model list"
        ) from None
    if served and endpoint.model not in served:
        shown = ", ".join(served[:10]) + (", ..." if len(served) > 10 else "")
        raise UserError(
            f"--model: {endpoint.model!r} is not served by {endpoint.base_url} (it serves: {shown})"
        )


def _retryable(error: BaseException) -> bool:
    import openai

    if isinstance(error, openai.APIConnectionError | openai.APITimeoutError):
        return True  # APITimeoutError is a connection error too; both are transient
    if isinstance(error, openai.APIStatusError):
        return error.status_code in (408, 409, 429) or error.status_code >= 500
    return False


def _retry_after(error: BaseException) -> float | None:
    response = getattr(error, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return min(float(value), RETRY_AFTER_CAP_S) if value is not None else None
    except ValueError:
        return None


def _describe(error: BaseException) -> str:
    status = getattr(error, "status_code", None)
    return f"{status}: {first_line(error)}" if status else first_line(error)


async def _send(client: Any, request: Mapping[str, Any], endpoint: Endpoint) -> Answer:
    """One request with retries; never raises for an API error (the Answer carries it)."""
    attempt = 0
    while True:
        try:
            response = await client.chat.completions.create(**request)
        except Exception as error:  # noqa: BLE001 - every API error becomes a failed Answer
            if not _retryable(error) or attempt >= endpoint.max_retries:
                return Answer(text=None, error=_describe(error))
            wait = _retry_after(error)
            if wait is None:
                wait = min(BACKOFF_CAP_S, endpoint.backoff_s * 2**attempt)
                wait *= 0.5 + random.random() / 2  # jitter: retries of many requests spread out
            attempt += 1
            await asyncio.sleep(wait)
            continue
        choice = response.choices[0] if response.choices else None
        text = choice.message.content if choice is not None else None
        if text is None:
            return Answer(text=None, error="the response holds no message content")
        usage = response.usage
        return Answer(
            text=text,
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
        )


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
    client = _client(endpoint)
    async with client:
        await check_endpoint(client, endpoint)
        cache.create()
        limit = asyncio.Semaphore(endpoint.concurrency)
        tokens = failed = 0
        cached = len(requests) - len(todo)
        with tqdm(
            total=len(todo),
            desc=f"{endpoint.model} ({cached} cached)",
            unit="req",
            file=sys.stderr,
            disable=not show_progress,
        ) as bar:

            async def one(i: int) -> None:
                nonlocal tokens, failed
                async with limit:
                    answer = await _send(client, requests[i], endpoint)
                if answer.text is not None:
                    cache.put(
                        keys[i],
                        {
                            "request": dict(requests[i]),
                            "answer": answer.text,
                            "answered_by": endpoint.label,
                            "usage": {
                                "prompt_tokens": answer.prompt_tokens,
                                "completion_tokens": answer.completion_tokens,
                            },
                        },
                    )
                answers[i] = replace(answer, answered_by=endpoint.label)
                tokens += answer.prompt_tokens + answer.completion_tokens
                failed += answer.text is None
                bar.set_postfix(tokens=tokens, failed=failed, refresh=False)
                bar.update(1)

            await asyncio.gather(*(one(i) for i in todo))


def _answered_by(entry: Mapping[str, Any]) -> str:
    """Where a cache entry's answer came from (entries written before it was recorded: unknown)."""
    value = entry.get("answered_by")
    return value[:200] if isinstance(value, str) and value else "unknown"


def ask(
    endpoint: Endpoint,
    requests: Sequence[Mapping[str, Any]],
    cache: AnswerCache,
    *,
    show_progress: bool = True,
) -> list[Answer]:
    """The answer to every request, in order: from the cache, else from the endpoint. Nothing
    is sent (not even the endpoint check) when every answer is cached."""
    keys = [request_key(request) for request in requests]
    answers: list[Answer | None] = []
    for key in keys:
        entry = cache.get(key)  # checked: `usage` holds token counts when present
        usage = entry.get("usage", {}) if entry else {}
        answers.append(
            Answer(
                text=entry["answer"],
                prompt_tokens=usage.get("prompt_tokens", 0),
                completion_tokens=usage.get("completion_tokens", 0),
                cached=True,
                answered_by=_answered_by(entry),
            )
            if entry
            else None
        )
    if any(answer is None for answer in answers):
        asyncio.run(_ask_all(endpoint, requests, keys, answers, cache, show_progress))
    return [answer or Answer(text=None, error="not sent") for answer in answers]
