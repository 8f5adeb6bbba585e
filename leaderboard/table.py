"""results.json -> pandas DataFrame: the one table builder, shared by the Space and CI.

A submission folder is `<submissions>/<org>__<model>/<run>/` holding `metadata.yaml` (who and
what) and `results.json` (the scores CI wrote with the metric). This module only reads them: it
never re-scores and never recomputes a number CI wrote, so the Space shows exactly what CI checked.

Splits are never mixed in one ranking. Every table is built for ONE split; rows without a score
on that split are left out of it (the paper's zero-shot rows only have "all", its trained rows only
"test"). `default_split` picks the split that shows the most rows, preferring the held-out "test"
split on ties, and the table says which split it ranks. A row whose system was trained on data of
the shown split (e.g. a fine-tuned model shown on "all") is kept but flagged in `saw_split`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from recenter_bench.metric.recenter_personalization.recenter_personalization import (
    ALL,
    HEADLINE,
    HUMAN_METRIC_NAMES,
    METRIC_NAMES,
    STAGES,
)
from recenter_bench.paths import load_schema

# The stage titles are the Space's; the stages, headlines and metric names are the metric's
# result contract (results.json holds exactly these), so they are imported, never re-listed.
STAGE_TITLES: dict[str, str] = {
    "extraction": "Stage 1 · attribute extraction",
    "pairing": "Stage 2 · relevance pairing",
    "response_quality": "Stage 3 · response judging",
}
# Order of preference when two splits show as many rows: the held-out split first.
SPLITS: tuple[str, ...] = ("test", ALL, "validation", "train")

# The submission vocabulary is the metadata schema's, the one place CI validates against.
_METADATA_SCHEMA = load_schema("submission_metadata")["properties"]
TYPES: tuple[str, ...] = tuple(_METADATA_SCHEMA["type"]["enum"])
PROVENANCES: tuple[str, ...] = tuple(_METADATA_SCHEMA["provenance"]["enum"])
# Rows that are not systems: the human ceiling and the no-skill baselines (anchors, not ranked).
REFERENCE_TYPES = frozenset({"human", "baseline"})
SYSTEM_TYPES: tuple[str, ...] = tuple(t for t in TYPES if t not in REFERENCE_TYPES)


def metric_columns(stage: str) -> tuple[str, ...]:
    """A stage's metric columns in display order: the headline and its CI first, then the rest
    of what the metric writes for a system (METRIC_NAMES) and for the human reference
    (HUMAN_METRIC_NAMES), in the metric's order. Anything else in results.json is ignored.

    >>> metric_columns("response_quality")[:4]
    ('spearman', 'spearman_ci_low', 'spearman_ci_high', 'kendall')
    """
    names = dict.fromkeys((*METRIC_NAMES[stage], *HUMAN_METRIC_NAMES[stage]))
    headline = HEADLINE[stage]
    first = [name for name in names if name == headline or name.startswith(f"{headline}_ci_")]
    return (*first, *(name for name in names if name not in first))


STAGE_METRICS: dict[str, tuple[str, ...]] = {stage: metric_columns(stage) for stage in STAGES}
# The counts a binary stage writes; the stages with yes/no decisions are the ones that have them.
CONFUSION_COUNTS: tuple[str, ...] = ("tp", "fp", "fn", "tn")
BINARY_STAGES: tuple[str, ...] = tuple(
    s for s in STAGES if set(CONFUSION_COUNTS) <= set(METRIC_NAMES[s])
)
META_COLUMNS: tuple[str, ...] = (
    "rank",
    "model",
    "org",
    "link",
    "type",
    "reference",
    "open_weights",
    "provenance",
    "training",
    "saw_split",
)
TRAIL_COLUMNS: tuple[str, ...] = (
    "date",
    "source",
    "dataset_revision",
    "metric_version",
    "submission",
)
# A results.json is a few kilobytes; refuse anything that could stall start-up.
MAX_RESULTS_BYTES = 1_000_000


@dataclass(frozen=True)
class Submission:
    """One run folder: its id `org__model/run`, parsed metadata.yaml and results.json."""

    id: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    results: Mapping[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return str(self.metadata.get("type") or "")

    @property
    def reference(self) -> bool:
        """True for rows that are not systems: the human ceiling and the no-skill baselines."""
        return self.type in REFERENCE_TYPES

    @property
    def trained_on(self) -> list[str]:
        value = self.metadata.get("trained_on") or []
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]

    @property
    def training(self) -> str:
        """ "trained" if the system saw benchmark labels (fine-tuned or any trained_on split)."""
        return "trained" if self.trained_on or self.type == "fine-tuned" else "zero-shot"

    def saw_split(self, split: str) -> bool:
        """Whether the system was trained on rows of `split` ("all" contains every split)."""
        return split in self.trained_on or (split == "all" and bool(self.trained_on))

    def scores(self, stage: str, split: str) -> dict[str, float] | None:
        """The metric values of one stage and split (null -> NaN), or None if not scored."""
        by_stage = self.results.get("scores")
        by_split = by_stage.get(stage) if isinstance(by_stage, Mapping) else None
        values = by_split.get(split) if isinstance(by_split, Mapping) else None
        if not isinstance(values, Mapping):
            return None
        return {name: _number(values.get(name)) for name in STAGE_METRICS[stage]}

    def splits(self, stage: str) -> list[str]:
        """The splits this submission has scores for in `stage`, in SPLITS order."""
        return [split for split in SPLITS if self.scores(stage, split) is not None]

    @property
    def provenance(self) -> str:
        return str(self.results.get("provenance") or self.metadata.get("provenance") or "")

    @property
    def open_weights(self) -> bool | None:
        value = self.metadata.get("open_weights")
        return value if isinstance(value, bool) else None


def _number(value: Any) -> float:
    """A metric value as float; null, non-numbers and non-finite values become NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    number = float(value)
    return number if math.isfinite(number) else math.nan


def _text(value: Any) -> str:
    """A metadata value as one line of text (YAML may parse dates and numbers)."""
    return " ".join(str(value).split()) if value is not None else ""


def read_submission(run_dir: Path, root: Path) -> Submission:
    """Read one `<org>__<model>/<run>/` folder; raises ValueError naming the file on a problem."""
    results_path = run_dir / "results.json"
    metadata_path = run_dir / "metadata.yaml"
    for path in (results_path, metadata_path):
        # A symlink could point anywhere on the Space's disk; CI rejects them, so do we.
        if path.is_symlink() or not path.is_file():
            raise ValueError(f"{path.relative_to(root)}: missing or not a regular file")
        if path.stat().st_size > MAX_RESULTS_BYTES:
            raise ValueError(f"{path.relative_to(root)}: larger than {MAX_RESULTS_BYTES} bytes")
    try:
        results = json.loads(results_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{results_path.relative_to(root)}: not valid JSON ({error})") from None
    try:
        metadata = yaml.safe_load(metadata_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        problem = " ".join(str(error).split())
        raise ValueError(f"{metadata_path.relative_to(root)}: not valid YAML ({problem})") from None
    if not isinstance(results, dict) or not isinstance(results.get("scores"), dict):
        raise ValueError(f"{results_path.relative_to(root)}: scores: missing or not an object")
    if not isinstance(metadata, dict):
        raise ValueError(f"{metadata_path.relative_to(root)}: not a mapping")
    submission_id = f"{run_dir.parent.name}/{run_dir.name}"
    return Submission(id=submission_id, metadata=metadata, results=results)


def load_submissions(folder: str | Path) -> tuple[list[Submission], list[str]]:
    """Read every run folder under `folder` that has a results.json.

    Returns the submissions (sorted by id) and one line per folder that could not be read, so the
    Space can say what it left out instead of failing to start over one bad file.
    """
    root = Path(folder)
    submissions: list[Submission] = []
    problems: list[str] = []
    for results_path in sorted(root.glob("*/*/results.json")):
        run_dir = results_path.parent
        if run_dir.is_symlink() or run_dir.parent.is_symlink():
            problems.append(f"{run_dir.relative_to(root)}: symlinked folder, skipped")
            continue
        try:
            submissions.append(read_submission(run_dir, root))
        except (OSError, ValueError) as error:
            problems.append(str(error))
    return submissions, problems


def _meta_row(submission: Submission, split: str) -> dict[str, Any]:
    meta = submission.metadata
    return {
        "rank": math.nan,
        "model": _text(meta.get("model")) or submission.id,
        "org": _text(meta.get("org")),
        "link": _text(meta.get("link")),
        "type": submission.type,
        "reference": submission.reference,
        "open_weights": submission.open_weights,
        "provenance": submission.provenance,
        "training": submission.training,
        "saw_split": submission.saw_split(split),
    }


def _trail_row(submission: Submission) -> dict[str, Any]:
    meta = submission.metadata
    return {
        "date": _text(meta.get("date")),
        "source": _text(meta.get("source")),
        "dataset_revision": _text(
            submission.results.get("dataset_revision") or meta.get("dataset_revision")
        ),
        "metric_version": _text(submission.results.get("metric_version")),
        "submission": submission.id,
    }


def stage_columns(stage: str) -> list[str]:
    """Every column of a stage table, in display order."""
    return [*META_COLUMNS, *STAGE_METRICS[stage], *TRAIL_COLUMNS]


def stage_table(submissions: Iterable[Submission], stage: str, split: str) -> pd.DataFrame:
    """One row per submission scored on `stage`/`split`, sorted by the headline metric.

    `rank` counts systems only (reference rows get NaN) with ties sharing the best rank; rows
    whose headline is undefined sort last and get no rank.
    """
    if stage not in STAGE_METRICS:
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
    headline = HEADLINE[stage]
    rows = []
    for submission in submissions:
        scores = submission.scores(stage, split)
        if scores is None:
            continue
        rows.append({**_meta_row(submission, split), **scores, **_trail_row(submission)})
    table = pd.DataFrame(rows, columns=stage_columns(stage))
    if table.empty:
        return table
    table = table.assign(_key=table["model"].str.casefold())
    table = table.sort_values([headline, "_key"], ascending=[False, True], na_position="last")
    table = table.drop(columns="_key").reset_index(drop=True)
    rankable = ~table["reference"].astype(bool) & table[headline].notna()
    table["rank"] = table[headline].where(rankable).rank(method="min", ascending=False)
    return table


def overview_table(submissions: Iterable[Submission], split: str) -> pd.DataFrame:
    """One row per submission with its headline score per stage on `split` (no overall rank:
    the three stages measure different things and are not averaged)."""
    rows = []
    for submission in submissions:
        by_stage = {stage: submission.scores(stage, split) for stage in STAGES}
        if all(scores is None for scores in by_stage.values()):
            continue
        headlines = {
            f"{stage}_{HEADLINE[stage]}": scores[HEADLINE[stage]] if scores else math.nan
            for stage, scores in by_stage.items()
        }
        row = {**_meta_row(submission, split), **headlines, **_trail_row(submission)}
        row.pop("rank")
        rows.append(row)
    table = pd.DataFrame(rows, columns=overview_columns())
    if table.empty:
        return table
    table = table.assign(_key=table["model"].str.casefold())
    table = table.sort_values(["reference", "_key"]).drop(columns="_key")
    return table.reset_index(drop=True)


def overview_metric_columns() -> list[str]:
    """The overview's per-stage headline columns, e.g. "pairing_f1"."""
    return [f"{stage}_{HEADLINE[stage]}" for stage in STAGES]


def overview_columns() -> list[str]:
    """Every column of the overview, in display order (no rank: see `overview_table`)."""
    return [*(c for c in META_COLUMNS if c != "rank"), *overview_metric_columns(), *TRAIL_COLUMNS]


def split_counts(submissions: Iterable[Submission], stage: str | None = None) -> dict[str, int]:
    """How many submissions have scores on each split (for one stage, or any stage)."""
    stages = STAGES if stage is None else (stage,)
    counts = dict.fromkeys(SPLITS, 0)
    for submission in submissions:
        for split in SPLITS:
            if any(submission.scores(s, split) is not None for s in stages):
                counts[split] += 1
    return counts


def default_split(submissions: Iterable[Submission], stage: str | None = None) -> str:
    """The split that shows the most rows; ties go to the earlier split in SPLITS ("test")."""
    return split_with_most_rows(split_counts(submissions, stage))


def split_with_most_rows(counts: Mapping[str, int]) -> str:
    """`default_split` from counts already made by `split_counts`."""
    return max(SPLITS, key=lambda split: (counts[split], -SPLITS.index(split)))


def split_scores(submission: Submission, stage: str) -> pd.DataFrame:
    """The per-submission view: one row per scored split of `stage`, one column per metric."""
    rows = [
        {"split": split, **(submission.scores(stage, split) or {})}
        for split in submission.splits(stage)
    ]
    return pd.DataFrame(rows, columns=["split", *STAGE_METRICS[stage]])


def confusion_matrix(submission: Submission, stage: str, split: str) -> pd.DataFrame | None:
    """The 2x2 confusion matrix of a binary stage from the tp/fp/fn/tn CI wrote, or None."""
    if stage not in BINARY_STAGES:
        return None
    scores = submission.scores(stage, split)
    if scores is None or any(math.isnan(scores[k]) for k in CONFUSION_COUNTS):
        return None
    positive = "problematic" if stage == "extraction" else "relevant"
    return pd.DataFrame(
        {
            "": [f"human: {positive}", f"human: not {positive}"],
            f"predicted {positive}": [int(scores["tp"]), int(scores["fp"])],
            f"predicted not {positive}": [int(scores["fn"]), int(scores["tn"])],
        }
    )


# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def to_csv(table: pd.DataFrame) -> str:
    """The table as CSV text; text cells that a spreadsheet would run as a formula are quoted
    with a leading apostrophe (submitters choose model names)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.itertuples(index=False):
        cells = []
        for value in row:
            if isinstance(value, float) and math.isnan(value):
                cells.append("")
            elif isinstance(value, str) and value.startswith(_FORMULA_START):
                cells.append("'" + value)
            else:
                cells.append(value)
        writer.writerow(cells)
    return buffer.getvalue()
