"""The leaderboard Space (Gradio 6) and `recenter leaderboard`.

The app reads each submission's metadata.yaml and results.json through
`recenter_bench.leaderboard.data` (a snapshot of the folder, re-read when it changes) and never
re-scores: the Space shows what CI checked. Rank intervals and tie groups come from the paired
bootstrap of `ranking.py` over the committed predictions and the dataset's human labels.
Every event has an `api_name`, so the whole app can be driven with `gradio_client`.

Splits: every ranking is for ONE split, chosen with a selector per tab. A stage opens on the
held-out "test" split whenever a re-scored system is ranked there, else on the split with most
rows (the paper's reported zero-shot rows only have "all"). A system is never ranked on a split
it was trained or tuned on: it is shown grey, without a rank, with the reason. Nothing a
submitter wrote is shown as markup (see render.py).

This module builds the ranking tabs (overview and one per stage) and starts the app; the other
tabs are their own modules: submission_view.py (one submission: scores, comparisons, error
analysis), agreement_view.py, about.py and submit.py (the pull-request flow and the preview).
"""

from __future__ import annotations

import os
import sys

# Before gradio is imported: the Space must not phone home (and offline it would log errors).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import argparse  # noqa: E402
import json  # noqa: E402
from collections.abc import Callable  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402
from gradio.components.plot import PlotData  # noqa: E402
from starlette.middleware import Middleware  # noqa: E402

from recenter_bench.errors import UserError  # noqa: E402
from recenter_bench.leaderboard import columns as registry  # noqa: E402
from recenter_bench.leaderboard import table as tables  # noqa: E402
from recenter_bench.leaderboard.about import about_tab  # noqa: E402
from recenter_bench.leaderboard.agreement_view import agreement_tab  # noqa: E402
from recenter_bench.leaderboard.api_guard import ApiGuard  # noqa: E402
from recenter_bench.leaderboard.data import OVERVIEW, LeaderboardData  # noqa: E402
from recenter_bench.leaderboard.filters import OPEN_WEIGHTS_CHOICES, TRAINING_CHOICES  # noqa: E402
from recenter_bench.leaderboard.limits import CsvFiles, RequestLimits  # noqa: E402
from recenter_bench.leaderboard.plots import (  # noqa: E402
    STAGE_PLOTS,
    leaders_plot,
    reference_marks,
)
from recenter_bench.leaderboard.render import (  # noqa: E402
    PROVENANCE_LABELS,
    SUBMISSION_PARAMETER,
    column_widths,
    display_table,
    escape_markdown,
    label,
    submission_of_cell,
    table_value,
)
from recenter_bench.leaderboard.submission_view import SubmissionTab, submission_tab  # noqa: E402
from recenter_bench.leaderboard.submit import (  # noqa: E402
    prestart_previews,
    preview_runner,
    submit_tab,
)
from recenter_bench.metric.recenter_personalization.recenter_personalization import (  # noqa: E402
    stage_record,
)
from recenter_bench.paths import SUBMISSIONS_DIR  # noqa: E402

if TYPE_CHECKING:
    from recenter_bench.review.webhook import PullRequestWebhook

TITLE = "recenter-bench leaderboard"
# System fonts only: the page must not fetch fonts from anywhere.
THEME = gr.themes.Default(
    font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
)
CSS = """
.caption p { color: var(--body-text-color-subdued); font-size: 0.9em; }
.notice { border-left: 4px solid var(--color-accent); padding-left: 0.75em; }
"""
# A model cell is a link to `?submission=<id>`: follow it inside the page (the table's select
# event opens the Submission view) and keep the URL in the address bar, to be shared.
HEAD = """<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a[href^="?submission="]');
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  history.pushState(null, "", link.getAttribute("href"));
}, true);
</script>"""
# Each stage's figure, as its record names it (`Stage.plot`).
PLOTS: dict[str, Callable[..., dict[str, Any]]] = STAGE_PLOTS
__all__ = ["OVERVIEW", "LeaderboardData", "build_app", "launch", "leaderboard_command"]


def _column_names(stage: str) -> list[str]:
    return registry.overview_columns() if stage == OVERVIEW else registry.stage_columns(stage)


def column_choices(stage: str) -> list[tuple[str, str]]:
    """The column chooser's (header, column) pairs for a stage table or the overview."""
    return registry.chooser(_column_names(stage))


def default_columns(stage: str) -> list[str]:
    """The columns a tab opens with (the registry's defaults)."""
    return registry.default_visible(_column_names(stage))


def opening_filters(stage: str) -> dict[str, Any]:
    """The filter values a tab opens with, named and ordered as the `filter_<tab>`, `csv_<tab>`
    and `plot_<tab>` endpoints take them after the split: everything shown."""
    return {
        "query": "",
        "types": list(tables.SYSTEM_TYPES),
        "open_weights": "any",
        "provenance": list(tables.PROVENANCES),
        "training": "any",
        "references": True,
        "columns": default_columns(stage),
    }


def caption(data: LeaderboardData, stage: str, split: str, shown: pd.DataFrame) -> str:
    """What the table ranks, on which split, how many rows it shows, and how to read ranks."""
    full = data.table(stage, split)
    refs = int(shown["reference"].astype(bool).sum()) if not shown.empty else 0
    systems = len(shown) - refs
    if stage == OVERVIEW:
        what = "Headline score per stage (no overall rank: the stages measure different things)"
    else:
        what = (
            f"Ranked by **{label(tables.HEADLINE[stage])}** with its 95% bootstrap CI. "
            "*Rank 95% interval* and *tie group* come from a paired bootstrap over "
            f"{stage_record(stage).unit}s on the committed predictions: "
            "systems in one tie group cannot be told apart from its leader; the paper's "
            "reported rows have *no interval*"
        )
        if data.labels_problem:
            what += f" (no intervals now: the human labels are unavailable: {data.labels_problem})"
    unranked = int(full["unranked"].astype(bool).sum()) if "unranked" in full else 0
    held_out = (
        f" {unranked} row(s) trained or tuned on this split are grey and unranked."
        if unranked
        else ""
    )
    return (
        f"{what}. On the **{split}** split: {systems} systems and {refs} reference rows shown of "
        f"{len(full)}.{held_out} Rows without a score on this split are not shown; splits are "
        "never mixed in one ranking. Reference rows (human, no-skill baseline) are not ranked."
        + (PROMPT_BLIND_NOTE if full.attrs.get("prompt_blind_reference") else "")
    )


# The one sentence on what the Stage-2 prompt-blind reference means (shown under its table).
PROMPT_BLIND_NOTE = (
    " The *prompt-blind reference* is a model that never reads the prompt (it answers from the"
    " attribute alone), so part of any trained system's score needs no prompt; *Lead over"
    " prompt-blind* (under Columns) gives each trained row's F1 above it with its 95% paired"
    " bootstrap interval."
)


def plot_value(stage: str, table: pd.DataFrame, split: str, highlight: str | None = None) -> Any:
    """A stage's figure for gr.Plot, which renders a Vega-Lite spec handed to it as
    PlotData(type="altair") with its bundled Vega (the altair package is not needed)."""
    return vega(PLOTS[stage](table, split, highlight))


def vega(spec: dict[str, Any]) -> PlotData:
    return PlotData(type="altair", plot=json.dumps(spec))


def leaders_text(data: LeaderboardData, split: str) -> str:
    """Who leads each stage on `split` (the Overview's one split): the best ranked system with
    its CI, rank interval and tie group, against the human reference and the no-skill line."""
    lines = [f"### Who leads, on the *{split}* split"]
    for stage in tables.STAGES:
        table = data.table(stage, split)
        headline = tables.HEADLINE[stage]
        title = tables.STAGE_TITLES[stage]
        ranked = table[table["rank"] == 1] if not table.empty else table
        if ranked.empty:
            lines.append(f"- **{title}**: no ranked system on {split}{_elsewhere(data, stage)}.")
            continue
        leader = ranked.iloc[0]
        low, high = leader.get(f"{headline}_ci_low"), leader.get(f"{headline}_ci_high")
        ci = f" (95% CI {low:.3f}–{high:.3f})" if pd.notna(low) and pd.notna(high) else ""
        interval = leader.get("rank_interval") or ""
        if interval == tables.NO_INTERVAL:
            why = (
                "reported by the paper" if leader["provenance"] == "reported" else "no predictions"
            )
            interval = f", {why} (no interval)"
        elif interval:
            tied = int((table["tie_group"] == leader["tie_group"]).sum()) - 1
            interval = f", rank 95% interval {interval}, tied with {tied} other system(s)"
        marks = [f"{name} {value:.3f}" for name, value in reference_marks(table, stage).items()]
        if not any(m.startswith("human") for m in marks):
            marks += human_agreement(data, stage)
        refs = f" Against: {'; '.join(marks)}." if marks else ""
        lines.append(
            f"- **{title}**, on *{split}*: **{escape_markdown(leader['model'])}**, "
            f"{label(headline)} {leader[headline]:.3f}{ci}{interval}.{refs}"
        )
    return "\n".join(lines)


def _elsewhere(data: LeaderboardData, stage: str) -> str:
    """Where a stage with nothing ranked on the Overview's split has its rows."""
    counts = data.snapshot.counts(stage)
    where = [f"{split} ({n})" for split, n in counts.items() if n]
    return f"; its rows are on {', '.join(where)}: see its tab" if where else ""


def no_labels_note(data: LeaderboardData, stage: str) -> str:
    """What a stage tab says when the dataset holds no human labels for it: what is shown, and
    what can be submitted now ("" when the stage has labels)."""
    if stage == OVERVIEW or data.public_labels(stage) is not False:
        return ""
    open_stages = [tables.STAGE_TITLES[s] for s in tables.STAGES if data.public_labels(s)]
    now = (
        f"What can be submitted and ranked now: **{' and '.join(open_stages)}** predictions "
        "(Submit tab; `recenter run`, then `recenter validate` and `recenter score`)."
        if open_stages
        else "No stage can be re-scored until labels are released."
    )
    return (
        f"**The human labels of {tables.STAGE_TITLES[stage]} are not public yet** (the dataset "
        "holds none): this tab shows the paper's reported numbers, which have no rank interval, "
        f"and a submission for this stage cannot be scored yet. {now}"
    )


def unscored_note(data: LeaderboardData) -> str:
    """The run folders that are there but hold no results.json, with the command that scores
    each ("" when there are none)."""
    runs = data.snapshot.unscored
    if not runs:
        return ""
    folder = data.folder if data.folder != Path() else Path("submissions")
    lines = [f"**{len(runs)} run folder(s) not scored** (no `results.json`), so not in any table:"]
    lines += [
        f"- {code_span(run)}: not scored; score it with "
        f"{code_span(f'recenter score {folder / run} --write')}"
        for run in runs[:MAX_LISTED_UNSCORED]
    ]
    if len(runs) > MAX_LISTED_UNSCORED:
        lines.append(f"- ... and {len(runs) - MAX_LISTED_UNSCORED} more")
    return "\n".join(lines)


MAX_LISTED_UNSCORED = 20


def code_span(text: Any) -> str:
    """`text` as an inline code span on one line (inside one, Markdown and HTML are inert;
    only a backtick could end it)."""
    return "`" + " ".join(str(text).replace("`", "'").split())[:300] + "`"


def human_agreement(data: LeaderboardData, stage: str) -> list[str]:
    """The human reference of a stage where no human row has the headline: how well the
    annotators agree with each other (the paper's number, on "all")."""
    table = data.table(stage, tables.ALL)
    humans = table[table["type"] == "human"] if not table.empty else table
    for column in ("inter_annotator_kappa", "inter_annotator_spearman"):
        if column in humans and humans[column].notna().any():
            name = label(column)
            value = humans[column].dropna().iloc[0]
            return [f"human {name[0].lower()}{name[1:]} {value:.3f} (on all)"]
    return []


# Stage tables up to this many rows are sent with the page (see _stage_tab).
EAGER_ROWS = 100


def _stage_tab(
    data: LeaderboardData, stage: str, csv: CsvFiles, tab: gr.Tab | None
) -> tuple[gr.Radio, gr.Dataframe, Callable[[], None]]:
    """The controls, table, download and plot of one tab, wired to `filter_<stage>`; returns
    its split radio, its table and a function that computes its opening view on every split
    ahead of the first visitor (so opening the tab or switching its split is a cache lookup).

    A stage tab whose opening table holds more than EAGER_ROWS rows is filled when first
    opened rather than sent with the page (the page then carries one large table instead of
    four, which keeps the first paint fast with a thousand submissions); a smaller one is sent
    with the page, so opening its tab costs no request and no second render.
    """
    split0 = data.default_split(stage)
    opening = opening_filters(stage)
    eager = tab is None or len(data.view(stage, split0, **opening)) <= EAGER_ROWS
    note_text = no_labels_note(data, stage)
    if note_text:
        gr.Markdown(note_text, elem_classes="notice", elem_id=f"no-labels-{stage}")
    with gr.Row():
        split = gr.Radio(
            data.split_choices(stage), value=split0, label="Split", scale=2, min_width=320
        )
        query = gr.Textbox(
            opening["query"],
            label="Search model",
            placeholder="name, org or submission",
            scale=2,
            max_length=200,
        )
        training = gr.Radio(
            list(TRAINING_CHOICES), value=opening["training"], label="Training", scale=1
        )
        open_weights = gr.Radio(
            list(OPEN_WEIGHTS_CHOICES), value=opening["open_weights"], label="Open weights", scale=1
        )
    with gr.Row():
        types = gr.CheckboxGroup(
            list(tables.SYSTEM_TYPES), value=opening["types"], label="Type", scale=2
        )
        provenance = gr.CheckboxGroup(
            [(PROVENANCE_LABELS.get(p, p), p) for p in tables.PROVENANCES],
            value=opening["provenance"],
            label="Provenance",
            scale=1,
        )
        references = gr.Checkbox(
            value=opening["references"], label="Show reference rows (human, no-skill)"
        )
    with gr.Accordion("Columns", open=False):
        columns = gr.CheckboxGroup(
            column_choices(stage), value=opening["columns"], show_label=False
        )
    # In the order of `opening`, after the split: the endpoints' signature.
    inputs = [split, query, types, open_weights, provenance, training, references, columns]
    start = data.view(stage, split0, **opening)
    value, datatypes = table_value(start)
    note = gr.Markdown(caption(data, stage, split0, start) if eager else "", elem_classes="caption")
    frame = gr.Dataframe(
        value=value if eager else None,
        headers=None if eager else list(display_table(start)[0].columns),
        datatype=datatypes,
        column_widths=column_widths(start),
        interactive=False,
        # Long cells (why a row is not ranked) wrap rather than widen the table past the window.
        wrap=True,
        max_height=640,
        latex_delimiters=[],
        elem_id=f"table-{stage}",
        buttons=["fullscreen"],
    )
    download = gr.DownloadButton(
        "Download CSV of this view",
        value=csv.write(f"{stage}-{split0}", tables.to_csv(start)),
        size="sm",
    )

    def rendered(split: str, *filters: Any) -> tuple[dict[str, Any], list[str], list[str], str]:
        view = data.view(stage, split, *filters)
        value, datatypes = table_value(view)
        return value, datatypes, column_widths(view), caption(data, stage, split, view)

    def update(split: str, *filters: Any) -> tuple[Any, str]:
        # Cached with the view, by the filter values: a repeated view costs a lookup.
        value, datatypes, widths, note = data.memo(("table", stage, split, *filters), rendered)
        return gr.Dataframe(value=value, datatype=datatypes, column_widths=widths), note

    def export(split: str, *filters: Any) -> str:
        return csv.write(f"{stage}-{split}", tables.to_csv(data.view(stage, split, *filters)))

    triggers = [c.change for c in inputs]
    opened = triggers + ([] if eager else [tab.select])

    def on_filters(
        fn: Callable[..., Any], outputs: Any, api_name: str, on: list[Any], **listener: Any
    ) -> None:
        # Only the latest of a burst of changes (typing in the search box) is worth computing,
        # and a progress overlay on every keystroke would make the table flicker.
        gr.on(
            on,
            fn,
            inputs=inputs,
            outputs=outputs,
            api_name=api_name,
            trigger_mode="always_last",
            show_progress="hidden",
            **listener,
        )

    # The table and the plot are fast reads of cached views. Outside the queue, the browser
    # gets them in one POST (no queue/join plus event stream), and without a concurrency
    # limit, callers that do go through the queue (gradio_client always does) are not run one
    # at a time across all visitors. Request bodies are capped by limits.RequestLimits.
    unqueued = {"queue": False, "concurrency_limit": None}
    on_filters(update, [frame, note], f"filter_{stage}", opened, **unqueued)
    # A separate event, so the table is not held back by writing and serving the file. Not on
    # opening the tab: the button already holds the opening view's file.
    on_filters(export, download, f"csv_{stage}", triggers, concurrency_limit=2)
    spec_of: Callable[..., Any] | None = None
    if stage in PLOTS:
        rows = data.view(stage, split0, **{**opening, "columns": None}) if eager else None
        plot = gr.Plot(
            value=plot_value(stage, rows, split0) if rows is not None else None,
            show_label=False,
            elem_id=f"plot-{stage}",
        )

        def spec(split: str, *filters: Any) -> PlotData:
            return plot_value(stage, data.view(stage, split, *filters, None), split)

        def replot(split: str, *filters: Any) -> PlotData:
            # The plot follows the row filters; the column chooser (the last input) does not
            # apply to it.
            return data.memo(("plot", stage, split, *filters[:-1]), spec)

        on_filters(replot, plot, f"plot_{stage}", opened, **unqueued)
        spec_of = replot

    def warm() -> None:
        for name in tables.SPLITS:
            update(name, *opening.values())
            if spec_of is not None:
                spec_of(name, *opening.values())

    return split, frame, warm


def leaders(data: LeaderboardData, split: str) -> tuple[str, list[PlotData | None]]:
    """The Overview's leader text and one chart per stage on `split`, the split of the
    Overview's table (None where nothing is ranked)."""
    charts: list[PlotData | None] = []
    for stage in tables.STAGES:
        table = data.table(stage, split)
        ranked = not table.empty and table["rank"].notna().any()
        title = f"{tables.STAGE_TITLES[stage]} ({split})"
        charts.append(vega(leaders_plot(table, stage, split, title)) if ranked else None)
    return leaders_text(data, split), charts


def _overview_leaders(data: LeaderboardData) -> tuple[list[Any], Callable[[str], list[Any]]]:
    """Who leads each stage, in words and in one chart per stage, on the Overview's split; and
    the function that refreshes them for a split (wired to the page load and the split radio,
    so a new submission shows here without a restart).

    The page is sent with the text and empty charts: the page load's refresh draws them. So
    the charts' Vega bundle (0.7 MB of script to fetch and compile) does not hold back the
    first paint of the Overview's table, and each chart is drawn once per page load, not
    twice (from the page, then again from the refresh)."""
    split0 = data.default_split(OVERVIEW)
    # The same memo the refresh reads: the warm-up and the first page load reuse this.
    text, charts = data.memo(("leaders", "", split0), lambda s: leaders(data, s))
    outputs: list[Any] = [gr.Markdown(text, elem_id="leaders")]
    with gr.Row():
        for stage, chart in zip(tables.STAGES, charts, strict=True):
            outputs.append(
                gr.Plot(
                    None, visible=chart is not None, show_label=False, elem_id=f"leaders-{stage}"
                )
            )

    def refresh(split: str | None) -> list[Any]:
        split = split if split in tables.SPLITS else data.default_split(OVERVIEW)
        text, charts = data.memo(("leaders", "", split), lambda s: leaders(data, s))
        return [text, *(gr.Plot(value=c, visible=c is not None) for c in charts)]

    return outputs, refresh


# The note lists at most this many invalid folders (the rest are counted).
MAX_INVALID_SHOWN = 20


def invalid_note(problems: list[str]) -> str:
    """The folders left out, each with its first problem as plain text (a folder name or a
    problem may quote anything a submitter wrote)."""
    lines = [f"- {escape_markdown(p[:300])}" for p in problems[:MAX_INVALID_SHOWN]]
    more = len(problems) - MAX_INVALID_SHOWN
    if more > 0:
        lines.append(f"- ... and {more} more")
    return f"{len(problems)} submission folder(s) are invalid and not shown:\n" + "\n".join(lines)


def build_app(submissions: str | Path = SUBMISSIONS_DIR, dataset: str | None = None) -> gr.Blocks:
    """The leaderboard over a submissions folder; `dataset` (a folder or Hub ID, default: the
    preview release beside the checkout, else the Hub dataset) gives the human labels behind the
    rank intervals, the error analysis and the Submit tab's preview."""
    data = LeaderboardData(submissions, dataset)
    csv = CsvFiles()
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(900, 900)) as demo:
        gr.Markdown(
            f"# {TITLE}\n"
            "Systems ranked against human judgments on the three stages of LLM "
            "personalization of *Re-Centering Humans in LLM Personalization* "
            "(arXiv 2606.06614). Scores come from each submission's `results.json`, "
            "written by CI with the benchmark's metric; only held-out results are ranked. "
            f"New or changed submission folders appear within {RELOAD_NOTE}."
        )
        if data.problems:
            gr.Markdown(invalid_note(data.problems), elem_classes="notice", elem_id="invalid")
        # The stage tab last opened: the Submission tab opens on its leading run.
        current_stage = gr.State("pairing")
        frames: list[gr.Dataframe] = []
        with gr.Tabs() as tabs:
            with gr.Tab("Overview", id=OVERVIEW):
                leader_outputs, refresh_leaders = _overview_leaders(data)
                gr.Markdown(unscored_note(data), elem_id="unscored", elem_classes="notice")
                overview_split, frame, warm = _stage_tab(data, OVERVIEW, csv, None)
                frames.append(frame)
                warmers = [warm, *(partial(refresh_leaders, s) for s in tables.SPLITS)]
            for stage in tables.STAGES:
                with gr.Tab(tables.STAGE_TITLES[stage], id=stage) as tab:
                    _, frame, warm = _stage_tab(data, stage, csv, tab)
                    frames.append(frame)
                    warmers.append(warm)
                tab.select(partial(lambda s: s, stage), outputs=current_stage, queue=False)
            with gr.Tab("Agreement", id="agreement") as tab:
                agreement_tab(data, tab)
            with gr.Tab("Submission", id="submission") as tab:
                view = submission_tab(data, csv, tab, current_stage)
                warmers.append(view.warm)
            with gr.Tab("About", id="about"):
                about_tab()
            with gr.Tab("Submit", id="submit"):
                submit_tab(data)
        # The Overview shows one split: its leaders and charts follow its table's split.
        overview_split.change(
            refresh_leaders,
            inputs=overview_split,
            outputs=leader_outputs,
            api_name="leaders",
            queue=False,
            show_progress="hidden",
        )
        _wire_deep_links(demo, data, tabs, view, frames, refresh_leaders, leader_outputs)
    # Every tab's opening view on every split, computed before the first visitor (rankings
    # with their bootstrap, tables, rendered cells, plots): opening a tab or switching a split
    # then costs a lookup.
    for warm in warmers:
        warm()
    data.warmers = warmers
    demo.leaderboard_data = data  # for the CLI's warnings and for tests
    demo.leaderboard_files = csv
    return demo


def _wire_deep_links(
    demo: gr.Blocks,
    data: LeaderboardData,
    tabs: gr.Tabs,
    view: SubmissionTab,
    frames: list[gr.Dataframe],
    refresh_leaders: Callable[[str | None], list[Any]],
    leader_outputs: list[Any],
) -> None:
    """A model name opens its Submission view: a click on a model cell selects the Submission
    tab and the run (the page's script keeps the cell's `?submission=<id>` in the address
    bar), and a page opened on such a URL starts there. Either way one request answers the
    tab, the picker and the whole view (`SubmissionTab.show`)."""

    def opened(submission_id: str | None) -> list[Any]:
        if submission_id not in data.snapshot.by_id:
            return [gr.Tabs(), gr.Dropdown(), *view.skipped()]
        return [
            gr.Tabs(selected="submission"),
            gr.Dropdown(value=submission_id),
            *view.show(submission_id),
        ]

    def open_cell(event: gr.SelectData) -> list[Any]:
        return opened(submission_of_cell(event.value))

    for frame in frames:
        frame.select(
            open_cell, outputs=[tabs, view.picker, *view.outputs], api_name=False, queue=False
        )

    def on_load(request: gr.Request) -> list[Any]:
        # Who leads is refreshed on every load (a new submission shows without a restart).
        refreshed = refresh_leaders(None)
        wanted = request.query_params.get(SUBMISSION_PARAMETER) if request else None
        return [*opened(wanted), *refreshed]

    demo.load(
        on_load,
        outputs=[tabs, view.picker, *view.outputs, *leader_outputs],
        api_name="open",
        queue=False,
        show_progress="hidden",
    )


MAX_SESSIONS = 128
RELOAD_NOTE = "about ten seconds (reload the page for the split counts and the Submission picker)"


def launch(
    demo: gr.Blocks,
    host: str | None = None,
    port: int | None = None,
    *,
    webhook: PullRequestWebhook | None = None,
    **kwargs: Any,
) -> Any:
    """Start the app with the leaderboard's theme and CSS (Gradio 6 takes them in launch).

    Server-side rendering is off (it would need a Node server), as is the run history. Every
    request's body is capped (limits.RequestLimits). With `webhook`, the app also serves the
    route that checks Hub pull requests (webhook.py).
    """
    start = demo.launch if webhook is None else partial(webhook.launch, demo)
    app_kwargs = dict(kwargs.pop("app_kwargs", None) or {})
    app_kwargs["middleware"] = [
        *app_kwargs.get("middleware", []),
        Middleware(RequestLimits),
        Middleware(ApiGuard),
    ]
    return start(
        server_name=host,
        server_port=port,
        theme=THEME,
        css=CSS,
        head=HEAD,
        ssr_mode=False,
        # The Submit tab promises uploads are never stored: no run history (which would keep
        # calls and their files in the browser or a Hub bucket).
        run_history=False,
        max_file_size="5mb",  # stage files are far smaller; the validator caps them at 4 MiB
        # Gradio keeps a copy of every component's config per browser session (about 300 KB
        # here); the app keeps no state in it, so only the most recent sessions are kept and
        # a client inventing session ids cannot grow memory without bound.
        state_session_capacity=MAX_SESSIONS,
        app_kwargs=app_kwargs,
        **kwargs,
    )


def leaderboard_command(args: argparse.Namespace) -> int:
    """`recenter leaderboard [--submissions DIR] [--dataset D] [--host H] [--port P]`."""
    folder = Path(args.submissions) if args.submissions else SUBMISSIONS_DIR
    if not folder.is_dir():
        raise UserError(f"{folder}: --submissions: not a folder")
    demo = build_app(folder, dataset=args.dataset)
    for problem in demo.leaderboard_data.problems:
        print(f"warning: skipped {problem}", file=sys.stderr)
    prestart_previews(demo.leaderboard_data)
    try:
        launch(demo, args.host, args.port)
    except OSError as error:
        raise UserError(f"--port: cannot serve on {args.host}:{args.port} ({error})") from None
    return 0


def space_webhook(dataset: str | None) -> PullRequestWebhook | None:
    """The Space's pull-request webhook, served only when the Space has a WEBHOOK_SECRET."""
    secret = os.environ.get("WEBHOOK_SECRET")
    if not secret:
        return None
    from recenter_bench.review.webhook import (
        PullRequestWebhook,  # the checks load only when served
    )

    return PullRequestWebhook(secret, preview_runner(dataset), dataset=dataset)


if __name__ == "__main__":  # the Space runs `python app.py`; host and port come from the env
    dataset = os.environ.get("RECENTER_DATASET")
    space = build_app(SUBMISSIONS_DIR, dataset=dataset)
    prestart_previews(space.leaderboard_data)
    launch(space, webhook=space_webhook(dataset))
