"""The ranking with its uncertainty, derived from the committed predictions and the human labels.

A derived artefact in the alpaca_eval sense: `rank_split` is the one function that turns the
submissions tree and the dataset into rank intervals and tie groups, and the Space, the tests
and anyone at a prompt call the same function (there is no stored copy to go stale). It reads
the re-scored submissions' prediction files (`<stage>.jsonl`, the file CI scored) and the
dataset's labelled rows; the statistics are `statistics.py`'s; the point scores the table shows
stay the ones CI wrote in results.json (a test checks they equal what this module recomputes).

Only held-out results are ranked: a submission whose metadata lists a split in `trained_on`
(or any split, for "all", which contains them all) is never ranked on it, and reference rows
(human, no-skill baselines) are never ranked. Reported rows (the paper's numbers, no
predictions) are ranked by their point score and have no interval.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recenter_bench.leaderboard import statistics
from recenter_bench.leaderboard.table import (
    ALL,
    HEADLINE,
    HIGHER_IS_BETTER,
    Submission,
    headline_of,
    is_ranked,
)
from recenter_bench.metric.recenter_personalization.recenter_personalization import (
    BOOTSTRAP_UNIT,
    ID_FIELD,
    PREDICTION_FIELD,
    RATING,
    reference_value,
    stage_record,
)
from recenter_bench.review import RAW_ANSWERS_FILE, STAGE_FILES
from recenter_bench.review.check_predictions import stage_rows
from recenter_bench.review.files import max_bytes
from recenter_bench.review.read import parse_json, read_file

# A raw answer is shown up to this length (a reasoning model's answer can run to pages).
MAX_RAW_ANSWER_CHARS = 2000


def read_stage_rows(folder: Path, stage: str) -> list[dict[str, Any]] | None:
    """The rows of a submission's stage file through the validator's reader (bounded size, no
    links, each line checked as `recenter validate` checks it), or None when it is missing or
    any line fails (CI validates committed files; the Space just refuses to rank on a broken
    one)."""
    data, _ = read_file(folder, stage_file(stage))
    return stage_rows(stage, data) if data is not None else None


def stage_file(stage: str) -> str:
    return {v: k for k, v in STAGE_FILES.items()}[stage]


def predictions_of(stage: str, rows: Sequence[Mapping[str, Any]] | None) -> dict[str, Any] | None:
    """{row ID: prediction} of a stage file's objects."""
    if rows is None:
        return None
    id_field, field_name = ID_FIELD[stage], PREDICTION_FIELD[stage]
    return {r[id_field]: r[field_name] for r in rows if id_field in r and field_name in r}


def read_predictions(folder: Path | None, stage: str) -> dict[str, Any] | None:
    """{row ID: prediction} of a submission's stage file, or None without a usable file."""
    return predictions_of(stage, read_stage_rows(folder, stage) if folder else None)


def read_raw_answers(
    folder: Path | None, stage: str, wanted: Collection[str] | None = None
) -> dict[str, str]:
    """{row ID: the model's raw answer} from the run's `raw_answers.jsonl` (written by
    `recenter run` for LLM judges: one object per answer, keyed by the stage's ID field, with
    `answer` and, for side-by-side judges, the `order` asked), for the IDs in `wanted`. Read line
    by line, so a large file costs time, not memory; an unreadable line is skipped."""
    lines = _bounded_lines(folder / RAW_ANSWERS_FILE) if folder is not None else iter(())
    id_field, out = ID_FIELD[stage], {}
    for line in lines:
        row, problems = parse_json(RAW_ANSWERS_FILE, line)
        if problems:
            continue
        key = row.get(id_field) if isinstance(row, dict) else None
        text = row.get("answer", row.get("raw_answer")) if key is not None else None
        if not isinstance(key, str) or not isinstance(text, str):
            continue
        if wanted is not None and key not in wanted:
            continue
        order = f"[{row['order']}] " if isinstance(row.get("order"), str) else ""
        answer = order + text[:MAX_RAW_ANSWER_CHARS]
        out[key] = f"{out[key]}\n{answer}" if key in out else answer
    return out


def _bounded_lines(path: Path) -> Iterator[str]:
    """The lines of a regular file (never a link), up to its size limit as a submission file."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
    except OSError:
        return
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return
        budget = max_bytes(path.name)
        for line in handle:
            budget -= len(line)
            if budget < 0:
                return
            yield line.decode("utf-8", errors="replace")


def labelled_rows(
    reference_rows: Mapping[str, Sequence[Mapping[str, Any]]], stage: str, split: str
) -> list[Mapping[str, Any]]:
    """The dataset rows of a split (every split for "all") that carry a human label."""
    splits = [s for s in reference_rows if s != ALL] if split == ALL else [split]
    return [
        row
        for s in splits
        for row in reference_rows.get(s, [])
        if reference_value(stage, row) is not None
    ]


@dataclass
class SplitRanking:
    """Every re-scored submission with predictions for all labelled rows of one stage/split.

    `ids[i]` is the submission of `aligned.predictions[i]`; `ranked[i]` says whether it takes a
    rank here (held out, not a reference row); `fixed` are the point scores of ranked rows
    without predictions (reported by the paper), which count in every rank but do not move.
    """

    stage: str
    split: str
    ids: list[str]
    ranked: np.ndarray
    rows: list[Mapping[str, Any]]
    aligned: statistics.Aligned
    samples: np.ndarray
    fixed: np.ndarray = field(default_factory=lambda: np.empty(0))
    # pairwise() by submission: its permutation tests cost seconds for Spearman (Stage 3), and
    # a ranking lives as long as its snapshot. Not an init field, so `replace` starts empty.
    _pairwise: dict[str, pd.DataFrame] = field(default_factory=dict, init=False, repr=False)

    @cached_property
    def points(self) -> np.ndarray:
        return statistics.point_scores(self.aligned)

    @property
    def higher_is_better(self) -> bool:
        return HIGHER_IS_BETTER[self.stage]

    @cached_property
    def rank_bounds(self) -> dict[str, tuple[int, int]]:
        """Each ranked system's 95% rank interval among every ranked row of the table."""
        index = np.flatnonzero(self.ranked)
        if index.size == 0:
            return {}
        low, high = statistics.rank_intervals(
            self.samples[:, index], self.higher_is_better, self.fixed
        )
        return {self.ids[i]: (int(lo), int(hi)) for i, lo, hi in zip(index, low, high, strict=True)}

    @cached_property
    def groups(self) -> dict[str, int]:
        """Tie group of each ranked system (1 = the leaders), fixed-anchor grouping."""
        index = np.flatnonzero(self.ranked)
        groups = statistics.tie_groups(
            self.points[index], self.samples[:, index], self.higher_is_better
        )
        return {self.ids[i]: int(g) for i, g in zip(index, groups, strict=True) if g}

    def interval_text(self, submission_id: str) -> str:
        low, high = self.rank_bounds[submission_id]
        return str(low) if low == high else f"{low}–{high}"

    def pairwise(self, submission_id: str) -> pd.DataFrame:
        """The viewed system against every other one here: headline difference, its 95%
        paired bootstrap interval and the paired permutation p-value."""
        if submission_id not in self.ids:
            return pd.DataFrame(columns=PAIRWISE_COLUMNS)
        if submission_id not in self._pairwise:
            self._pairwise[submission_id] = self._compare(submission_id)
        return self._pairwise[submission_id].copy()

    def _compare(self, submission_id: str) -> pd.DataFrame:
        a = self.ids.index(submission_id)
        rows = []
        for b, other in enumerate(self.ids):
            if b == a:
                continue
            low, high = statistics.difference_interval(self.samples, a, b)
            rows.append(
                {
                    "other": other,
                    "difference": float(self.points[a] - self.points[b]),
                    "ci_low": low,
                    "ci_high": high,
                    "p_value": statistics.permutation_p_value(self.aligned, a, b),
                }
            )
        table = pd.DataFrame(rows, columns=PAIRWISE_COLUMNS)
        return table.sort_values("difference", ascending=False).reset_index(drop=True)


PAIRWISE_COLUMNS = ["other", "difference", "ci_low", "ci_high", "p_value"]


def rank_split(
    submissions: Sequence[Submission],
    reference_rows: Mapping[str, Sequence[Mapping[str, Any]]],
    stage: str,
    split: str,
    n_bootstrap: int = statistics.N_BOOTSTRAP,
    seed: int = 0,
) -> SplitRanking | None:
    """The ranking of one stage and split (None: no re-scored system covers its labels)."""
    rows = labelled_rows(reference_rows, stage, split)
    if not rows:
        return None
    id_field, unit = ID_FIELD[stage], BOOTSTRAP_UNIT[stage]
    ids, predictions, ranked, fixed = [], [], [], []
    for submission in submissions:
        ranks_here = is_ranked(submission, stage, split)
        predicted = read_predictions(submission.folder, stage) if submission.rescored else None
        if predicted is not None and all(row[id_field] in predicted for row in rows):
            ids.append(submission.id)
            predictions.append([predicted[row[id_field]] for row in rows])
            ranked.append(ranks_here)
        elif ranks_here:
            point = headline_of(submission, stage, split)
            if point is not None:
                fixed.append(point)
    if not ids:
        return None
    aligned = statistics.Aligned.from_lists(
        stage,
        [reference_value(stage, row) for row in rows],
        predictions,
        [str(row.get(unit)) for row in rows],
    )
    return SplitRanking(
        stage=stage,
        split=split,
        ids=ids,
        ranked=np.asarray(ranked, dtype=bool),
        rows=rows,
        aligned=aligned,
        samples=statistics.paired_bootstrap(aligned, n_bootstrap, seed),
        fixed=np.asarray(fixed, dtype=float),
    )


def per_cluster_scores(ranking: SplitRanking, submission_id: str) -> pd.DataFrame:
    """The viewed system's headline in each cluster (prompt or user), with the row count."""
    a = ranking.ids.index(submission_id)
    aligned = ranking.aligned
    names = sorted({str(row.get(BOOTSTRAP_UNIT[ranking.stage])) for row in ranking.rows})
    out = []
    for g, name in enumerate(names):
        weights = (np.arange(aligned.n_clusters) == g).astype(float)[None, :]
        score = statistics.weighted_scores(aligned, weights)[0, a]
        out.append(
            {
                "cluster": name,
                HEADLINE[ranking.stage]: float(score),
                "n": int(np.sum(aligned.clusters == g)),
            }
        )
    return pd.DataFrame(out, columns=["cluster", HEADLINE[ranking.stage], "n"])


def disagreements(
    ranking: SplitRanking, submission: Submission, limit: int | None = None
) -> pd.DataFrame:
    """The rows where the viewed system's answer differs from the human reference (binary
    stages: the majority vote; ratings: a gap of 1.5 points or more), with the prompt,
    attribute, human votes, its answer and, when the run kept it, the model's raw answer."""
    stage = ranking.stage
    a = ranking.ids.index(submission.id)
    predictions = ranking.aligned.predictions[a]
    rows = []
    for row, predicted in zip(ranking.rows, predictions, strict=True):
        human = reference_value(stage, row)
        differs = predicted != human if ranking.aligned.binary else abs(predicted - human) >= 1.5
        if differs:
            rows.append((row, predicted))
        if limit is not None and len(rows) >= limit:
            break
    raw = read_raw_answers(submission.folder, stage, {row[ID_FIELD[stage]] for row, _ in rows})
    out = []
    for row, predicted in rows:
        out.append(
            {
                ID_FIELD[stage]: row[ID_FIELD[stage]],
                BOOTSTRAP_UNIT[stage]: row.get(BOOTSTRAP_UNIT[stage]),
                "prompt": row.get("prompt", ""),
                "attribute": row.get("attribute", ""),
                "human": human_votes(stage, row),
                "system": _answer(stage, predicted),
                "raw_answer": raw.get(row[ID_FIELD[stage]], ""),
            }
        )
    columns = [ID_FIELD[stage], BOOTSTRAP_UNIT[stage], "human", "system", "raw_answer"]
    return pd.DataFrame(out, columns=[*columns, "attribute", "prompt"])


def _answer(stage: str, value: Any) -> str:
    record = stage_record(stage)
    if record.kind == RATING:
        return f"{float(value):g}"
    # A binary stage's prediction field is named for its positive class.
    positive = record.prediction_field
    return positive if value else f"not {positive}"


def human_votes(stage: str, row: Mapping[str, Any]) -> str:
    """The human label of a row as a reader wants it: the reference and the votes behind it."""
    reference = reference_value(stage, row)
    record = stage_record(stage)
    if record.kind == RATING:
        ratings = [r.get(record.judgment_field) for r in row.get(record.judgments_field) or []]
        shown = ", ".join(str(r) for r in ratings if r is not None)
        return f"mean {reference:.2f}" + (f" ({shown})" if shown else "")
    label = _answer(stage, reference)
    votes = row.get("yes_votes")
    judged = len(row.get(record.judgments_field) or [])
    if isinstance(votes, int) and judged:
        return f"{label} ({votes} of {judged} yes)"
    return f"{label} (majority; votes not published)"


def agreement(ranking: SplitRanking, names: Mapping[str, str]) -> pd.DataFrame:
    """Cohen's kappa between every two re-scored systems here and the human majority (the
    paper's Figure 3), as a long table (rater_a, rater_b, kappa); `names` labels the systems."""
    raters: dict[str, Any] = {"Human majority": ranking.aligned.references}
    for i, submission_id in enumerate(ranking.ids):
        raters[names.get(submission_id, submission_id)] = ranking.aligned.predictions[i]
    kappas = statistics.agreement_matrix(raters)
    return pd.DataFrame(
        [{"rater_a": a, "rater_b": b, "kappa": k} for (a, b), k in kappas.items()],
        columns=["rater_a", "rater_b", "kappa"],
    )


def with_system(
    ranking: SplitRanking, system_id: str, predictions: Mapping[str, Any]
) -> SplitRanking | None:
    """The ranking with one more (ranked) system, e.g. an upload in the Submit tab; None if its
    predictions do not cover the split's labelled rows. The bootstrap draws the same clusters
    (same seed and cluster count), so the other systems' resamples are unchanged."""
    id_field = ID_FIELD[ranking.stage]
    if not all(row[id_field] in predictions for row in ranking.rows):
        return None
    dtype = ranking.aligned.predictions.dtype
    extra = np.asarray([[predictions[row[id_field]] for row in ranking.rows]], dtype=dtype)
    aligned = replace(ranking.aligned, predictions=np.vstack([ranking.aligned.predictions, extra]))
    return replace(
        ranking,
        ids=[*ranking.ids, system_id],
        ranked=np.append(ranking.ranked, True),
        aligned=aligned,
        samples=statistics.paired_bootstrap(aligned, ranking.samples.shape[0]),
    )


def placement(ranking: SplitRanking, system_id: str, names: Mapping[str, str]) -> str:
    """One sentence: where a system ranks on this split, its rank interval and whom it is tied
    with (its tie group), for the Submit tab's preview."""
    i = ranking.ids.index(system_id)
    score = float(ranking.points[i])
    ranked = [j for j in np.flatnonzero(ranking.ranked) if j != i] + [i]
    ranks = statistics.ranks_of(ranking.points[ranked], ranking.higher_is_better, ranking.fixed)
    rank, total = int(ranks[-1]), len(ranked) + ranking.fixed.size
    group = ranking.groups.get(system_id)
    tied = [names.get(o, o) for o, g in ranking.groups.items() if g == group and o != system_id]
    metric_name = HEADLINE[ranking.stage]
    text = (
        f"{ranking.stage} on {ranking.split}: {metric_name} {score:.3f} would rank {rank} of "
        f"{total} ranked rows (95% rank interval {ranking.interval_text(system_id)})"
    )
    if tied:
        return f"{text}; tied with {', '.join(tied)} (their differences are not significant)."
    return f"{text}; not tied with any re-scored system here."
