"""The Space's webhook: a Hub pull request opened or updated on the leaderboard's repository is
checked (`recenter_bench.leaderboard.pr_check`) and the outcome posted on it as a comment.

The route is huggingface_hub's `WebhooksServer`, which mounts `POST /webhooks/<name>` on the
Gradio app's FastAPI server and refuses a request whose `X-Webhook-Secret` header is missing
(401) or wrong (403). It is only served when the Space has a `WEBHOOK_SECRET`; without one the
app runs exactly as `recenter leaderboard` does.

Two Hub events start a check (configure the webhook on the Space repository with the
"Community" and "Repo update" scopes): `discussion` / `create` of a pull request (opened), and
`repo.content` moving an existing `refs/pr/N` (new commits pushed to it). A new pull request
also moves its ref from nothing, which is left to the first event, so it is checked once.
"""

# No `from __future__ import annotations` here: FastAPI reads the route's annotations (the
# payload model) at run time, through huggingface_hub's wrapper, whose globals are not ours.

import asyncio
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from huggingface_hub import WebhookPayload, WebhooksServer

from recenter_bench.errors import UserError
from recenter_bench.leaderboard.pr_check import post_check
from recenter_bench.paths import HUB_LEADERBOARD_ID

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


@dataclass
class PullRequestWebhook:
    """What the webhook needs: its secret, the repository it watches, the dataset the checks
    use (None: as `recenter validate`) and a Hub client (None: HF_ENDPOINT / HF_TOKEN)."""

    secret: str
    repo_id: str = HUB_LEADERBOARD_ID
    dataset: str | Path | None = None
    api: Any = None

    async def handle(self, payload: WebhookPayload) -> dict[str, Any]:
        """Check the pull request the event names, if any; the reply says what was done."""
        number = pull_request_to_check(payload, self.repo_id)
        if number is None:
            return {"checked": None}
        try:
            # Downloading and scoring take seconds: off the event loop that serves the page.
            comment = await asyncio.to_thread(
                post_check, self.repo_id, number, api=self.api, dataset_source=self.dataset
            )
        except UserError as error:  # the pull request or the Hub could not be reached
            print(f"webhook: pull request #{number}: {error}", file=sys.stderr)  # Space logs
            return {"checked": number, "error": str(error)}
        return {"checked": number, "comment": comment}

    def launch(self, demo: gr.Blocks, **launch_kwargs: Any) -> None:
        """Serve `demo` with the webhook route (launch arguments as for `Blocks.launch`)."""
        server = WebhooksServer(ui=demo, webhook_secret=self.secret)

        async def pull_request(payload: WebhookPayload) -> dict[str, Any]:
            return await self.handle(payload)

        server.add_webhook(ROUTE)(pull_request)
        # WebhooksServer opens a public share link when not on a Space; the Space needs none.
        launch_kwargs.setdefault("share", False)
        server.launch(**launch_kwargs)
