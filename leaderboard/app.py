"""The leaderboard Space (Gradio 6) and `recenter leaderboard`.

The app reads each submission's metadata.yaml and results.json once at start-up through
`recenter_bench.leaderboard.table` (the builder CI shares) and never re-scores: the Space
shows what CI checked.
Every event has an `api_name`, so the whole app can be driven with `gradio_client`.

Splits: every ranking is for ONE split, chosen with a selector per tab. Each tab opens on the
split that shows the most rows (ties: "test"), because the paper's reported zero-shot rows only
have "all" and its trained rows only "test"; rows without a score on the chosen split are not
shown, and the caption says so. Nothing a submitter wrote is shown as markup (see render.py).

This module builds the ranking tabs (overview and one per stage) and starts the app; the other
tabs are their own modules: submission_view.py (one submission), about.py (the cards) and
submit.py (the pull-request flow and the upload preview).
"""

from __future__ import annotations

import os
import sys

# Before gradio is imported: the Space must not phone home (and offline it would log errors).
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
if not __package__:
    # Run as a script (`python app.py`, as a Space does): import the repository's packages
    # from the checkout this file sits in, installed or not.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from functools import lru_cache, partial  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Any  # noqa: E402

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402
from gradio.components.plot import PlotData  # noqa: E402

from recenter_bench.errors import UserError  # noqa: E402
from recenter_bench.leaderboard import table as tables  # noqa: E402
from recenter_bench.leaderboard.about import about_tab  # noqa: E402
from recenter_bench.leaderboard.filters import OPEN_WEIGHTS_CHOICES, TRAINING_CHOICES, filter_table  # noqa: E402
from recenter_bench.leaderboard.plots import pairing_plot, response_plot  # noqa: E402
from recenter_bench.leaderboard.render import PROVENANCE_LABELS, display_table, label  # noqa: E402
from recenter_bench.leaderboard.submission_view import submission_tab  # noqa: E402
from recenter_bench.leaderboard.submit import submit_tab  # noqa: E402
from recenter_bench.paths import SUBMISSIONS_DIR  # noqa: E402

if TYPE_CHECKING:
    from recenter_bench.leaderboard.webhook import PullRequestWebhook

TITLE = "recenter-bench leaderboard"
OVERVIEW = "overview"
# System fonts only: the page must not fetch fonts from anywhere.
THEME = gr.themes.Default(
    font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
)
CSS = """
.caption p { color: var(--body-text-color-subdued); font-size: 0.9em; }
.notice { border-left: 4px solid var(--color-accent); padding-left: 0.75em; }
"""
# Shown only when a reader asks for them; everything else is visible by default. The trailing
# columns after the date are bookkeeping (where a number comes from), not results.
OPTIONAL_COLUMNS = frozenset(
    {
        "org",
        "training",
        "human_yes_rate",
        "human_mean_rating",
        "inter_annotator_kappa_3way",
        "inter_annotator_weighted_kappa",
        "n_annotators",
        *tables.CONFUSION_COUNTS,
        *(c for c in tables.TRAIL_COLUMNS if c != "date"),
    }
)
# Never offered in the column chooser (always shown, or folded into the model cell).
FIXED_COLUMNS = frozenset({"rank", "model", "link", "reference"})
PLOTS: dict[str, Callable[[pd.DataFrame, str], dict[str, Any]]] = {
    "pairing": pairing_plot,
    "response_quality": response_plot,
}


class LeaderboardData:
    """The submissions read at start-up and the tables built from them (one per stage/split)."""

    def __init__(self, submissions: Sequence[tables.Submission], problems: Sequence[str] = ()):
        self.submissions = list(submissions)
        self.problems = list(problems)
        self._table = lru_cache(maxsize=None)(self._build)
        # Every tab asks for its split counts twice (choices and default): count once.
        self._split_counts = lru_cache(maxsize=None)(self._count_splits)

    def _count_splits(self, stage: str) -> dict[str, int]:
        return tables.split_counts(self.submissions, None if stage == OVERVIEW else stage)

    @classmethod
    def load(cls, folder: str | Path) -> LeaderboardData:
        return cls(*tables.load_submissions(folder))

    def _build(self, stage: str, split: str) -> pd.DataFrame:
        if stage == OVERVIEW:
            return tables.overview_table(self.submissions, split)
        return tables.stage_table(self.submissions, stage, split)

    def table(self, stage: str, split: str) -> pd.DataFrame:
        """The full table of a stage (or OVERVIEW) on one split, built once."""
        return self._table(stage, split)

    def default_split(self, stage: str) -> str:
        return tables.split_with_most_rows(self._split_counts(stage))

    def split_choices(self, stage: str) -> list[tuple[str, str]]:
        counts = self._split_counts(stage)
        return [
            (f"{split} ({counts[split]} row{'' if counts[split] == 1 else 's'})", split)
            for split in tables.SPLITS
        ]


def column_choices(stage: str) -> list[tuple[str, str]]:
    """The column chooser's (header, column) pairs for a stage table or the overview."""
    names = tables.overview_columns() if stage == OVERVIEW else tables.stage_columns(stage)
    return [(label(c), c) for c in names if c not in FIXED_COLUMNS]


def default_columns(stage: str) -> list[str]:
    """The columns a tab opens with: all but the optional ones (and, in the overview, which
    mixes stages, the per-split training flag)."""
    hidden = OPTIONAL_COLUMNS | ({"saw_split"} if stage == OVERVIEW else set())
    return [c for _, c in column_choices(stage) if c not in hidden]


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
    """One line saying what the table ranks, on which split, and how many rows it shows."""
    full = data.table(stage, split)
    refs = int(shown["reference"].astype(bool).sum()) if not shown.empty else 0
    systems = len(shown) - refs
    what = (
        "Headline score per stage (no overall rank: the stages measure different things)"
        if stage == OVERVIEW
        else f"Ranked by **{label(tables.HEADLINE[stage])}** (with its 95% bootstrap CI where "
        "the metric computed one; the paper's reported rows have none)"
    )
    return (
        f"{what} on the **{split}** split: {systems} systems and {refs} reference rows shown of "
        f"{len(full)}. Rows without a score on this split are not shown (the paper's zero-shot "
        "rows only have *all*, its trained rows only *test*); splits are never mixed in one "
        "ranking. Reference rows (human, no-skill baseline) are not ranked."
    )


def write_csv(folder: Path, name: str, table: pd.DataFrame) -> str:
    """Write the table as CSV under a content-addressed name (repeat views reuse the file)."""
    text = tables.to_csv(table)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    path = folder / f"recenter-{name}-{digest}.csv"
    if not path.exists():
        path.write_text(text, encoding="utf-8")
    return str(path)


def plot_value(stage: str, table: pd.DataFrame, split: str) -> PlotData:
    """A stage's figure for gr.Plot, which renders a Vega-Lite spec handed to it as
    PlotData(type="altair") with its bundled Vega (the altair package is not needed)."""
    return PlotData(type="altair", plot=json.dumps(PLOTS[stage](table, split)))


def _view(
    data: LeaderboardData,
    stage: str,
    split: str,
    query: str,
    types: list[str] | None,
    open_weights: str,
    provenance: list[str] | None,
    training: str,
    references: bool,
    columns: list[str] | None,
) -> pd.DataFrame:
    """A tab's table on `split` after its filters. Values arrive as Gradio sends them (None for
    an emptied control), so they are normalised here; `columns=None` keeps every column."""
    return filter_table(
        data.table(stage, split),
        query=query or "",
        types=list(types or []),
        open_weights=open_weights or "any",
        provenance=list(provenance or []),
        training=training or "any",
        references=bool(references),
        columns=None if columns is None else list(columns),
    )


def _stage_tab(data: LeaderboardData, stage: str, csv_dir: Path, tab: gr.Tab | None) -> None:
    """The controls, table, download and plot of one tab, wired to `filter_<stage>`.

    With `tab`, the table and plot are filled when the tab is first opened rather than sent
    with the page: the page then carries one table instead of four (and no plots), which is
    what keeps the first paint fast with a thousand submissions.
    """
    eager = tab is None
    split0 = data.default_split(stage)
    opening = opening_filters(stage)
    with gr.Row():
        split = gr.Radio(
            data.split_choices(stage), value=split0, label="Split", scale=2, min_width=320
        )
        query = gr.Textbox(
            opening["query"], label="Search model", placeholder="name, org or submission", scale=2
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
    start = _view(data, stage, split0, **opening)
    shown, datatypes = display_table(start)
    note = gr.Markdown(caption(data, stage, split0, start) if eager else "", elem_classes="caption")
    frame = gr.Dataframe(
        value=shown if eager else None,
        headers=None if eager else list(shown.columns),
        datatype=datatypes,
        interactive=False,
        wrap=False,
        max_height=640,
        latex_delimiters=[],
        elem_id=f"table-{stage}",
        buttons=["fullscreen"],
    )
    download = gr.DownloadButton(
        "Download CSV of this view",
        value=write_csv(csv_dir, f"{stage}-{split0}", start),
        size="sm",
    )

    def update(split: str, *filters: Any) -> tuple[Any, str]:
        view = _view(data, stage, split, *filters)
        shown, datatypes = display_table(view)
        return gr.Dataframe(value=shown, datatype=datatypes), caption(data, stage, split, view)

    def export(split: str, *filters: Any) -> str:
        return write_csv(csv_dir, f"{stage}-{split}", _view(data, stage, split, *filters))

    triggers = [c.change for c in inputs] + ([] if eager else [tab.select])

    def on_filters(fn: Callable[..., Any], outputs: Any, api_name: str, **listener: Any) -> None:
        # Only the latest of a burst of changes (typing in the search box) is worth computing,
        # and a progress overlay on every keystroke would make the table flicker.
        gr.on(
            triggers,
            fn,
            inputs=inputs,
            outputs=outputs,
            api_name=api_name,
            trigger_mode="always_last",
            show_progress="hidden",
            **listener,
        )

    # The table and the plot are pure, fast reads of tables built at start-up. Outside the queue,
    # the browser gets them in one POST (no queue/join plus event stream), and without a
    # concurrency limit, callers that do go through the queue (gradio_client always does) are not
    # run one at a time across all visitors.
    unqueued = {"queue": False, "concurrency_limit": None}
    on_filters(update, [frame, note], f"filter_{stage}", **unqueued)
    # A separate event, so the table is not held back by writing and serving the file. It stays
    # in the queue, one call at a time: two visitors on the same view write the same file.
    on_filters(export, download, f"csv_{stage}")
    if stage in PLOTS:
        rows = _view(data, stage, split0, **{**opening, "columns": None}) if eager else None
        plot = gr.Plot(
            value=plot_value(stage, rows, split0) if rows is not None else None,
            show_label=False,
            elem_id=f"plot-{stage}",
        )

        def replot(split: str, *filters: Any) -> PlotData:
            # The plot follows the row filters; the column chooser (the last input) does not
            # apply to it.
            return plot_value(stage, _view(data, stage, split, *filters[:-1], None), split)

        on_filters(replot, plot, f"plot_{stage}", **unqueued)


def build_app(submissions: str | Path = SUBMISSIONS_DIR, dataset: str | None = None) -> gr.Blocks:
    """The leaderboard over a submissions folder; `dataset` feeds the Submit tab's preview."""
    data = LeaderboardData.load(submissions)
    csv_dir = Path(tempfile.mkdtemp(prefix="recenter-leaderboard-"))
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 3600)) as demo:
        gr.Markdown(
            f"# {TITLE}\n"
            "Systems ranked against human judgments on the three stages of LLM "
            "personalization of *Re-Centering Humans in LLM Personalization* "
            "(arXiv 2606.06614). Scores come from each submission's `results.json`, "
            "written by CI with the benchmark's metric."
        )
        if data.problems:
            gr.Markdown(
                f"{len(data.problems)} submission folder(s) could not be read and are not "
                "shown; see the Space logs.",
                elem_classes="notice",
            )
        with gr.Tabs():
            with gr.Tab("Overview", id=OVERVIEW):
                _stage_tab(data, OVERVIEW, csv_dir, None)
            for stage in tables.STAGES:
                with gr.Tab(tables.STAGE_TITLES[stage], id=stage) as tab:
                    _stage_tab(data, stage, csv_dir, tab)
            with gr.Tab("Submission", id="submission"):
                submission_tab(data.submissions)
            with gr.Tab("About", id="about"):
                about_tab()
            with gr.Tab("Submit", id="submit"):
                submit_tab(dataset)
    demo.leaderboard_data = data  # for the CLI's warnings and for tests
    return demo


def launch(
    demo: gr.Blocks,
    host: str | None = None,
    port: int | None = None,
    *,
    webhook: PullRequestWebhook | None = None,
    **kwargs: Any,
) -> Any:
    """Start the app with the leaderboard's theme and CSS (Gradio 6 takes them in launch).

    Server-side rendering is off (it would need a Node server), as is the run history. With
    `webhook`, the app also serves the route that checks Hub pull requests (webhook.py).
    """
    start = demo.launch if webhook is None else partial(webhook.launch, demo)
    return start(
        server_name=host,
        server_port=port,
        theme=THEME,
        css=CSS,
        ssr_mode=False,
        # The Submit tab promises uploads are never stored: no run history (which would keep
        # calls and their files in the browser or a Hub bucket).
        run_history=False,
        max_file_size="5mb",  # stage files are far smaller; the validator caps them at 4 MiB
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
    from recenter_bench.leaderboard.webhook import (
        PullRequestWebhook,  # the checks load only when served
    )

    return PullRequestWebhook(secret, dataset=dataset)


if __name__ == "__main__":  # the Space runs `python app.py`; host and port come from the env
    dataset = os.environ.get("RECENTER_DATASET")
    launch(build_app(SUBMISSIONS_DIR, dataset=dataset), webhook=space_webhook(dataset))
