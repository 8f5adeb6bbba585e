"""The Hugging Face Hub client every Hub call of the project goes through (the data side's
`recenter push`, the submissions side's pull requests, the Space's PR checks, `--dataset` with
a Hub ID). `huggingface_hub` is imported only when a call is made."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
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


@contextlib.contextmanager
def hub_upload_errors(repo_id: str, endpoint: str) -> Iterator[None]:
    """Turn what the Hub client raises while creating or uploading to `repo_id` into one-line
    UserErrors: offline mode, a malformed ID (before any request), a refusal (HTTP 4xx/5xx,
    credentials) and an unreachable `endpoint`."""
    import httpx  # huggingface_hub 1.x sends its requests with httpx
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError, OfflineModeIsEnabled

    try:
        yield
    except OfflineModeIsEnabled:
        raise UserError(f"--repo {repo_id}: HF_HUB_OFFLINE is set; unset it to push") from None
    except HFValidationError:
        raise UserError(f"--repo {repo_id}: not a Hub repository ID (owner/name)") from None
    except HfHubHTTPError as error:
        raise UserError(
            f"--repo {repo_id}: the Hub refused the upload: {first_line(error)}"
        ) from None
    except httpx.TransportError as error:  # no connection, DNS, timeout: nothing was sent
        raise UserError(
            f"--repo {repo_id}: cannot reach the Hub at {endpoint}: {first_line(error)}"
        ) from None
