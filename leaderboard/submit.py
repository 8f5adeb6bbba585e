"""The Submit tab: how to submit by pull request, and a score preview of uploaded stage files.

The preview runs the same validator and metric as `recenter validate` / `recenter score`
(`recenter_bench.submissions.preview_submission`) on the uploads in memory. The uploads' temporary
copies are deleted at once: nothing a visitor uploads is kept or published.
"""

from __future__ import annotations

import contextlib
import math
import sys
import traceback
from pathlib import Path

import gradio as gr
import pandas as pd

from recenter_bench.errors import UserError
from recenter_bench.paths import HUB_DATASET_ID, SUBMISSIONS_DIR

PREVIEW_FILE_TYPES = [".jsonl", ".yaml", ".yml", ".json"]
PREVIEW_COLUMNS = ["stage", "split", "metric", "value"]


def _read_and_delete(files: list[str]) -> dict[str, bytes]:
    """The uploaded files' bytes by file name; Gradio's temporary copies are removed."""
    contents: dict[str, bytes] = {}
    for name in files:
        path = Path(name)
        contents[path.name] = path.read_bytes()
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # Gradio's per-upload folder, now empty
            path.parent.rmdir()
    return contents


def _score_rows(scores: dict | None) -> pd.DataFrame:
    """`{stage: {split: {metric: value}}}` as one row per value, rounded for reading
    (undefined values stay empty)."""
    rows = [
        {
            "stage": stage,
            "split": split,
            "metric": metric,
            "value": None
            if value is None or (isinstance(value, float) and math.isnan(value))
            else round(float(value), 4),
        }
        for stage, by_split in (scores or {}).items()
        for split, metrics in by_split.items()
        for metric, value in metrics.items()
    ]
    return pd.DataFrame(rows, columns=PREVIEW_COLUMNS)


def preview(files: list[str] | None, dataset: str | None) -> tuple[str, pd.DataFrame]:
    """Validation messages and a score preview of uploaded stage files, computed in memory."""
    empty = pd.DataFrame(columns=PREVIEW_COLUMNS)
    if not files:
        return "Upload one or more stage files (extraction.jsonl, pairing.jsonl, ...).", empty
    contents = _read_and_delete(files)
    try:
        # Imported on first use: the validator loads the dataset machinery, which the tables
        # never need, and a Space installed without it still serves the tables.
        from recenter_bench.submissions import preview_submission
    except ImportError as error:
        return f"The score preview is not available in this installation ({error}).", empty
    try:
        messages, scores = preview_submission(contents, dataset)
    except UserError as error:
        # resolve_dataset raises UserError when the dataset folder or Hub repo is unreachable.
        return f"The dataset is unavailable here, so no score preview: {error}", empty
    except Exception as error:  # a dataset that cannot be loaded must not break the Space
        traceback.print_exc(file=sys.stderr)
        return (
            "The dataset is unavailable here, so no score preview can be computed "
            f"({type(error).__name__}: {error}).",
            empty,
        )
    verdict = "No problems found." if scores is not None and not messages else ""
    return "\n".join([*messages, verdict]).strip(), _score_rows(scores)


def _dataset_name(dataset: str | None) -> str:
    if dataset:
        return f"`{dataset}`"
    return f"the preview release beside the checkout if present, else `{HUB_DATASET_ID}`"


def _submission_guide() -> str:
    """submissions/README.md, the one description of the pull-request flow."""
    readme = SUBMISSIONS_DIR / "README.md"
    if readme.is_file():
        return readme.read_text(encoding="utf-8")
    return "*submissions/README.md is not available in this installation.*"


def submit_tab(dataset: str | None) -> None:
    """The tab's contents; `dataset` (a folder or Hub ID) is what the preview scores against."""
    gr.Markdown(
        "### Submit by pull request\n"
        "1. Run your system on the dataset and write one JSONL file per stage.\n"
        "2. Put them with a `metadata.yaml` in `submissions/<org>__<model>/<run>/`.\n"
        "3. Check locally with `recenter validate` and `recenter score --write`, then open a "
        "pull request (`recenter submit`). CI re-scores every submission from its "
        "predictions; claimed numbers are never trusted.\n\n"
        "Below, upload stage files to see the validation messages and a score preview. "
        f"It is computed in memory against {_dataset_name(dataset)} and never stored or "
        "published."
    )
    with gr.Accordion("submissions/README.md", open=False):
        gr.Markdown(_submission_guide())
    files = gr.File(
        file_count="multiple", file_types=PREVIEW_FILE_TYPES, label="Stage files", type="filepath"
    )
    button = gr.Button("Validate and preview scores", variant="primary")
    messages = gr.Textbox(label="Validation", lines=6, interactive=False)
    scores = gr.Dataframe(
        label="Score preview (not stored)", headers=PREVIEW_COLUMNS, interactive=False
    )
    button.click(
        lambda paths: preview(paths, dataset),
        inputs=files,
        outputs=[messages, scores],
        api_name="preview",
    )
