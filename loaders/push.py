"""`recenter push`: upload a built dataset folder to a Hub dataset repository."""

from __future__ import annotations

from pathlib import Path

from recenter_bench.errors import UserError
from recenter_bench.hub import hub_api, hub_upload_errors
from recenter_bench.loaders.schemas import CONFIGS


def check_dataset_folder(folder: Path) -> None:
    """Refuse to upload anything but a complete `recenter build` output."""
    if not folder.is_dir():
        raise UserError(f"{folder}: folder: not found")
    for name in ("README.md", "eval.yaml"):
        if not (folder / name).is_file():
            raise UserError(f"{folder / name}: missing file (run `recenter build` first)")
    for config in CONFIGS:
        if not list((folder / "data" / config).glob("*.parquet")):
            raise UserError(f"{folder / 'data' / config}: no Parquet files (run `recenter build`)")


def push_dataset(
    folder: Path,
    repo_id: str,
    *,
    token: str | None = None,
    endpoint: str | None = None,
    commit_message: str = "Upload dataset built by recenter build",
) -> str:
    """Create the dataset repository if needed and upload `folder` in one commit.

    `endpoint` and `token` default to the `HF_ENDPOINT` and `HF_TOKEN` environment variables
    (read at call time, so tests can point the CLI at a local stand-in). Returns the commit URL.
    """
    folder = Path(folder)
    check_dataset_folder(folder)
    api = hub_api(endpoint, token)
    with hub_upload_errors(repo_id, api.endpoint):
        api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
        info = api.upload_folder(
            repo_id=repo_id,
            repo_type="dataset",
            folder_path=folder,
            commit_message=commit_message,
            # Only what a build writes: never stray editor or OS files from the folder.
            allow_patterns=["README.md", "eval.yaml", "data/*/*.parquet"],
        )
    return str(info.commit_url)
