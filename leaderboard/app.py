"""The leaderboard Space (Gradio 6) and `recenter leaderboard`.

The app reads each submission's metadata.yaml and results.json once at start-up through
`leaderboard.table` (the builder CI shares) and never re-scores: the Space shows what CI checked.
Every event has an `api_name`, so the whole app can be driven with `gradio_client`.

Splits: every ranking is for ONE split, chosen with a selector per tab. Each tab opens on the
split that shows the most rows (ties: "test"), because the paper's reported zero-shot rows only
have "all" and its trained rows only "test"; rows without a score on the chosen split are not
shown, and the caption says so. Nothing a submitter wrote is shown as markup (see render.py).
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
import contextlib  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import re  # noqa: E402
import tempfile  # noqa: E402
import traceback  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from functools import lru_cache  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gradio as gr  # noqa: E402
import pandas as pd  # noqa: E402
from gradio.components.plot import PlotData  # noqa: E402

from leaderboard import table as tables  # noqa: E402
from leaderboard.filters import OPEN_WEIGHTS_CHOICES, TRAINING_CHOICES, filter_table  # noqa: E402
from leaderboard.plots import pairing_plot, response_plot  # noqa: E402
from leaderboard.render import display_table, label  # noqa: E402
from recenter.errors import UserError  # noqa: E402
from recenter.paths import HUB_DATASET_ID, METRIC_DIR, SUBMISSIONS_DIR  # noqa: E402

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
# Shown only when a reader asks for them; everything else is visible by default.
OPTIONAL_COLUMNS = frozenset(
    {
        "org",
        "training",
        "human_yes_rate",
        "human_mean_rating",
        "inter_annotator_kappa_3way",
        "inter_annotator_weighted_kappa",
        "n_annotators",
        "tp",
        "fp",
        "fn",
        "tn",
        "source",
        "dataset_revision",
        "metric_version",
        "submission",
    }
)
# Never offered in the column chooser (always shown, or folded into the model cell).
FIXED_COLUMNS = frozenset({"rank", "model", "link", "reference"})
PLOTS: dict[str, Callable[[pd.DataFrame, str], dict[str, Any]]] = {
    "pairing": pairing_plot,
    "response_quality": response_plot,
}
PREVIEW_FILE_TYPES = [".jsonl", ".yaml", ".yml", ".json"]


class LeaderboardData:
    """The submissions read at start-up and the tables built from them (one per stage/split)."""

    def __init__(self, submissions: Sequence[tables.Submission], problems: Sequence[str] = ()):
        self.submissions = list(submissions)
        self.problems = list(problems)
        self.by_id = {s.id: s for s in self.submissions}
        self._table = lru_cache(maxsize=None)(self._build)

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
        return tables.default_split(self.submissions, None if stage == OVERVIEW else stage)

    def split_choices(self, stage: str) -> list[tuple[str, str]]:
        counts = tables.split_counts(self.submissions, None if stage == OVERVIEW else stage)
        return [
            (f"{split} ({counts[split]} row{'' if counts[split] == 1 else 's'})", split)
            for split in tables.SPLITS
        ]


def column_choices(stage: str) -> list[tuple[str, str]]:
    """The column chooser's (header, column) pairs for a stage table or the overview."""
    if stage == OVERVIEW:
        names = [c for c in tables.META_COLUMNS if c != "rank"]
        names += [*tables.overview_metric_columns(), *tables.TRAIL_COLUMNS]
    else:
        names = tables.stage_columns(stage)
    return [(label(c), c) for c in names if c not in FIXED_COLUMNS]


def default_columns(stage: str) -> list[str]:
    hidden = OPTIONAL_COLUMNS | ({"saw_split"} if stage == OVERVIEW else set())
    return [c for _, c in column_choices(stage) if c not in hidden]


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
    with gr.Row():
        split = gr.Radio(
            data.split_choices(stage), value=split0, label="Split", scale=2, min_width=320
        )
        query = gr.Textbox(label="Search model", placeholder="name, org or submission", scale=2)
        training = gr.Radio(list(TRAINING_CHOICES), value="any", label="Training", scale=1)
        open_weights = gr.Radio(
            list(OPEN_WEIGHTS_CHOICES), value="any", label="Open weights", scale=1
        )
    with gr.Row():
        types = gr.CheckboxGroup(
            list(tables.SYSTEM_TYPES), value=list(tables.SYSTEM_TYPES), label="Type", scale=2
        )
        provenance = gr.CheckboxGroup(
            [("re-scored", "rescored"), ("reported by the paper", "reported")],
            value=list(tables.PROVENANCES),
            label="Provenance",
            scale=1,
        )
        references = gr.Checkbox(value=True, label="Show reference rows (human, no-skill)")
    with gr.Accordion("Columns", open=False):
        columns = gr.CheckboxGroup(
            column_choices(stage), value=default_columns(stage), show_label=False
        )
    inputs = [split, query, types, open_weights, provenance, training, references, columns]
    start = _view(data, stage, split0, "", *_defaults(stage))
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
    gr.on(
        triggers,
        update,
        inputs=inputs,
        outputs=[frame, note],
        api_name=f"filter_{stage}",
        trigger_mode="always_last",
        show_progress="hidden",
    )
    # A separate event, so the table is not held back by writing and serving the file.
    gr.on(
        triggers,
        export,
        inputs=inputs,
        outputs=download,
        api_name=f"csv_{stage}",
        trigger_mode="always_last",
        show_progress="hidden",
    )
    if stage in PLOTS:
        rows = _view(data, stage, split0, "", *_defaults(stage)[:-1], None) if eager else None
        plot = gr.Plot(
            value=plot_value(stage, rows, split0) if rows is not None else None,
            show_label=False,
            elem_id=f"plot-{stage}",
        )

        def replot(split: str, *filters: Any) -> PlotData:
            # The plot follows the row filters; the column chooser does not apply to it.
            return plot_value(stage, _view(data, stage, split, *filters[:-1], None), split)

        gr.on(
            triggers,
            replot,
            inputs=inputs,
            outputs=plot,
            api_name=f"plot_{stage}",
            trigger_mode="always_last",
            show_progress="hidden",
        )


def _defaults(stage: str) -> tuple[Any, ...]:
    """The filter values a tab opens with (after split and query)."""
    return (
        list(tables.SYSTEM_TYPES),
        "any",
        list(tables.PROVENANCES),
        "any",
        True,
        default_columns(stage),
    )


def _metadata_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "" if value is None else str(value)


def submission_view(data: LeaderboardData, submission_id: str | None) -> list[Any]:
    """Metadata, scores per split per stage and confusion matrices of one submission.

    Metrics with no value on any split are left out; a binary stage's confusion matrix is shown
    for the first split (in SPLITS order) whose counts CI wrote, and hidden where there are none.
    """
    submission = data.by_id.get(submission_id or "")
    outputs: list[Any] = []
    meta: dict[str, Any] = {}
    if submission is not None:
        meta = {**submission.metadata, "provenance": submission.provenance}
        meta.update({k: submission.results.get(k) for k in ("dataset_revision", "metric_version")})
    # The free-text description gets its own plain-text box: table rows have a fixed height.
    description = _metadata_value(meta.pop("description", ""))
    outputs.append(
        pd.DataFrame({"field": list(meta), "value": [_metadata_value(v) for v in meta.values()]})
    )
    outputs.append(description)
    for stage in tables.STAGES:
        if submission is None or not submission.splits(stage):
            outputs.append(gr.Dataframe(value=None, label="Scores per split (stage not entered)"))
        else:
            per_split = tables.split_scores(submission, stage).dropna(axis=1, how="all")
            outputs.append(
                gr.Dataframe(value=display_table(per_split)[0], label="Scores per split")
            )
        if stage == "response_quality":
            continue
        matrix, shown_split = None, None
        for split in submission.splits(stage) if submission else []:
            matrix = tables.confusion_matrix(submission, stage, split)
            if matrix is not None:
                shown_split = split
                break
        outputs.append(
            gr.Dataframe(
                value=matrix,
                label=f"Confusion matrix ({shown_split})",
                visible=matrix is not None,
            )
        )
    return outputs


def _submission_tab(data: LeaderboardData) -> None:
    choices = [
        (f"{s.metadata.get('model') or s.id} · {s.id}", s.id)
        for s in sorted(data.submissions, key=lambda s: str(s.metadata.get("model", "")).lower())
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
        if stage != "response_quality":
            outputs.append(gr.Dataframe(label="Confusion matrix", interactive=False, visible=False))
    picker.change(
        lambda sid: submission_view(data, sid),
        inputs=picker,
        outputs=outputs,
        api_name="submission",
    )


def strip_front_matter(text: str) -> str:
    """Markdown without its leading YAML front matter block."""
    match = re.match(r"\A---\s*\n.*?\n---\s*(\n|\Z)", text, flags=re.DOTALL)
    return text[match.end() :] if match else text


def about_texts() -> tuple[str, str, str]:
    """(dataset card, metric card, citation) read from their owners, or a plain notice."""
    try:
        from loaders.card import static_card_text

        dataset_card = strip_front_matter(static_card_text())
    except Exception as error:  # the Space must start even if the card cannot be rendered
        dataset_card = f"*The dataset card is not available in this installation ({error}).*"
    metric_readme = METRIC_DIR / "README.md"
    if metric_readme.is_file():
        metric_card = strip_front_matter(metric_readme.read_text(encoding="utf-8"))
    else:
        metric_card = f"*The metric card ({metric_readme.name}) is not available.*"
    match = re.search(r"```(?:bibtex|bib)\s*\n(.*?)```", dataset_card + metric_card, re.DOTALL)
    citation = match.group(1).strip() if match else "(no citation found in the cards)"
    return dataset_card, metric_card, citation


def submit_instructions() -> str:
    readme = SUBMISSIONS_DIR / "README.md"
    guide = (
        readme.read_text(encoding="utf-8")
        if readme.is_file()
        else "*submissions/README.md is not available in this installation.*"
    )
    return guide


def preview(files: list[str] | None, dataset: str | None) -> tuple[str, pd.DataFrame]:
    """Validation messages and a score preview of uploaded stage files, computed in memory.

    The uploads are read into memory and their temporary copies deleted at once: nothing a
    visitor uploads is kept or published.
    """
    empty = pd.DataFrame(columns=["stage", "split", "metric", "value"])
    if not files:
        return "Upload one or more stage files (extraction.jsonl, pairing.jsonl, ...).", empty
    contents: dict[str, bytes] = {}
    for name in files:
        path = Path(name)
        contents[path.name] = path.read_bytes()
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # Gradio's per-upload folder, now empty
            path.parent.rmdir()
    try:
        from recenter.submissions import preview_submission
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
    rows = [
        {"stage": stage, "split": split, "metric": metric, "value": value}
        for stage, by_split in (scores or {}).items()
        for split, metrics in by_split.items()
        for metric, value in metrics.items()
    ]
    verdict = "No problems found." if scores is not None and not messages else ""
    text = "\n".join([*messages, verdict]).strip()
    frame = pd.DataFrame(rows, columns=empty.columns) if rows else empty
    if not frame.empty:
        frame["value"] = [
            None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), 4)
            for v in frame["value"]
        ]
    return text, frame


def _dataset_name(dataset: str | None) -> str:
    if dataset:
        return f"`{dataset}`"
    return f"the preview release beside the checkout if present, else `{HUB_DATASET_ID}`"


def _submit_tab(dataset: str | None) -> None:
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
        gr.Markdown(submit_instructions())
    files = gr.File(
        file_count="multiple", file_types=PREVIEW_FILE_TYPES, label="Stage files", type="filepath"
    )
    button = gr.Button("Validate and preview scores", variant="primary")
    messages = gr.Textbox(label="Validation", lines=6, interactive=False)
    scores = gr.Dataframe(
        label="Score preview (not stored)",
        headers=["stage", "split", "metric", "value"],
        interactive=False,
    )
    button.click(
        lambda paths: preview(paths, dataset),
        inputs=files,
        outputs=[messages, scores],
        api_name="preview",
    )


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
                _submission_tab(data)
            with gr.Tab("About", id="about"):
                dataset_card, metric_card, citation = about_texts()
                gr.Code(citation, language=None, label="Citation", interactive=False)
                with gr.Accordion("Dataset card", open=True):
                    gr.Markdown(dataset_card)
                with gr.Accordion("Metric card", open=False):
                    gr.Markdown(metric_card)
            with gr.Tab("Submit", id="submit"):
                _submit_tab(dataset)
    demo.leaderboard_data = data  # for the CLI's warnings and for tests
    return demo


def launch(
    demo: gr.Blocks,
    host: str | None = None,
    port: int | None = None,
    **kwargs: Any,
) -> Any:
    """Start the app with the leaderboard's theme and CSS (Gradio 6 takes them in launch).

    Server-side rendering is off (it would need a Node server), as is the run history.
    """
    return demo.launch(
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


if __name__ == "__main__":  # the Space runs `python app.py`; host and port come from the env
    launch(build_app(SUBMISSIONS_DIR, dataset=os.environ.get("RECENTER_DATASET")))
