"""Every leaderboard column declared once: its header, how the browser shows it, and whether a
tab shows it by default (in the spirit of the Hugging Face leaderboard template's
`ColumnContent`).

The stage facts (stages, headline metric and its direction, metric names) are the metric
module's, so a metric the metric starts writing appears here without a second list. The table
builder orders its columns from here, the renderer takes headers and cell kinds from here, and the
Space builds its column chooser from here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from recenter_bench.leaderboard.prompt_blind import PROMPT_BLIND_STAGE
from recenter_bench.metric.recenter_personalization import recenter_personalization as _metric

# The metric's own views of its stage records, read when looked up, not copied at import
# (tests/test_registry.py checks they are the same objects): a stage declared in the metric's
# STAGE_RECORDS is on the board with no second list.
STAGES: Sequence[str] = _metric.STAGES
HEADLINE: Mapping[str, str] = _metric.HEADLINE
# Whether a larger headline is better, per stage: the metric declares the direction of every
# score it writes (lm-eval's `higher_is_better`); F1 and Spearman both are.
HIGHER_IS_BETTER: Mapping[str, bool] = _metric.RecordView(lambda record: record.higher_is_better)
# The tab titles are the records' (`Stage.title`), not a second list.
STAGE_TITLES: Mapping[str, str] = _metric.RecordView(lambda record: record.title)
CONFUSION_COUNTS: tuple[str, ...] = ("tp", "fp", "fn", "tn")
# The stages with yes/no decisions: the records of kind BINARY (table.py asks the same).
BINARY_STAGES: Sequence[str] = _metric.StageNames(lambda record: record.kind == _metric.BINARY)


@dataclass(frozen=True)
class ColumnContent:
    """One column: `name` in the plain table, `label` (the header), `kind` (the Dataframe's
    datatype: "markdown", "str" or "number"), shown by `default`, `fixed` (always shown, not in
    the chooser), `hidden` (kept in the table for the renderer, never a column of its own) and
    `integer` (numbers shown without decimals) and `width` (pixels; by kind when 0), chosen so
    a tab's default columns fit a 1280-pixel window, headers and long cells wrapping."""

    name: str
    label: str
    kind: str = "number"
    default: bool = True
    fixed: bool = False
    hidden: bool = False
    integer: bool = False
    width: int = 0

    @property
    def pixels(self) -> int:
        """The column's width in the browser."""
        return self.width or {"number": 68, "markdown": 110}.get(self.kind, 110)


def _c(name: str, label: str, kind: str = "number", **flags: Any) -> ColumnContent:
    return ColumnContent(name, label, kind, **flags)


META: tuple[ColumnContent, ...] = (
    _c("rank", "Rank", integer=True, fixed=True, width=56),
    _c("rank_interval", "Rank 95% interval", "str", width=88),
    _c("tie_group", "Tie group", integer=True, width=60),
    _c("model", "Model", "markdown", fixed=True, width=230),
    _c("unranked", "Not ranked because", "str", width=170),
    _c("org", "Org", "str", default=False),
    _c("type", "Type", "str", width=130),
    _c("reference", "Reference row", "str", fixed=True, hidden=True),
    _c("open_weights", "Open weights", "str", default=False),
    _c("provenance", "Provenance", "str", default=False),
    _c("training", "Training", "str", default=False),
)
# Stage 2 only: each trained row's F1 above the prompt-blind reference, with its 95% paired
# bootstrap interval (`prompt_blind.ranking_leads`). In the chooser, not shown by default: the
# default columns already fill a 1280-pixel window.
LEAD = _c("prompt_blind_lead", "Lead over prompt-blind", "str", default=False, width=150)
TRAIL: tuple[ColumnContent, ...] = (
    # The paper or model page: its own column, since the model name opens the Submission view.
    _c("link", "Link", "markdown"),
    _c("date", "Date", "str", default=False),
    _c("source", "Source", "str", default=False),
    _c("dataset_revision", "Dataset revision", "str", default=False),
    _c("metric_version", "Metric version", "str", default=False),
    # Carried by the model cell's link to the Submission view (and the CSV), not a column.
    _c("submission", "Submission", "str", fixed=True, hidden=True),
)
# Headers of every metric the metric module writes; names follow the metric card.
_METRIC_LABELS: dict[str, str] = {
    "f1": "F1",
    "precision": "Precision",
    "recall": "Recall",
    "accuracy": "Accuracy",
    "flag_rate": "Flag rate",
    "yes_rate": "YES-rate",
    "human_yes_rate": "Human YES-rate",
    "kappa_vs_annotators": "κ vs annotators",
    "inter_annotator_kappa": "Inter-annotator κ",
    "inter_annotator_kappa_3way": "Inter-annotator κ (3-way)",
    "inter_annotator_spearman": "Inter-annotator Spearman",
    "inter_annotator_weighted_kappa": "Inter-annotator weighted κ",
    "n": "n",
    "n_annotators": "Annotators",
    "tp": "TP",
    "fp": "FP",
    "fn": "FN",
    "tn": "TN",
    "spearman": "Spearman",
    "kendall": "Kendall τ",
    "pearson": "Pearson",
    "mean_rating": "Mean rating",
    "human_mean_rating": "Human mean rating",
    "inflation": "Rating inflation",
}
# Shown by default besides the headline and its CI: what a stage's plot is read with (the
# paper's points: judges over-select, judges flatter). The rest is in the column chooser, so a
# table fits a 1280-pixel window without a sideways scroll.
_DEFAULT_METRICS = frozenset({"precision", "recall", "inflation"})


def metric_label(name: str) -> str:
    """The header of a metric, its CI bounds included ("F1 95% CI low")."""
    for bound in ("low", "high"):
        if name.endswith(f"_ci_{bound}"):
            return f"{metric_label(name.removesuffix(f'_ci_{bound}'))} 95% CI {bound}"
    return _METRIC_LABELS.get(name, name)


def metric_columns(stage: str) -> tuple[str, ...]:
    """A stage's metric columns in display order: the headline and its CI first, then the rest
    of what the metric writes for a system and for the human reference, in the metric's order.

    >>> metric_columns("response_quality")[:4]
    ('spearman', 'spearman_ci_low', 'spearman_ci_high', 'kendall')
    """
    names = dict.fromkeys((*_metric.METRIC_NAMES[stage], *_metric.HUMAN_METRIC_NAMES[stage]))
    headline = HEADLINE[stage]
    first = [name for name in names if name == headline or name.startswith(f"{headline}_ci_")]
    return (*first, *(name for name in names if name not in first))


STAGE_METRICS: Mapping[str, tuple[str, ...]] = _metric.RecordView(
    lambda record: metric_columns(record.name)
)


def overview_metric(stage: str) -> str:
    """The overview's headline column of a stage, e.g. "pairing_f1"."""
    return f"{stage}_{HEADLINE[stage]}"


def _registry() -> dict[str, ColumnContent]:
    columns = {c.name: c for c in (*META, LEAD, *TRAIL)}
    for stage in STAGES:
        for name in STAGE_METRICS[stage]:
            columns.setdefault(
                name,
                _c(
                    name,
                    metric_label(name),
                    integer=name in ("n", "n_annotators", *CONFUSION_COUNTS),
                    default=name in _DEFAULT_METRICS or name.startswith(HEADLINE[stage]),
                ),
            )
        title = STAGE_TITLES[stage].split(" · ")[0]
        name = overview_metric(stage)
        columns[name] = _c(name, f"{title} {metric_label(HEADLINE[stage])}")
    return columns


class _Columns(Mapping):
    """`COLUMNS`: the registry, rebuilt when the metric's stage records change (a stage added to
    them has its columns here too), else the one built before."""

    def __init__(self) -> None:
        self._built: tuple[Any, dict[str, ColumnContent]] | None = None

    def _current(self) -> dict[str, ColumnContent]:
        records = _metric.STAGE_RECORDS
        if self._built is None or self._built[0] is not records:
            self._built = (records, _registry())
        return self._built[1]

    def __getitem__(self, name: str) -> ColumnContent:
        return self._current()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())


COLUMNS: Mapping[str, ColumnContent] = _Columns()
_RANK_COLUMNS = ("rank", "rank_interval", "tie_group", "unranked")


def stage_columns(stage: str) -> list[str]:
    """Every column of a stage table, in display order: rank, model and the ranked score with
    its 95% CI lead, so they are on screen without scrolling sideways.

    >>> stage_columns("pairing")[:5]
    ['rank', 'model', 'f1', 'f1_ci_low', 'f1_ci_high']
    """
    lead = ["rank", "model", *headline_columns(stage)]
    rest = [c.name for c in META if c.name not in lead]
    if stage == PROMPT_BLIND_STAGE:
        rest.append(LEAD.name)
    metrics = [m for m in STAGE_METRICS[stage] if m not in lead]
    return [*lead, *rest, *metrics, *(c.name for c in TRAIL)]


def headline_columns(stage: str) -> list[str]:
    """A stage's headline metric and its 95% CI bounds."""
    headline = HEADLINE[stage]
    return [headline, f"{headline}_ci_low", f"{headline}_ci_high"]


def overview_columns() -> list[str]:
    """Every column of the overview (no rank: the stages measure different things)."""
    meta = [c.name for c in META if c.name not in (*_RANK_COLUMNS, "model")]
    # The overview ranks nothing, but a score read on data the system was fit on must still
    # stand out next to held-out ones: greyed, with the reason after the scores.
    scores = [overview_metric(s) for s in STAGES]
    return ["model", *scores, *meta, "unranked", *(c.name for c in TRAIL)]


def label(name: str) -> str:
    """The header of a column in the browser."""
    column = COLUMNS.get(name)
    return column.label if column else name


def chooser(names: list[str]) -> list[tuple[str, str]]:
    """The column chooser's (header, column) pairs: every column that may be hidden."""
    return [(label(n), n) for n in names if not (COLUMNS[n].fixed or COLUMNS[n].hidden)]


def default_visible(names: list[str]) -> list[str]:
    """The columns a tab opens with."""
    return [n for _, n in chooser(names) if COLUMNS[n].default]
