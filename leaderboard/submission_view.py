"""The Submission tab: one submission's metadata, its scores on every split it has, and the
confusion matrix of the binary stages, all from its metadata.yaml and results.json."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr
import pandas as pd

from recenter_bench.leaderboard import table as tables
from recenter_bench.leaderboard.render import display_table


def _metadata_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


def _first_confusion_matrix(
    submission: tables.Submission | None, stage: str
) -> tuple[pd.DataFrame | None, str | None]:
    """The confusion matrix of the first split (in SPLITS order) whose counts CI wrote."""
    for split in submission.splits(stage) if submission else []:
        matrix = tables.confusion_matrix(submission, stage, split)
        if matrix is not None:
            return matrix, split
    return None, None


def submission_view(submission: tables.Submission | None) -> list[Any]:
    """The tab's outputs for one submission (None: the empty view), in `submission_tab` order.

    Metrics with no value on any split are left out; a binary stage's confusion matrix is hidden
    where CI wrote no counts.
    """
    meta: dict[str, Any] = {}
    if submission is not None:
        meta = {**submission.metadata, "provenance": submission.provenance}
        meta.update({k: submission.results.get(k) for k in ("dataset_revision", "metric_version")})
    # The free-text description gets its own plain-text box: table rows have a fixed height.
    description = _metadata_value(meta.pop("description", ""))
    outputs: list[Any] = [
        pd.DataFrame({"field": list(meta), "value": [_metadata_value(v) for v in meta.values()]}),
        description,
    ]
    for stage in tables.STAGES:
        if submission is None or not submission.splits(stage):
            outputs.append(gr.Dataframe(value=None, label="Scores per split (stage not entered)"))
        else:
            per_split = tables.split_scores(submission, stage).dropna(axis=1, how="all")
            outputs.append(
                gr.Dataframe(value=display_table(per_split)[0], label="Scores per split")
            )
        if stage in tables.BINARY_STAGES:
            matrix, split = _first_confusion_matrix(submission, stage)
            outputs.append(
                gr.Dataframe(
                    value=matrix, label=f"Confusion matrix ({split})", visible=matrix is not None
                )
            )
    return outputs


def submission_tab(submissions: Sequence[tables.Submission]) -> None:
    """A picker of every submission (by model name) and the view of the picked one."""
    by_id = {s.id: s for s in submissions}
    choices = [
        (f"{s.metadata.get('model') or s.id} · {s.id}", s.id)
        for s in sorted(submissions, key=lambda s: str(s.metadata.get("model", "")).lower())
    ]
    picker = gr.Dropdown(choices, value=None, label="Submission", filterable=True)
    outputs: list[gr.components.Component] = [
        gr.Dataframe(
            label="metadata.yaml and results.json",
            headers=["field", "value"],
            interactive=False,
            wrap=True,
        ),
        gr.Textbox(label="description", lines=3, interactive=False),
    ]
    for stage in tables.STAGES:
        gr.Markdown(f"### {tables.STAGE_TITLES[stage]}")
        outputs.append(
            gr.Dataframe(
                label="Scores per split",
                headers=["split"],
                interactive=False,
                latex_delimiters=[],
            )
        )
        if stage in tables.BINARY_STAGES:
            outputs.append(gr.Dataframe(label="Confusion matrix", interactive=False, visible=False))
    picker.change(
        lambda submission_id: submission_view(by_id.get(submission_id or "")),
        inputs=picker,
        outputs=outputs,
        api_name="submission",
    )
