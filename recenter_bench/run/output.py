"""Writing a submission folder the project makes (`recenter run`, `recenter baseline`).

The files come from the submissions side's `submission_files` (checked by the same
`check_files` as `recenter validate`, results.json computed by the metric) plus, for an LLM
judge, the raw answers file; they are written atomically one by one, results.json last, so at
every moment results.json matches the predictions already there or is the old one. Files of an
earlier run that this one does not write are removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from recenter_bench.errors import UserError
from recenter_bench.submissions import (
    ALLOWED_FILES,
    METADATA_FILE,
    RAW_ANSWERS_FILE,
    RESULTS_FILE,
    Reference,
    folder_name,
    identity_of,
    jsonl_text,
    submission_files,
    write_atomic,
)


def out_identity(out: Path, org: str | None, model: str | None) -> tuple[str, str]:
    """(org, model display name) of a submission to be written to `out`: the flags' values,
    else the `<org>__<model>` parts of the folder name; they must make that folder name."""
    org_model, _ = identity_of(out)
    if "__" not in org_model and not (org and model):
        raise UserError(f"--out: {out}: expected a folder <org>__<model>/<run>")
    folder_org, _, folder_model = org_model.partition("__")
    org, model = org or folder_org, model or folder_model
    if folder_name(org, model) != org_model:
        raise UserError(
            f"--out: {out}: org {org!r} and model {model!r} make the folder "
            f"{folder_name(org, model)}/<run>; rename --out or change --org / --display-name"
        )
    return org, model


def write_submission(
    out: Path,
    metadata: Mapping[str, Any],
    predictions: Mapping[str, Sequence[Mapping[str, Any]]],
    reference: Reference,
    raw_answers: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """Write a complete submission folder and return its results.json document."""
    files, results = submission_files(out, metadata, predictions, reference)
    if raw_answers is not None:
        files[RAW_ANSWERS_FILE] = jsonl_text(raw_answers).encode("utf-8")
    out.mkdir(parents=True, exist_ok=True)
    for name in ALLOWED_FILES:
        if name not in files and name != METADATA_FILE:
            (out / name).unlink(missing_ok=True)
    for name in sorted(files, key=lambda name: name == RESULTS_FILE):
        write_atomic(out / name, files[name])
    return results
