"""The Hugging Face Hub client every Hub call of the project goes through (the data side's
`recenter push`, the submissions side's pull requests, the Space's PR checks, `--dataset` with
a Hub ID). `huggingface_hub` is imported only when a call is made."""

from __future__ import annotations

import os
from typing import Any

from recenter_bench.errors import UserError, first_line


def hub_api(endpoint: str | None = None, token: str | None = None) -> Any:
    """An `HfApi` for the Hub that HF_ENDPOINT / HF_TOKEN select unless given (read at call
    time, so tests can point the CLI at a local stand-in)."""
    from huggingface_hub import HfApi

    return HfApi(
        endpoint=endpoint or os.environ.get("HF_ENDPOINT"),
        token=token or os.environ.get("HF_TOKEN"),
    )


def download_dataset(repo_id: str) -> str:
    """The local snapshot folder of a Hub dataset (downloaded once, then served from the Hub
    cache), so a Hub ID and a local folder are read by the same code."""
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(repo_id, repo_type="dataset")
    except Exception as error:  # network, auth, missing repo: all a user-level problem
        raise UserError(
            f"could not download {repo_id!r} from the Hub: {first_line(error)}"
        ) from None
