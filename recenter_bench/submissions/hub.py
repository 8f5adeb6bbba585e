"""A Hub pull request adding a validated submission to the leaderboard's repository, and the
client every Hub call of the submissions flow goes through."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from recenter_bench.errors import UserError
from recenter_bench.hub import hub_api
from recenter_bench.paths import HUB_LEADERBOARD_ID
from recenter_bench.submissions.files import identity_of


def hub_error(error: Exception) -> str:
    """An HTTP, auth or missing-repo error of the Hub client, on one short line."""
    return " ".join(str(error).split())[:200] or type(error).__name__


def open_pull_request(
    folder: Path,
    files: Mapping[str, bytes],
    repo_id: str = HUB_LEADERBOARD_ID,
    *,
    repo_type: str = "space",
    api: Any = None,
) -> str:
    """Open a pull request adding the (already validated) files of a submission to
    `submissions/<org>__<model>/<run>/` of the leaderboard's Hub repository. Returns its URL.

    The uploaded bytes are the ones that were validated (not re-read from disk), and the path
    in the repository is built only from validated names, so nothing can land elsewhere."""
    from huggingface_hub import CommitOperationAdd

    org_model, run = identity_of(folder)
    operations = [
        CommitOperationAdd(
            path_in_repo=f"submissions/{org_model}/{run}/{name}", path_or_fileobj=data
        )
        for name, data in sorted(files.items())
    ]
    api = api or hub_api()
    try:
        info = api.create_commit(
            repo_id=repo_id,
            repo_type=repo_type,
            operations=operations,
            commit_message=f"Add submission {org_model}/{run}",
            commit_description=(
                f"Adds `submissions/{org_model}/{run}/` ({', '.join(sorted(files))}), "
                "checked with `recenter validate`; CI re-scores it with the metric."
            ),
            create_pr=True,
        )
    except Exception as error:  # HTTP, auth, missing repo: report it, no traceback
        message = hub_error(error)
        raise UserError(f"--repo: could not open a pull request on {repo_id}: {message}") from None
    return str(info.pr_url or info.commit_url)
