"""The Submission tab: one submission's metadata, its scores on every split it has, the
confusion matrix of the binary stages, and, for a re-scored submission, how it compares and
where it fails:

- where it ranks on a split, with its rank interval and tie group, and a pairwise table against
  every other re-scored system (difference, 95% paired bootstrap interval, permutation p-value);
- the stage's plot with this submission highlighted;
- error analysis: its score per prompt (or per user) as a chart, and the rows where it disagrees
  with the human reference (prompt, attribute, human votes, its answer, and the model's raw answer
  when the run kept one), with a CSV download.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd
from gradio.components.plot import PlotData

from recenter_bench.errors import escape_markdown
from recenter_bench.leaderboard import table as tables
from recenter_bench.leaderboard.columns import metric_label
from recenter_bench.leaderboard.data import LeaderboardData
from recenter_bench.leaderboard.limits import CsvFiles
from recenter_bench.leaderboard.plots import STAGE_PLOTS, cluster_plot
from recenter_bench.leaderboard.ranking import (
    disagreements,
    labelled_rows,
    per_cluster_scores,
)
from recenter_bench.leaderboard.render import display_table, open_weights_text
from recenter_bench.metric.recenter_personalization.recenter_personalization import stage_record

# Rows of the disagreement table shown in the page (the CSV has them all).
SHOWN_DISAGREEMENTS = 200


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
    """The tab's score outputs for one submission (None: the empty view): metadata,
    description, per stage its scores per split (and a binary stage's confusion matrix), then
    each stage's heading.

    Metrics with no value on any split are left out; a binary stage's confusion matrix is hidden
    where CI wrote no counts; a stage the submission did not enter shows only its heading, which
    says so (an empty table would cost the page as much to draw as a full one).
    """
    meta: dict[str, Any] = {}
    if submission is not None:
        meta = {**submission.metadata, "provenance": submission.provenance}
        # Left out of metadata.yaml means not stated: "unknown", never a false "no".
        meta["open_weights"] = open_weights_text(submission.open_weights)
        meta.update({k: submission.results.get(k) for k in ("dataset_revision", "metric_version")})
    # The free-text description gets its own plain-text box: table rows have a fixed height.
    description = _metadata_value(meta.pop("description", ""))
    outputs: list[Any] = [
        pd.DataFrame({"field": list(meta), "value": [_metadata_value(v) for v in meta.values()]}),
        description,
    ]
    headings = []
    for stage in tables.STAGES:
        entered = submission is not None and bool(submission.splits(stage))
        headings.append(
            f"### {tables.STAGE_TITLES[stage]}"
            + ("" if entered or submission is None else "\nNot entered by this submission.")
        )
        if not entered:
            outputs.append(gr.Dataframe(value=None, visible=False))
        else:
            per_split = tables.split_scores(submission, stage).dropna(axis=1, how="all")
            outputs.append(
                gr.Dataframe(
                    value=display_table(per_split)[0], label="Scores per split", visible=True
                )
            )
        if stage in tables.BINARY_STAGES:
            matrix, split = _first_confusion_matrix(submission, stage)
            outputs.append(
                gr.Dataframe(
                    value=matrix, label=f"Confusion matrix ({split})", visible=matrix is not None
                )
            )
    return outputs + headings


def _number(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 4)


def _no_comparison_reason(
    data: LeaderboardData, submission: tables.Submission, stage: str, split: str
) -> str:
    """Why a submission has no comparison on a stage/split, most basic cause first."""
    if not submission.rescored:
        return "it is a reported row (the paper's numbers, no predictions)"
    if not submission.splits(stage):
        return f"it did not enter {tables.STAGE_TITLES[stage]}"
    if data.labels_problem:
        return data.labels_problem
    if not labelled_rows((data.reference_rows or {}).get(stage, {}), stage, split):
        return f"the dataset has no human labels for {stage} on {split}"
    return f"its predictions do not cover the labelled rows of {stage}/{split}"


def inspect(
    data: LeaderboardData, csv: CsvFiles, submission_id: str | None, stage: str, split: str
) -> list[Any]:
    """The comparison and error-analysis outputs of one submission on a stage and split:
    (summary, pairwise table, stage plot, per-cluster plot, disagreements, CSV file).

    Computed once per snapshot (then a lookup); the CSV file is written again when the folder
    of downloads dropped it since. A table or plot with nothing to show is hidden (the summary
    says why), not drawn empty."""
    key = ("inspect", submission_id or "", stage, split)
    summary, pairwise, plot, clusters, errors, download = data.snapshot.memo(
        key, lambda: _inspection(data, submission_id, stage, split)
    )
    return [
        summary,
        gr.Dataframe(value=pairwise, visible=not pairwise.empty),
        gr.Plot(value=plot, visible=plot is not None),
        gr.Plot(value=clusters, visible=clusters is not None),
        gr.Dataframe(value=errors, visible=not errors.empty),
        csv.write(*download) if download else None,
    ]


def _inspection(
    data: LeaderboardData, submission_id: str | None, stage: str, split: str
) -> list[Any]:
    """`inspect`'s outputs, with the disagreements' CSV as its (name, text), not yet a file."""
    submission = data.snapshot.by_id.get(submission_id or "")
    empty: list[Any] = ["", pd.DataFrame(), None, None, pd.DataFrame(), None]
    if submission is None:
        return empty
    names = data.names
    name = escape_markdown(names.get(submission.id, submission.id))
    plot = None
    if stage in STAGE_PLOTS:
        table = data.table(stage, split)
        spec = STAGE_PLOTS[stage](table, split, submission.id)
        plot = PlotData(type="altair", plot=json.dumps(spec))
    ranking = data.ranking(stage, split)
    if ranking is None or submission.id not in ranking.ids:
        why = _no_comparison_reason(data, submission, stage, split)
        return [
            f"**{name}** on {stage}/{split}: no comparison and no error analysis, because {why}.",
            pd.DataFrame(),
            plot,
            None,
            pd.DataFrame(),
            None,
        ]
    headline = tables.HEADLINE[stage]
    if submission.id in ranking.rank_bounds:
        standing = (
            f"rank interval **{ranking.interval_text(submission.id)}**, tie group "
            f"**{ranking.groups.get(submission.id, '-')}**"
        )
    else:
        standing = (
            "not ranked here ("
            + (tables.unranked_reason(submission, split) or "a reference row")
            + ")"
        )
    a = ranking.ids.index(submission.id)
    summary = (
        f"**{name}** on {stage}/{split}: {metric_label(headline)} "
        f"{ranking.points[a]:.3f}; {standing}. Pairwise: difference with each re-scored "
        f"system, its 95% paired bootstrap interval over "
        f"{stage_record(stage).unit}s and a two-sided paired permutation "
        f"p-value ({ranking.aligned.n_clusters} clusters"
        + (
            f"; with so few the smallest possible p is {2 / 2**ranking.aligned.n_clusters:.3g}"
            if ranking.aligned.n_clusters < 10
            else ""
        )
        + ")."
    )
    pairwise = ranking.pairwise(submission.id)
    pairwise = pd.DataFrame(
        {
            "compared with": [names.get(o, o) for o in pairwise["other"]],
            f"{metric_label(headline)} difference": [_number(v) for v in pairwise["difference"]],
            "95% CI low": [_number(v) for v in pairwise["ci_low"]],
            "95% CI high": [_number(v) for v in pairwise["ci_high"]],
            "p-value": [_number(v) for v in pairwise["p_value"]],
        }
    )
    clusters = per_cluster_scores(ranking, submission.id)
    cluster_spec = cluster_plot(clusters, stage, names.get(submission.id, submission.id))
    errors = disagreements(ranking, submission)
    download = (f"errors-{submission.id.replace('/', '-')}-{stage}-{split}", tables.to_csv(errors))
    shown = errors.head(SHOWN_DISAGREEMENTS)
    if not shown["raw_answer"].astype(bool).any():
        shown = shown.drop(columns="raw_answer")
    summary += (
        f" It disagrees with the human reference on {len(errors)} of {len(ranking.rows)} rows"
    )
    summary += f" (first {len(shown)} shown; the CSV has all)." if len(errors) > len(shown) else "."
    return [
        summary,
        pairwise,
        plot,
        PlotData(type="altair", plot=json.dumps(cluster_spec)),
        shown,
        download,
    ]


def leading_run(data: LeaderboardData, stage: str) -> str | None:
    """The submission the Submission tab opens on for a stage: its best ranked re-scored run
    on the split the stage opens with (the one with evidence to inspect), else its best ranked
    row; None when nothing is ranked."""
    table = data.table(stage, data.default_split(stage))
    if table.empty:
        return None
    ranked = table[table["rank"].notna()].sort_values("rank", kind="stable")
    rescored = ranked[ranked["provenance"] == "rescored"]
    for rows in (rescored, ranked):
        if not rows.empty:
            return str(rows["submission"].iloc[0])
    return None


def pick_hint(data: LeaderboardData, stage: str, chosen: str | None) -> str:
    """The line above the picker: which run is shown and why, or what to pick."""
    title = tables.STAGE_TITLES.get(stage, stage)
    if chosen is None:
        return (
            f"Nothing is ranked in {title} yet: pick a submission above (type to search by "
            "model, org or folder), or click a model's name in any table."
        )
    name = escape_markdown(data.names.get(chosen, chosen))
    submission = data.snapshot.by_id.get(chosen)
    which = (
        "the leading re-scored run"
        if submission is not None and submission.rescored
        else "the leading row (reported by the paper: no predictions to compare or inspect)"
    )
    return (
        f"Showing **{name}**, {which} of {title} on *{data.default_split(stage)}*. Pick another "
        "above, or click a model's name in any table."
    )


def opening_stage_split(data: LeaderboardData, submission_id: str | None) -> tuple[str, str]:
    """The stage and split a submission's comparison opens on: Stage 2 when it entered it (or
    nothing), else the first stage it entered; that stage's opening split."""
    submission = data.snapshot.by_id.get(submission_id or "")
    entered = [s for s in tables.STAGES if submission and submission.splits(s)]
    stage = "pairing" if "pairing" in entered or not entered else entered[0]
    return stage, data.default_split(stage)


def submission_outputs(data: LeaderboardData, csv: CsvFiles, submission_id: str | None) -> list:
    """Everything the tab shows for one submission (None or unknown: the empty view), in the
    order of `SubmissionTab.outputs`: its scores (`submission_view`), the stage and split its
    comparison opens on, and that comparison (`inspect`). Computed once per snapshot, so that
    opening the tab, clicking a model's name or picking a run is answered by one request that
    only sends the view."""
    stage, split = opening_stage_split(data, submission_id)
    scores = data.snapshot.memo(
        ("submission", submission_id or ""),
        lambda: submission_view(data.snapshot.by_id.get(submission_id or "")),
    )
    return [
        *scores,
        gr.Radio(value=stage),
        gr.Radio(value=split),
        *inspect(data, csv, submission_id, stage, split),
    ]


@dataclass
class SubmissionTab:
    """The Submission tab as the rest of the app drives it: its picker, the components one
    submission's view fills, the function that fills them (`submission_outputs`), and the one
    that computes the views the tab opens on ahead of the first visitor."""

    picker: gr.Dropdown
    outputs: list[gr.components.Component]
    show: Callable[[str | None], list[Any]]
    warm: Callable[[], None]

    def skipped(self) -> list[Any]:
        """`outputs` left as they are."""
        return [gr.skip() for _ in self.outputs]


def submission_tab(
    data: LeaderboardData, csv: CsvFiles, tab: gr.Tab, current_stage: gr.State
) -> SubmissionTab:
    """A picker of every submission (by shown name) and the view of the picked one. Opened with
    nothing picked, the tab picks the leading run of the stage tab last opened
    (`current_stage`), or says what to pick.

    Each way a view is opened (this tab opened, a run picked, a model's name clicked, a page
    opened on a `?submission=` link) is one request answering every output at once, from
    `submission_outputs`; a picker set by a request (not by the visitor) starts no event of
    its own.
    """

    def choices() -> list[tuple[str, str]]:
        names = data.names
        return [
            (f"{names.get(s.id, s.id)} · {s.id}", s.id)
            for s in sorted(data.submissions, key=lambda s: names.get(s.id, s.id).lower())
        ]

    picker = gr.Dropdown(choices(), value=None, label="Submission", filterable=True)
    hint = gr.Markdown(elem_id="submission-hint", elem_classes="caption")
    outputs: list[gr.components.Component] = [
        gr.Dataframe(
            label="metadata.yaml and results.json",
            headers=["field", "value"],
            interactive=False,
            wrap=True,
        ),
        gr.Textbox(label="description", lines=3, interactive=False),
    ]
    # Tables start hidden: a view shows those it fills (nothing is drawn empty).
    headings = []
    for stage in tables.STAGES:
        headings.append(gr.Markdown(f"### {tables.STAGE_TITLES[stage]}"))
        outputs.append(
            gr.Dataframe(
                label="Scores per split",
                headers=["split"],
                interactive=False,
                latex_delimiters=[],
                visible=False,
            )
        )
        if stage in tables.BINARY_STAGES:
            outputs.append(gr.Dataframe(label="Confusion matrix", interactive=False, visible=False))
    outputs += headings

    gr.Markdown("## Compare and inspect")
    with gr.Row():
        stage = gr.Radio(
            [(tables.STAGE_TITLES[s], s) for s in tables.STAGES],
            value="pairing",
            label="Stage",
            elem_id="inspect-stage",
        )
        split = gr.Radio(list(tables.SPLITS), value="test", label="Split", elem_id="inspect-split")
    summary = gr.Markdown(elem_id="inspect-summary")
    pairwise = gr.Dataframe(
        label="Pairwise comparison",
        interactive=False,
        elem_id="pairwise",
        latex_delimiters=[],
        visible=False,
    )
    stage_plot = gr.Plot(show_label=False, elem_id="inspect-plot", visible=False)
    clusters = gr.Plot(show_label=False, elem_id="cluster-plot", visible=False)
    errors = gr.Dataframe(
        label="Disagreements with the human reference",
        interactive=False,
        wrap=True,
        max_height=480,
        elem_id="disagreements",
        latex_delimiters=[],
        visible=False,
    )
    download = gr.DownloadButton("Download the disagreements (CSV)", size="sm")
    inspect_outputs = [summary, pairwise, stage_plot, clusters, errors, download]
    outputs += [stage, split, *inspect_outputs]

    def show(submission_id: str | None) -> list[Any]:
        return submission_outputs(data, csv, submission_id)

    def warm() -> None:
        for name in tables.STAGES:
            show(leading_run(data, name))

    view = SubmissionTab(picker, outputs, show, warm)

    def on_open(picked: str | None, stage: str) -> list[Any]:
        if picked:
            return [gr.Dropdown(choices=choices()), "", *view.skipped()]
        chosen = leading_run(data, stage)
        return [
            gr.Dropdown(choices=choices(), value=chosen),
            pick_hint(data, stage, chosen),
            *show(chosen),
        ]

    # Outside the queue: the views are lookups (see `warm`), answered in one POST.
    tab.select(
        on_open,
        inputs=[picker, current_stage],
        outputs=[picker, hint, *outputs],
        api_name=False,
        queue=False,
    )
    picker.input(show, inputs=picker, outputs=outputs, api_name="submission", queue=False)

    def run_inspect(submission_id: str | None, stage: str, split: str) -> list[Any]:
        return inspect(data, csv, submission_id, stage, split)

    gr.on(
        [stage.input, split.input],
        run_inspect,
        inputs=[picker, stage, split],
        outputs=inspect_outputs,
        api_name="inspect",
        trigger_mode="always_last",
        concurrency_limit=2,
    )
    # The address bar names the run shown, so the view can be shared.
    picker.change(
        None,
        inputs=picker,
        js="(id) => { if (id) history.replaceState(null, '', '?submission=' + "
        "encodeURIComponent(id)); }",
    )
    return view
