"""Writing a submission folder the project makes (`recenter run`, `recenter baseline`).

The files come from the submissions side's `submission_files` (checked by the same
`check_files` as `recenter validate`, results.json computed by the metric) plus, for an LLM
judge, the raw answers file; the folder is replaced whole (`recenter_bench.atomic.write_folder`),
so a reader sees the earlier run's files or this run's, never a mix, and files of an earlier run
that this one does not write are gone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from recenter_bench.atomic import write_folder
from recenter_bench.errors import UserError, first_line
from recenter_bench.review import (
    RAW_ANSWERS_FILE,
    Reference,
    Results,
    folder_name,
    identity_of,
    jsonl_text,
    slug,
    submission_files,
)


def out_identity(
    out: Path, org: str | None, model: str | None, system_name: str | None = None
) -> tuple[str, str]:
    """(org, model display name) of a submission to be written to `out`, by one rule for every
    kind of system: the `<org>__<model>` parts of the folder name name the row; `--org` and
    `--display-name` (`org`, `model`) set them explicitly and must make that folder name; a
    system file's `display_name` (`system_name`, e.g. "BM25") is used when it makes the
    folder's `<model>` part, which is used as it is otherwise."""
    org_model, _ = identity_of(out)
    if "__" not in org_model and not (org and model):
        raise UserError(f"--out: {out}: expected a folder <org>__<model>/<run>")
    folder_org, _, folder_model = org_model.partition("__")
    if model is None and system_name and slug(system_name) == folder_model:
        model = system_name
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
) -> Results:
    """Write a complete submission folder and return its results.json."""
    files, results = submission_files(out, metadata, predictions, reference)
    if raw_answers is not None:
        files[RAW_ANSWERS_FILE] = jsonl_text(raw_answers).encode("utf-8")
    try:
        write_folder(out, files)
    except OSError as error:  # a read-only or full disk: an earlier run's folder, if any, is kept
        reason = error.strerror or first_line(error)
        raise UserError(f"--out: {out}: cannot write the submission ({reason})") from None
    return results


def check_out_writable(out: Path) -> None:
    """Refuse, before a long run, an --out whose folder could not be created: the nearest
    existing folder above it must be a writable folder."""
    above = Path(out).absolute().parent
    while not above.exists() and above != above.parent:
        above = above.parent
    if not above.is_dir() or not os.access(above, os.W_OK | os.X_OK):
        raise UserError(f"--out: {out}: cannot be created ({above} is not a writable folder)")
