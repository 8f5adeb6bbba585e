"""The Space's webhook: a Hub pull request opened or updated on the leaderboard's repository is
checked (`recenter_bench.review.pr_check`) and the outcome posted on it as a comment.

The route, `POST /webhooks/pull_request` on the Gradio app's FastAPI server, refuses a request
whose `X-Webhook-Secret` header is missing or wrong (401) before reading its body, and a body
that is not a Hub webhook payload (400), without echoing either. It is only served when the
Space has a `WEBHOOK_SECRET`; without one the app runs exactly as `recenter leaderboard` does.
A check runs in the Submit tab's time-limited worker processes, in turn with the previews
(`limits.PreviewRunner`), and once per head commit of a pull request: a replayed event posts
no second comment.

Two Hub events start a check (configure the webhook on the Space repository with the
"Community" and "Repo update" scopes): `discussion` / `create` of a pull request (opened), and
`repo.content` moving an existing `refs/pr/N` (new commits pushed to it). A new pull request
also moves its ref from nothing, which is left to the first event, so it is checked once.
"""

# No `from __future__ import annotations` here: FastAPI reads the route's annotations (the
# payload model) at run time, through huggingface_hub's wrapper, whose globals are not ours.

import asyncio
import hmac
import re
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import Request
from huggingface_hub import WebhookPayload

from recenter_bench.hub import hub_api
from recenter_bench.paths import HUB_LEADERBOARD_ID
from recenter_bench.review.hub import hub_error
from recenter_bench.review.pr_check import post_check

ROUTE = "pull_request"  # served at /webhooks/pull_request
_PR_REF = re.compile(r"^refs/pr/(\d+)$")


def pull_request_to_check(payload: WebhookPayload, repo_id: str) -> int | None:
    """The number of the pull request a webhook event asks to check, or None.

    >>> event = {"action": "create", "scope": "discussion"}
    >>> repo = {"id": "1", "owner": {"id": "2"}, "name": "o/r", "private": False,
    ...         "type": "space", "url": {"web": "https://h/spaces/o/r"}}
    >>> discussion = {"id": "3", "num": 4, "author": {"id": "5"}, "title": "Add",
    ...               "url": {"web": "w"}, "isPullRequest": True, "status": "open"}
    >>> webhook = {"id": "6", "version": 3}
    >>> payload = WebhookPayload(event=event, repo=repo, discussion=discussion, webhook=webhook)
    >>> pull_request_to_check(payload, "o/r"), pull_request_to_check(payload, "o/other")
    (4, None)
    """
    if payload.repo.name != repo_id or payload.repo.type != "space":
        return None
    discussion = payload.discussion
    if payload.event.scope == "discussion":
        opened = payload.event.action == "create" and discussion is not None
        if opened and discussion.isPullRequest and discussion.status in ("open", "draft"):
            return discussion.num
        return None
    if payload.event.scope == "repo.content":
        for ref in payload.updatedRefs or []:
            match = _PR_REF.match(ref.ref)
            if match and ref.oldSha and ref.newSha:
                return int(match[1])
    return None


# A pull request number the Hub could have given (a larger one is no pull request of ours).
MAX_PR_NUMBER = 10_000_000
# (number, head commit) pairs already checked, remembered so a replayed event posts nothing.
MAX_REMEMBERED_CHECKS = 4096
# A pull request check (up to pr_check.MAX_FOLDERS folders) is stopped after this long.
PR_CHECK_SECONDS = 120.0
# The fair queue's name for the webhook: one check at a time, in turn with the previews.
WEBHOOK_CLIENT = "webhook"


def _reply(status: int, why: str) -> Any:
    from fastapi.responses import JSONResponse

    return JSONResponse({"error": why}, status_code=status)


@dataclass
class PullRequestWebhook:
    """What the webhook needs: its secret, the time-limited workers the checks run in (the
    Space passes its Submit tab's `limits.PreviewRunner`, so checks take turns with previews),
    the repository it watches, the dataset the checks use (None: as `recenter validate`) and a
    Hub client (None: HF_ENDPOINT / HF_TOKEN)."""

    secret: str
    runner: Any
    repo_id: str = HUB_LEADERBOARD_ID
    dataset: str | Path | None = None
    api: Any = None
    _checked: OrderedDict = field(default_factory=OrderedDict, init=False, repr=False)

    async def handle_request(self, request: Request) -> Any:
        """The route: the secret first (401 when missing or wrong, nothing else read), then
        the body as a Hub webhook payload (400 when it is not one; the input is never echoed)."""
        given = request.headers.get("x-webhook-secret") or ""
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            return _reply(401, "missing or invalid X-Webhook-Secret")
        try:
            payload = WebhookPayload.model_validate_json(await request.body())
        except (ValueError, TypeError):
            return _reply(400, "the body is not a Hub webhook payload")
        return await self.handle(payload)

    async def handle(self, payload: WebhookPayload) -> dict[str, Any]:
        """Check the pull request the event names, if any, once per head commit; the reply says
        what was done."""
        number = pull_request_to_check(payload, self.repo_id)
        if number is None or not 0 < number <= MAX_PR_NUMBER:
            return {"checked": None}
        api = self.api or hub_api()
        try:
            head = await asyncio.to_thread(self._head, api, number)
        except Exception as error:  # the pull request or the Hub could not be reached
            print(f"webhook: pull request #{number}: {hub_error(error)}", file=sys.stderr)
            return {"checked": number, "error": "could not read the pull request"}
        key = (number, head)
        if key in self._checked:
            return {"checked": number, "duplicate": head}
        self._remember(key)
        try:
            # Downloading and scoring take seconds: in a time-limited worker, off the event loop.
            comment = await asyncio.to_thread(
                self.runner.call,
                post_check,
                self.repo_id,
                number,
                client=WEBHOOK_CLIENT,
                limit=PR_CHECK_SECONDS,
                api=self.api,
                dataset_source=self.dataset,
            )
        except Exception as error:  # stopped at its limit, or the Hub failed: retried next time
            self._checked.pop(key, None)
            message = " ".join(str(error).split())[:300]
            print(f"webhook: pull request #{number}: {message}", file=sys.stderr)  # Space logs
            return {"checked": number, "error": message}
        return {"checked": number, "comment": comment}

    def _head(self, api: Any, number: int) -> str:
        """The commit `refs/pr/<number>` points at."""
        info = api.repo_info(self.repo_id, repo_type="space", revision=f"refs/pr/{number}")
        return str(info.sha)

    def _remember(self, key: tuple[int, str]) -> None:
        self._checked[key] = None
        while len(self._checked) > MAX_REMEMBERED_CHECKS:
            self._checked.popitem(last=False)

    def launch(self, demo: gr.Blocks, **launch_kwargs: Any) -> None:
        """Serve `demo` with the webhook route (launch arguments as for `Blocks.launch`)."""
        block = not launch_kwargs.pop("prevent_thread_lock", False)
        app, _, _ = demo.launch(prevent_thread_lock=True, **launch_kwargs)
        app.add_api_route(
            f"/webhooks/{ROUTE}", self.handle_request, methods=["POST"], response_model=None
        )
        if block:
            demo.block_thread()
