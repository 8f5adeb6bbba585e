"""A submission end to end, whichever way it arrives: a folder on disk (`check_folder`,
`validate_submission`, `score_folder`), the Space's upload box (`preview_submission`), or the
files the project writes itself (`submission_files`). Each runs the steps one way: read
(`read`), check (`check`), score (`score`), write (`recenter_bench.atomic`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from recenter_bench.atomic import write_file
from recenter_bench.errors import UserError, ValidationFailed
from recenter_bench.review.check import Checked, check_files
from recenter_bench.review.dataset import Reference, load_reference
from recenter_bench.review.files import (
    METADATA_FILE,
    RESULTS_FILE,
    STAGE_FILES,
    UPLOAD_ID,
    identity_of,
    jsonl_text,
    metadata_text,
    problem,
    results_text,
    submission_id,
)
from recenter_bench.review.read import read_folder
from recenter_bench.review.score import compute_results


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
        found=read.problems,
    )
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
        write_file(folder / RESULTS_FILE, results_text(results).encode("utf-8"))
    return results


def preview_submission(
    files: dict[str, bytes], dataset_source: str | Path | None
) -> tuple[list[str], dict | None]:
    """Check uploaded files and preview their scores; nothing is written anywhere.

    `files` maps a file name (`pairing.jsonl`, optionally `metadata.yaml` ...) to its bytes.
    Returns (problems, one per line; scores `{stage: {split: {metric: value}}}` or None when
    there are problems).
    """
    problems, scores, _ = preview_with_rows(files, dataset_source)
    return problems, scores


def preview_with_rows(
    files: dict[str, bytes], dataset_source: str | Path | None
) -> tuple[list[str], dict | None, dict[str, list[dict[str, Any]]]]:
    """`preview_submission`, plus the rows it scored by stage ({} when there are problems), so
    a caller placing the upload on the board does not parse the files a second time."""
    reference = load_reference(dataset_source)
    checked = check_files(
        {Path(str(name)).name: bytes(data) for name, data in files.items()},
        reference,
        require_metadata=False,
    )
    if not checked.problems and not checked.predictions:
        message = f"no predictions: add one of {', '.join(STAGE_FILES)}"
        checked.problems.append(problem("(upload)", None, None, message))
    if checked.problems:
        return checked.problems, None, {}
    scores = compute_results(UPLOAD_ID, checked.predictions, reference)["scores"]
    return [], scores, checked.predictions


def submission_files(
    folder: Path,
    metadata: Mapping[str, Any],
    predictions: Mapping[str, Sequence[Mapping[str, Any]]],
    reference: Reference,
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """({file name: bytes}, results) of a complete rescored submission for `folder`, results.json
    included; raises `ValidationFailed` when the files would not pass `recenter validate`."""
    identity = identity_of(folder)
    results = compute_results(
        submission_id(identity), {s: list(r) for s, r in predictions.items()}, reference
    )
    files = {METADATA_FILE: metadata_text(metadata).encode("utf-8")}
    for stage, rows in predictions.items():
        files[f"{stage}.jsonl"] = jsonl_text(rows).encode("utf-8")
    files[RESULTS_FILE] = results_text(results).encode("utf-8")
    # results.json was computed from these very predictions just above: check every file rule,
    # but do not score the predictions a second time to compare with it.
    checked = check_files(
        files,
        reference,
        label=lambda n: str(folder / n),
        identity=identity,
        check_results=False,
        require_results=True,
    )
    if checked.problems:
        raise ValidationFailed(checked.problems)
    return files, results
