"""results.json -> pandas DataFrame: the one table builder, shared by the Space and CI.

A submission folder is `<submissions>/<org>__<model>/<run>/` holding `metadata.yaml` (who and
what) and `results.json` (the scores CI wrote with the metric). This module only reads them: it
never re-scores and never recomputes a number CI wrote, so the Space shows exactly what CI checked.

Splits are never mixed in one ranking. Every table is built for ONE split; rows without a score
on that split are left out of it (the paper's zero-shot rows only have "all", its trained rows only
"test"). A stage opens on the held-out "test" split whenever a re-scored system is ranked
there, else on the split that shows the most rows (`opening_split`).

Only held-out results are ranked: a row whose system read the shown split during training or
tuning (metadata `trained_on`; "all" contains every split) is kept, without a rank, and says why
in `unranked`; reference rows (human, no-skill) are never ranked. Names carry their provenance
(`BM25 (paper)` next to `BM25 (recenter-bench)`): see `display_names`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from recenter_bench.leaderboard.columns import (
    BINARY_STAGES,
    CONFUSION_COUNTS,
    HEADLINE,
    HIGHER_IS_BETTER,
    STAGE_METRICS,
    STAGE_TITLES,
    STAGES,
    overview_columns,
    overview_metric,
    stage_columns,
)
from recenter_bench.leaderboard.prompt_blind import REFERENCE_TEXT
from recenter_bench.metric.recenter_personalization.recenter_personalization import (
    ALL,
    BINARY,
    stage_record,
)
from recenter_bench.paths import load_schema
from recenter_bench.review.check_metadata import reserved_folders
from recenter_bench.review.files import (
    METADATA_FILE,
    RESERVED_TYPES,
    problem,
    show_name,
)
from recenter_bench.review.read import find_submissions, read_record
from recenter_bench.spreadsheet import csv_text

__all__ = [
    "ALL",
    "BINARY_STAGES",
    "CONFUSION_COUNTS",
    "HEADLINE",
    "HIGHER_IS_BETTER",
    "STAGES",
    "STAGE_METRICS",
    "STAGE_TITLES",
]
# Order of preference when two splits show as many rows: the held-out split first.
SPLITS: tuple[str, ...] = ("test", ALL, "validation", "train")

# The submission vocabulary is the metadata schema's, the one place CI validates against.
_METADATA_SCHEMA = load_schema("submission_metadata")["properties"]
TYPES: tuple[str, ...] = tuple(_METADATA_SCHEMA["type"]["enum"])
PROVENANCES: tuple[str, ...] = tuple(_METADATA_SCHEMA["provenance"]["enum"])
# Rows that are not systems: the human ceiling and the no-skill baselines (anchors, not ranked),
# shown only from the project's own folders.
REFERENCE_TYPES = frozenset(RESERVED_TYPES)
SYSTEM_TYPES: tuple[str, ...] = tuple(t for t in TYPES if t not in REFERENCE_TYPES)


@dataclass(frozen=True)
class Submission:
    """One run folder: its id `org__model/run`, parsed metadata.yaml and results.json, and the
    folder it was read from (its prediction files are there)."""

    id: str
    metadata: Mapping[str, Any] = field(default_factory=dict)
    results: Mapping[str, Any] = field(default_factory=dict)
    folder: Path | None = None

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
        """Whether the system read rows of `split` while training or tuning ("all" contains
        every split)."""
        return split in self.trained_on or (split == ALL and bool(self.trained_on))

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
    def rescored(self) -> bool:
        """Scored by CI from committed predictions (not numbers reported by the paper)."""
        return self.provenance == "rescored"

    @property
    def open_weights(self) -> bool | None:
        value = self.metadata.get("open_weights")
        return value if isinstance(value, bool) else None

    @property
    def model(self) -> str:
        return _text(self.metadata.get("model")) or self.id


def headline_of(submission: Submission, stage: str, split: str) -> float | None:
    """The headline score of a stage/split, or None where it is missing or undefined."""
    scores = submission.scores(stage, split)
    value = scores[HEADLINE[stage]] if scores else math.nan
    return None if math.isnan(value) else value


def unranked_reason(submission: Submission, split: str) -> str:
    """Why a row takes no rank on `split` ("" when it is ranked, or is a reference row)."""
    if submission.reference or not submission.saw_split(split):
        return ""
    read = ", ".join(s for s in submission.trained_on)
    where = f"{split} contains {read}" if split == ALL else f"{split} is in its trained_on"
    return f"not held out: trained or tuned on {read} ({where})"


def is_ranked(submission: Submission, stage: str, split: str) -> bool:
    """Whether a row takes a rank on a stage/split: a system (not a reference row), held out
    there, with a defined headline."""
    return (
        not submission.reference
        and not submission.saw_split(split)
        and headline_of(submission, stage, split) is not None
    )


def display_names(submissions: Iterable[Submission]) -> dict[str, str]:
    """Submission id -> the name shown everywhere: the model with its provenance, "(paper)" for
    the paper's reported rows and "(<org>)" for re-scored ones, plus the run where that is still
    ambiguous.

    >>> subs = [Submission("a__BM25/paper", {"model": "BM25", "org": "a"}, {"provenance":
    ...     "reported"}), Submission("b__BM25/v1", {"model": "BM25", "org": "b"}),
    ...     Submission("b__BM25/v2", {"model": "BM25", "org": "b"})]
    >>> list(display_names(subs).values())
    ['BM25 (paper)', 'BM25 (b, v1)', 'BM25 (b, v2)']
    """
    subs = list(submissions)

    def origin(s: Submission) -> str:
        if s.provenance == "reported":
            return "paper"
        return _text(s.metadata.get("org")) or s.id.split("__")[0]

    first = {s.id: f"{s.model} ({origin(s)})" for s in subs}
    counts: dict[str, int] = {}
    for name in first.values():
        counts[name] = counts.get(name, 0) + 1
    return {
        s.id: first[s.id]
        if counts[first[s.id]] == 1
        else f"{s.model} ({origin(s)}, {s.id.rsplit('/', 1)[-1]})"
        for s in subs
    }


def _number(value: Any) -> float:
    """A metric value as float; null, non-numbers and non-finite values become NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return math.nan
    number = float(value)
    return number if math.isfinite(number) else math.nan


def _text(value: Any) -> str:
    """A metadata value as one line of text (YAML may parse dates and numbers)."""
    return " ".join(str(value).split()) if value is not None else ""


def reserved_type_problem(submission: Submission) -> str:
    """Why a row may not carry its type ("" when it may): the human and no-skill types are the
    project's reference rows, made from the dataset and the paper, and shown only from their
    own folders (the validator's rule, `RESERVED_TYPES`), never from a submitter's."""
    if submission.type not in RESERVED_TYPES:
        return ""
    if submission.id.split("/")[0] in reserved_folders(submission.type):
        return ""
    return problem(
        f"{submission.id}/{METADATA_FILE}",
        None,
        "type",
        f"{submission.type!r} is reserved for the reference rows the project makes",
    )


def _linked_folders(root: Path) -> list[str]:
    """A problem line per symbolically linked `<org>__<model>/` or `<run>/` folder (a link could
    point anywhere on the Space's disk: never followed)."""
    problems = []
    for org in sorted(root.iterdir()) if root.is_dir() else []:
        runs = [] if org.is_symlink() or not org.is_dir() else sorted(org.iterdir())
        for path in [org, *runs]:
            if path.is_symlink():
                shown = show_name(str(path.relative_to(root)))
                problems.append(problem(shown, None, None, "symbolic link to a folder, skipped"))
    return problems


def load_submissions(folder: str | Path) -> tuple[list[Submission], list[str]]:
    """Read every `<org>__<model>/<run>/` folder under `folder` that has a results.json (a link
    or special file counts; it is refused) through the validator's reader
    (`recenter_bench.review.read.read_record`: bounded size and depth, strict YAML).

    Returns the submissions (sorted by id) and, for each folder that could not be read, its
    first problem (one line), so the Space says what it left out instead of failing over one
    bad file.
    """
    root = Path(folder)
    submissions: list[Submission] = []
    problems = _linked_folders(root)
    for run_dir in find_submissions(root) if root.is_dir() else []:
        if not os.path.lexists(run_dir / "results.json"):
            continue  # not scored yet: not a row (the Space lists such folders on their own)
        submission_id = f"{show_name(run_dir.parent.name)}/{show_name(run_dir.name)}"
        record = read_record(run_dir, submission_id)
        submission = Submission(submission_id, record.metadata, record.results, run_dir)
        first = record.problems[0] if record.problems else reserved_type_problem(submission)
        if first:
            problems.append(first)
        else:
            submissions.append(submission)
    return submissions, problems


def unscored_runs(folder: str | Path) -> list[str]:
    """The `<org>__<model>/<run>` folders under `folder` that hold no results.json yet (sorted):
    there, but not scored, so the Space can list them with the command that scores them rather
    than leave them out without a word. Symlinked folders are left to `load_submissions`."""
    root = Path(folder)
    return [
        f"{run.parent.name}/{run.name}"
        for run in sorted(root.glob("*/*/"))
        if run.is_dir()
        and not (run.is_symlink() or run.parent.is_symlink())
        and not (run / "results.json").exists()
        and not (run / "results.json").is_symlink()
    ]


def _meta_row(submission: Submission, split: str, names: Mapping[str, str]) -> dict[str, Any]:
    meta = submission.metadata
    return {
        "rank": math.nan,
        "rank_interval": "",
        "tie_group": math.nan,
        "model": names.get(submission.id) or submission.model,
        "org": _text(meta.get("org")),
        "link": _text(meta.get("link")),
        "type": submission.type,
        "reference": submission.reference,
        "open_weights": submission.open_weights,
        "provenance": submission.provenance,
        "training": submission.training,
        "unranked": unranked_reason(submission, split),
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


# Where a ranked row has no rank interval: its numbers were reported, not re-scored here.
NO_INTERVAL = "no interval"


def stage_table(
    submissions: Iterable[Submission],
    stage: str,
    split: str,
    names: Mapping[str, str] | None = None,
    uncertainty: Mapping[str, tuple[str, int]] | None = None,
    leads: Mapping[str, str] | None = None,
    blind_reference: str | None = None,
) -> pd.DataFrame:
    """One row per submission scored on `stage`/`split`, sorted by the headline metric.

    `rank` counts ranked rows only (`is_ranked`: held-out systems with a headline), ties sharing
    the best rank; reference rows and rows trained on the split get none (the latter say why in
    `unranked`). `names` are the shown names (`display_names`); `uncertainty` maps a submission
    id to its (rank interval, tie group) from the paired bootstrap (`ranking.rank_split`); a
    ranked row without one is marked "no interval". `leads` maps a submission id to its
    "Lead over prompt-blind" cell (Stage 2: `prompt_blind.ranking_leads`, formatted); other rows
    leave it empty. `blind_reference` is the prompt-blind reference row's id: its lead cell
    says so, and `attrs["prompt_blind_reference"]` carries it to the renderer (its Type).
    """
    if stage not in STAGE_METRICS:
        raise ValueError(f"unknown stage {stage!r}; expected one of {', '.join(STAGES)}")
    subs = list(submissions)
    names = display_names(subs) if names is None else names
    uncertainty = uncertainty or {}
    leads = {**(leads or {}), **({blind_reference: REFERENCE_TEXT} if blind_reference else {})}
    headline = HEADLINE[stage]
    rows = []
    for submission in subs:
        scores = submission.scores(stage, split)
        if scores is None:
            continue
        row = {**_meta_row(submission, split, names), **scores, **_trail_row(submission)}
        if is_ranked(submission, stage, split):
            row["rank"] = 0.0  # set below, once the rows are sorted
            interval, group = uncertainty.get(submission.id, (NO_INTERVAL, math.nan))
            row["rank_interval"], row["tie_group"] = interval, group
        if submission.id in leads:
            row["prompt_blind_lead"] = leads[submission.id]
        rows.append(row)
    table = pd.DataFrame(rows, columns=stage_columns(stage))
    if table.empty:
        return table
    table = table.assign(_key=table["model"].str.casefold())
    table = table.sort_values(
        [headline, "_key"], ascending=[not HIGHER_IS_BETTER[stage], True], na_position="last"
    )
    table = table.drop(columns="_key").reset_index(drop=True)
    rankable = table["rank"].notna()
    ranked = (
        table[headline].where(rankable).rank(method="min", ascending=not HIGHER_IS_BETTER[stage])
    )
    table["rank"] = ranked
    table.attrs["prompt_blind"] = prompt_blind_ids(subs)
    table.attrs["prompt_blind_reference"] = blind_reference
    return table


def prompt_blind_ids(submissions: Iterable[Submission]) -> list[str]:
    """The submissions whose system never reads the prompt (the Stage-2 prompt-blind
    reference, `leaderboard.prompt_blind`)."""
    from recenter_bench.leaderboard.prompt_blind import is_prompt_blind

    return sorted(s.id for s in submissions if is_prompt_blind(s.metadata))


def overview_table(
    submissions: Iterable[Submission], split: str, names: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """One row per submission with its headline score per stage on `split` (no overall rank:
    the three stages measure different things and are not averaged)."""
    subs = list(submissions)
    names = display_names(subs) if names is None else names
    rows = []
    for submission in subs:
        by_stage = {stage: submission.scores(stage, split) for stage in STAGES}
        if all(scores is None for scores in by_stage.values()):
            continue
        headlines = {
            overview_metric(stage): scores[HEADLINE[stage]] if scores else math.nan
            for stage, scores in by_stage.items()
        }
        row = {**_meta_row(submission, split, names), **headlines, **_trail_row(submission)}
        rows.append({k: v for k, v in row.items() if k in overview_columns()})
    table = pd.DataFrame(rows, columns=overview_columns())
    if table.empty:
        return table
    table = table.assign(_key=table["model"].str.casefold())
    table = table.sort_values(["reference", "_key"]).drop(columns="_key")
    return table.reset_index(drop=True)


def split_counts(submissions: Iterable[Submission], stage: str | None = None) -> dict[str, int]:
    """How many submissions have scores on each split (for one stage, or any stage)."""
    stages = STAGES if stage is None else (stage,)
    counts = dict.fromkeys(SPLITS, 0)
    for submission in submissions:
        for split in SPLITS:
            if any(submission.scores(s, split) is not None for s in stages):
                counts[split] += 1
    return counts


def split_with_most_rows(counts: Mapping[str, int]) -> str:
    """The split that shows the most rows; ties go to the earlier split in SPLITS ("test")."""
    return max(SPLITS, key=lambda split: (counts[split], -SPLITS.index(split)))


def opening_split(submissions: Iterable[Submission], stage: str | None = None) -> str:
    """The split a tab opens on: "test" when a re-scored system is ranked there on the stage
    (the held-out split, where CI's numbers are comparable), else the split with most rows (the
    paper's zero-shot rows exist only on "all"). The overview (`stage=None`) opens on "test"
    when any stage ranks a re-scored system there, so its table, charts and leaders all show
    the held-out split.
    """
    subs = list(submissions)
    stages = STAGES if stage is None else (stage,)
    if any(s.rescored and is_ranked(s, st, "test") for s in subs for st in stages):
        return "test"
    return split_with_most_rows(split_counts(subs, stage))


def split_scores(submission: Submission, stage: str) -> pd.DataFrame:
    """The per-submission view: one row per scored split of `stage`, one column per metric."""
    rows = [
        {"split": split, **(submission.scores(stage, split) or {})}
        for split in submission.splits(stage)
    ]
    return pd.DataFrame(rows, columns=["split", *STAGE_METRICS[stage]])


def confusion_matrix(submission: Submission, stage: str, split: str) -> pd.DataFrame | None:
    """The 2x2 confusion matrix of a binary stage from the tp/fp/fn/tn CI wrote, or None."""
    if stage_record(stage).kind != BINARY:
        return None
    scores = submission.scores(stage, split)
    if scores is None or any(math.isnan(scores[k]) for k in CONFUSION_COUNTS):
        return None
    # A binary stage's prediction field is named for its positive class.
    positive = stage_record(stage).prediction_field
    return pd.DataFrame(
        {
            "": [f"human: {positive}", f"human: not {positive}"],
            f"predicted {positive}": [int(scores["tp"]), int(scores["fp"])],
            f"predicted not {positive}": [int(scores["fn"]), int(scores["tn"])],
        }
    )


def to_csv(table: pd.DataFrame) -> str:
    """The table as CSV text made safe for spreadsheets (`recenter_bench.spreadsheet`:
    every field quoted, CR/LF escaped, formula cells defused; submitters choose model names)."""
    return csv_text(table.columns, table.itertuples(index=False))
