"""A Hub pull request adding a validated submission to the leaderboard's repository, and the
client every Hub call of the submissions flow goes through."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from recenter_bench.errors import UserError
from recenter_bench.hub import hub_api
from recenter_bench.paths import HUB_LEADERBOARD_ID
from recenter_bench.review.files import identity_of


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
    return _create_pull_request(
        api or hub_api(),
        "--repo",
        repo_id,
        repo_type,
        operations,
        f"Add submission {org_model}/{run}",
        f"Adds `submissions/{org_model}/{run}/` ({', '.join(sorted(files))}), "
        "checked with `recenter validate`; CI re-scores it with the metric.",
    )


def open_results_pull_request(
    model_repo: str, path_in_repo: str, data: bytes, description: str, *, api: Any = None
) -> str:
    """Open a pull request on a model repository adding one `.eval_results/` file (the Hub
    shows it on the model page as a community result while the PR is open). Returns its URL."""
    from huggingface_hub import CommitOperationAdd

    return _create_pull_request(
        api or hub_api(),
        "--model-repo",
        model_repo,
        "model",
        [CommitOperationAdd(path_in_repo=path_in_repo, path_or_fileobj=data)],
        f"Add {path_in_repo}",
        description,
    )


def _create_pull_request(
    api: Any,
    flag: str,
    repo_id: str,
    repo_type: str,
    operations: list[Any],
    message: str,
    description: str,
) -> str:
    try:
        info = api.create_commit(
            repo_id=repo_id,
            repo_type=repo_type,
            operations=operations,
            commit_message=message,
            commit_description=description,
            create_pr=True,
        )
    except Exception as error:  # HTTP, auth, missing repo: report it, no traceback
        message = hub_error(error)
        raise UserError(f"{flag}: could not open a pull request on {repo_id}: {message}") from None
    return str(info.pr_url or info.commit_url)
