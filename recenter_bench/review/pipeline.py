"""A submission end to end, whichever way it arrives: a folder on disk (`check_folder`,
`validate_submission`, `score_folder`), the Space's upload box (`preview_submission`), bytes
from anywhere (`check_files`), or the files the project writes itself (`submission_files`).

Each runs the steps one way, each entered once: read (`read`) -> check (`check`) -> score
(`score`) -> compare (`compare`) -> write (`write`). The dataset a submission is checked on is
loaded before (`dataset`); the CLI passes it in, so that a flow never comes back here from a step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from recenter_bench.errors import UserError, ValidationFailed
from recenter_bench.review.check import Checked
from recenter_bench.review.check import check_files as check_read
from recenter_bench.review.compare import results_differences
from recenter_bench.review.dataset import Reference, load_reference
from recenter_bench.review.files import (
    METADATA_FILE,
    RESULTS_FILE,
    UPLOAD_ID,
    folder_label,
    identity_of,
    problem,
    stage_files,
    submission_id,
)
from recenter_bench.review.model import Results
from recenter_bench.review.read import parse_files, read_submission
from recenter_bench.review.score import compute_results
from recenter_bench.review.write import jsonl_text, metadata_text, write_results


def _checked(
    source: Path | Mapping[str, bytes],
    reference: Reference,
    *,
    label: Callable[[str], str],
    identity: tuple[str, str] | None,
    check_results: bool,
    require_metadata: bool,
    require_results: bool,
) -> Checked:
    """read -> check -> (when `check_results`) score -> compare, for a folder or its bytes."""
    if isinstance(source, Path):
        read = read_submission(source, label)
    else:
        read = parse_files(source, label)
    checked = check_read(
        read,
        reference,
        label=label,
        identity=identity,
        require_metadata=require_metadata,
        require_results=require_results,
    )
    if check_results and checked.comparable:
        checked.expected = compute_results(submission_id(identity), checked.predictions, reference)
        checked.problems = results_differences(
            checked.results, checked.expected, label(RESULTS_FILE), checked.results_doc
        )
    return checked


def check_files(
    files: Mapping[str, bytes],
    reference: Reference,
    *,
    label: Callable[[str], str] = str,
    identity: tuple[str, str] | None = None,
    check_results: bool = True,
    require_metadata: bool = True,
    require_results: bool = False,
) -> Checked:
    """Check a submission given as {file name: bytes}.

    `identity` is the (`<org>__<model>`, `<run>`) folder the files came from (None for an
    upload); `check_results` compares a present results.json with what the predictions earn;
    `require_results` makes a missing results.json a problem (CI and `submit`).
    At most MAX_PROBLEMS problems are listed; a last line counts the others.
    """
    return _checked(
        dict(files),
        reference,
        label=label,
        identity=identity,
        check_results=check_results,
        require_metadata=require_metadata,
        require_results=require_results,
    )


def check_folder(
    folder: Path,
    reference: Reference,
    *,
    check_results: bool = True,
    require_results: bool = False,
) -> Checked:
    """Check a submission folder: its files on disk, then every check of their bytes."""
    folder = Path(folder)
    return _checked(
        folder,
        reference,
        label=partial(folder_label, folder),
        identity=identity_of(folder),
        check_results=check_results,
        require_metadata=True,
        require_results=require_results,
    )


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
) -> Results:
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
        return checked.results
    results = compute_results(submission_id(identity_of(folder)), checked.predictions, reference)
    if write:
        write_results(folder, results)
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
        message = f"no predictions: add one of {', '.join(stage_files())}"
        checked.problems.append(problem("(upload)", None, None, message))
    if checked.problems:
        return checked.problems, None, {}
    scores = compute_results(UPLOAD_ID, checked.predictions, reference).scores
    return [], scores, checked.predictions


def submission_files(
    folder: Path,
    metadata: Mapping[str, Any],
    predictions: Mapping[str, Sequence[Mapping[str, Any]]],
    reference: Reference,
) -> tuple[dict[str, bytes], Results]:
    """({file name: bytes}, results) of a complete rescored submission for `folder`, results.json
    included; raises `ValidationFailed` when the files would not pass `recenter validate`."""
    identity = identity_of(folder)
    results = compute_results(
        submission_id(identity), {s: list(r) for s, r in predictions.items()}, reference
    )
    files = {METADATA_FILE: metadata_text(metadata).encode("utf-8")}
    for stage, rows in predictions.items():
        files[f"{stage}.jsonl"] = jsonl_text(rows).encode("utf-8")
    files[RESULTS_FILE] = results.to_json().encode("utf-8")
    # results.json was computed from these very predictions just above: check every file rule,
    # but do not score the predictions a second time to compare with it.
    checked = check_files(
        files,
        reference,
        label=partial(folder_label, folder),
        identity=identity,
        check_results=False,
        require_results=True,
    )
    if checked.problems:
        raise ValidationFailed(checked.problems)
    return files, results
