"""The Submit tab: how to submit by pull request, and a score preview of uploaded stage files.

The preview runs the same validator and metric as `recenter validate` / `recenter score`
(`recenter_bench.review.preview_submission`) on the uploads in memory, in a worker process
with a time limit (`limits.PreviewRunner`), so one slow upload never holds up another visitor's
preview. It then says where the upload would rank on the held-out test split of each stage it
enters, with its rank interval and whether it is tied with the systems there.

Nothing a visitor uploads is kept or published: the upload is read into memory and its copy in
Gradio's upload cache deleted at once (pressing Validate again asks for the files again; Gradio
stores identical bytes once, so two visitors previewing the very same file at the same moment
may see "the upload is gone" and upload again), and the cache is also emptied of files older
than 15 minutes.
"""

from __future__ import annotations

import contextlib
import functools
import math
import sys
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from recenter_bench.leaderboard.data import LeaderboardData
from recenter_bench.leaderboard.limits import (
    MAX_UPLOAD_FILES,
    PreviewRunner,
    PreviewTimeout,
    client_of,
    gradio_cache_folder,
)
from recenter_bench.leaderboard.preview_worker import preview_job, warm_worker
from recenter_bench.leaderboard.ranking import placement, with_system
from recenter_bench.paths import HUB_DATASET_ID, SUBMISSIONS_DIR

PREVIEW_FILE_TYPES = [".jsonl", ".yaml", ".yml", ".json"]
PREVIEW_COLUMNS = ["stage", "split", "metric", "value"]
PREVIEW_WORKERS = 2
PREVIEW_SECONDS = 30.0
# Preview requests let through to the fair queue at once (the others wait in Gradio's queue);
# a client has at most MAX_WAITING_PER_CLIENT of them waiting, the rest are refused at once.
PREVIEW_CONCURRENCY = 16
UPLOAD_NAME = "your upload"


def _read(files: list[str]) -> dict[str, bytes]:
    """The uploaded files' bytes by file name, each deleted from Gradio's upload cache as soon
    as it is read (nothing a visitor uploads is kept); raises FileNotFoundError when one is
    already gone (the same bytes previewed by another request a moment ago)."""
    from recenter_bench.review import MAX_STAGE_FILE_BYTES

    contents: dict[str, bytes] = {}
    cache = gradio_cache_folder().resolve()
    for name in files:
        path = Path(name)
        with path.open("rb") as handle:
            contents[path.name] = handle.read(MAX_STAGE_FILE_BYTES + 1)
        # Only Gradio's copies are ours to delete (`<cache>/<hash>/<name>`), never a path
        # that happens to be elsewhere.
        if path.resolve().parent.parent == cache:
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()
    return contents


@functools.cache
def preview_runner(dataset: str | None) -> PreviewRunner:
    """The Space's preview workers (one set per dataset, started on first use)."""
    return PreviewRunner(
        preview_job,
        functools.partial(warm_worker, dataset),
        workers=PREVIEW_WORKERS,
        timeout=PREVIEW_SECONDS,
    )


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


def preview(
    files: list[str] | None,
    dataset: str | None,
    data: LeaderboardData | None = None,
    client: str = "",
) -> tuple[str, pd.DataFrame, str]:
    """Validation messages, a score preview of uploaded stage files (computed in memory, in a
    worker process with a time limit, in `client`'s fair turn) and where the upload would rank
    on held-out data."""
    empty = pd.DataFrame(columns=PREVIEW_COLUMNS)
    if not files:
        return "Upload one or more stage files (extraction.jsonl, pairing.jsonl, ...).", empty, ""
    if len(files) > MAX_UPLOAD_FILES:
        return (
            f"At most {MAX_UPLOAD_FILES} files at once (one per stage, metadata, results).",
            empty,
            "",
        )
    if data is not None and data.labels_problem:
        # The app already failed to load this dataset: say so now rather than after a worker
        # has started and failed the same way.
        return (
            f"No score preview here: the dataset is unavailable ({data.labels_problem}).",
            empty,
            "",
        )
    try:
        contents = _read(files)
    except FileNotFoundError:
        return (
            "The upload is gone (uploads are deleted once read); upload the files again.",
            empty,
            "",
        )
    try:
        messages, scores, predictions = preview_runner(dataset).run(
            contents, dataset, client=client
        )
    except PreviewTimeout as error:
        return f"No preview: {error}. Check the files locally with `recenter validate`.", empty, ""
    except Exception as error:  # a preview must never break the Space: one line, logged
        # The worker reports a dataset it cannot load (as one line) or a crash.
        print(f"preview failed: {type(error).__name__}: {error}", file=sys.stderr)
        return (
            "The dataset is unavailable here, so no score preview can be computed "
            f"({' '.join(str(error).split())[:300]}).",
            empty,
            "",
        )
    verdict = "No problems found." if scores is not None and not messages else ""
    standing = _standing(data, predictions) if data is not None and scores else ""
    return "\n".join([*messages, verdict]).strip(), _score_rows(scores), standing


def _standing(data: LeaderboardData, predictions: dict[str, Any]) -> str:
    """Where the upload would rank on the test split of each stage it enters."""
    lines = []
    names = {**data.names, UPLOAD_NAME: UPLOAD_NAME}
    for stage, predicted in predictions.items():
        ranking = data.ranking(stage, "test")
        extended = with_system(ranking, UPLOAD_NAME, predicted) if ranking and predicted else None
        if extended is None:
            lines.append(
                f"- {stage}: no held-out ranking to place it in (no labelled test rows "
                "covered, or no re-scored system there yet)."
            )
            continue
        lines.append(f"- {placement(extended, UPLOAD_NAME, names)}")
    return "**Where it would rank (held-out test split)**\n" + "\n".join(lines) if lines else ""


def prestart_previews(data: LeaderboardData) -> None:
    """Start a preview worker while the Space starts (none when the dataset is unavailable:
    the preview then says so at once)."""
    if not data.labels_problem:
        preview_runner(data.dataset).prestart()


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


def submit_tab(data: LeaderboardData) -> None:
    """The tab's contents; the preview scores against `data.dataset` (a folder or Hub ID) and
    places the upload in `data`'s held-out rankings."""
    dataset = data.dataset
    gr.Markdown(
        "### Submit by pull request\n"
        "1. Run your system on the dataset: `recenter run pairing --base-url URL --model NAME "
        "--out submissions/<org>__<model>/<run>` judges with any OpenAI-compatible endpoint and "
        "writes the whole folder (`recenter run --help` lists the shipped systems). With your "
        "own code, write one JSONL file per stage and a `metadata.yaml` in "
        "`submissions/<org>__<model>/<run>/`.\n"
        "2. Check locally with `recenter validate` and `recenter score --write`, and see your "
        "row with `recenter leaderboard`.\n"
        "3. Open a pull request (`recenter submit`). CI re-scores every submission from its "
        "predictions; claimed numbers are never trusted.\n\n"
        "Below, upload stage files to see the validation messages and a score preview. "
        f"It is computed in memory against {_dataset_name(dataset)} and never stored or "
        "published."
    )
    with gr.Accordion("submissions/README.md", open=False):
        gr.Markdown(_submission_guide())
    if data.labels_problem:
        gr.Markdown(
            "**No score preview on this server**: the dataset is unavailable "
            f"({data.labels_problem}). Check files locally with `recenter validate` and "
            "`recenter score`, or start the server with `--dataset`.",
            elem_classes="notice",
            elem_id="no-dataset",
        )
    files = gr.File(
        file_count="multiple", file_types=PREVIEW_FILE_TYPES, label="Stage files", type="filepath"
    )
    button = gr.Button("Validate and preview scores", variant="primary")
    messages = gr.Textbox(label="Validation", lines=6, max_lines=30, interactive=False)
    standing = gr.Markdown(elem_id="preview-standing")
    scores = gr.Dataframe(
        label="Score preview (not stored)", headers=PREVIEW_COLUMNS, interactive=False
    )

    def run_preview(paths: list[str] | None, request: gr.Request) -> tuple[str, pd.DataFrame, str]:
        return preview(paths, dataset, data, client_of(request))

    button.click(
        run_preview,
        inputs=files,
        outputs=[messages, scores, standing],
        api_name="preview",
        # Previews wait for a worker in the runner's fair queue (each client in turn, each
        # stopped at its time limit), not in Gradio's first-come queue in front of it.
        concurrency_limit=PREVIEW_CONCURRENCY,
    )
