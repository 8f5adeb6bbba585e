"""A submission folder: validate it, score it, write its results.json."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from recenter_bench.errors import UserError, ValidationFailed
from recenter_bench.submissions.check import Checked, check_files
from recenter_bench.submissions.dataset import Reference, load_reference
from recenter_bench.submissions.names import RESULTS_FILE, identity_of, submission_id
from recenter_bench.submissions.read import read_folder
from recenter_bench.submissions.results import compute_results
from recenter_bench.submissions.write import write_json_atomic


def check_folder(
    folder: Path,
    reference: Reference,
    *,
    check_results: bool = True,
    require_results: bool = False,
) -> Checked:
    """Check a submission folder: its files on disk, then `check_files` on their bytes."""
    folder = Path(folder)
    read = read_folder(folder)
    if folder.is_symlink() or not folder.is_dir():
        return Checked(files={}, problems=read.problems)
    checked = check_files(
        read.files,
        reference,
        label=lambda name: str(folder / name) if name else str(folder),
        identity=identity_of(folder),
        check_results=check_results,
        require_results=require_results,
        rejected=read.rejected,
    )
    checked.problems[:0] = read.problems
    return checked


def validate_submission(
    folder: Path,
    dataset_source: str | Path | None = None,
    *,
    require_results: bool = False,
    reference: Reference | None = None,
) -> list[str]:
    """Every problem of a submission folder, one line each (empty: valid). Writes nothing.

    A present results.json must equal what the predictions earn; `require_results` also makes
    a missing one a problem (CI, the repository tests and `submit` use it)."""
    reference = reference or load_reference(dataset_source)
    return check_folder(folder, reference, require_results=require_results).problems


def score_folder(
    folder: Path,
    dataset_source: str | Path | None = None,
    *,
    write: bool = False,
    reference: Reference | None = None,
) -> dict[str, Any]:
    """Validate, then score a submission: the results.json document it earns.

    A reported submission is never re-scored: its results.json (the paper's numbers) is
    returned as it is. With `write`, a rescored submission's results.json is replaced
    atomically, so a reader never sees half a file.
    """
    folder = Path(folder)
    reference = reference or load_reference(dataset_source)
    checked = check_folder(folder, reference, check_results=False)
    if checked.problems:
        raise ValidationFailed(checked.problems)
    if (checked.metadata or {}).get("provenance") == "reported":
        if write:
            raise UserError(
                f"{folder / RESULTS_FILE}: holds the paper's reported numbers; "
                "a reported submission is never re-scored or rewritten"
            )
        return dict(checked.results or {})
    results = compute_results(submission_id(identity_of(folder)), checked.predictions, reference)
    if write:
        write_json_atomic(folder / RESULTS_FILE, results)
    return results
