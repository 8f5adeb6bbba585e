"""The Space's Submit tab: uploaded stage files checked in memory, their scores previewed."""

from __future__ import annotations

from pathlib import Path

from recenter_bench.submissions.check import check_files
from recenter_bench.submissions.dataset import load_reference
from recenter_bench.submissions.messages import problem
from recenter_bench.submissions.names import STAGE_FILES, UPLOAD_ID
from recenter_bench.submissions.results import compute_results


def preview_submission(
    files: dict[str, bytes], dataset_source: str | Path | None
) -> tuple[list[str], dict | None]:
    """Check uploaded files and preview their scores; nothing is written anywhere.

    `files` maps a file name (`pairing.jsonl`, optionally `metadata.yaml` ...) to its bytes.
    Returns (problems, one per line; scores `{stage: {split: {metric: value}}}` or None when
    there are problems).
    """
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
        return checked.problems, None
    return [], compute_results(UPLOAD_ID, checked.predictions, reference)["scores"]
