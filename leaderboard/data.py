"""What the Space shows, read from the submissions folder and kept current without a restart.

`LeaderboardData` holds a `Snapshot`: the submissions read once, their shown names, and every
table, ranking and filtered view built from them on first use and cached. At most every
`RELOAD_SECONDS` a request checks the folder's fingerprint (the name, size and modification
time of every file under `<org>__<model>/<run>/`); when a folder was added, changed or removed, a
new snapshot replaces the old one (its caches go with it). Locally and on the Space alike, a new
submission appears within that delay; the split counts in the radio labels and the Submission
picker's choices refresh when the page is reloaded.

The human labels the intervals need come from `dataset` through
`recenter_bench.review.load_reference` (default: the preview release beside the checkout,
built once into a cache folder keyed by its content, else the Hub dataset): the same rows every
CI score was computed on. Without them the Space still serves the tables; ranks then have no
intervals, and the page says why.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from recenter_bench.leaderboard import table as tables
from recenter_bench.leaderboard.filters import filter_table
from recenter_bench.leaderboard.prompt_blind import PROMPT_BLIND_STAGE, lead_text, ranking_leads
from recenter_bench.leaderboard.ranking import SplitRanking, labelled_rows, rank_split

OVERVIEW = "overview"
RELOAD_SECONDS = 10.0
# A model name is far shorter; the search box cannot make the filter scan megabytes.
MAX_QUERY_CHARS = 200
VIEW_CACHE_SIZE = 512


def fingerprint(folder: Path) -> tuple:
    """(relative path, size, mtime) of every file two levels below `folder`."""
    entries = []
    for org in sorted(os.scandir(folder), key=lambda e: e.name) if folder.is_dir() else []:
        if not org.is_dir(follow_symlinks=False):
            continue
        for run in os.scandir(org.path):
            if not run.is_dir(follow_symlinks=False):
                continue
            for item in os.scandir(run.path):
                info = item.stat(follow_symlinks=False)
                entries.append((org.name, run.name, item.name, info.st_size, info.st_mtime_ns))
    return tuple(sorted(entries))


@dataclass
class Snapshot:
    """The submissions as read at one moment, and everything derived from them."""

    submissions: list[tables.Submission]
    problems: list[str]
    fingerprint: tuple
    names: dict[str, str] = field(init=False)
    # Run folders without a results.json: shown as "not scored", with the command to score them.
    unscored: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.names = tables.display_names(self.submissions)
        self.by_id = {s.id: s for s in self.submissions}
        self.counts = lru_cache(maxsize=None)(self._counts)
        self.opening = lru_cache(maxsize=None)(self._opening)
        self.tables = lru_cache(maxsize=None)(self._table)
        self.rankings: dict[tuple[str, str], SplitRanking | None] = {}
        self.views = lru_cache(maxsize=VIEW_CACHE_SIZE)(self._view)
        self._memo: OrderedDict[Hashable, Any] = OrderedDict()
        self._memo_lock = threading.Lock()

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """`compute()` cached under `key` (least recently used first out, VIEW_CACHE_SIZE)."""
        with self._memo_lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        value = compute()
        with self._memo_lock:
            self._memo[key] = value
            while len(self._memo) > VIEW_CACHE_SIZE:
                self._memo.popitem(last=False)
        return value

    def _counts(self, stage: str) -> dict[str, int]:
        return tables.split_counts(self.submissions, None if stage == OVERVIEW else stage)

    def _opening(self, stage: str) -> str:
        return tables.opening_split(self.submissions, None if stage == OVERVIEW else stage)

    def _table(self, stage: str, split: str, reference_rows: Any) -> pd.DataFrame:
        if stage == OVERVIEW:
            return tables.overview_table(self.submissions, split, self.names)
        ranking = self.ranking(stage, split, reference_rows)
        uncertainty, leads, blind = {}, {}, None
        if ranking is not None:
            uncertainty = {
                i: (ranking.interval_text(i), ranking.groups.get(i, float("nan")))
                for i in ranking.rank_bounds
            }
            if stage == PROMPT_BLIND_STAGE:
                # From this ranking's resamples, once per snapshot (the table is cached).
                blind, figures = ranking_leads(ranking, self.submissions)
                leads = {i: lead_text(*f) for i, f in figures.items()}
        return tables.stage_table(
            self.submissions, stage, split, self.names, uncertainty, leads, blind
        )

    def ranking(self, stage: str, split: str, reference_rows: Any) -> SplitRanking | None:
        key = (stage, split)
        if key not in self.rankings:
            rows = reference_rows.get(stage) if reference_rows else None
            self.rankings[key] = rank_split(self.submissions, rows, stage, split) if rows else None
        return self.rankings[key]

    def _view(self, stage: str, split: str, filters: tuple, reference_rows: Any) -> pd.DataFrame:
        query, types, open_weights, provenance, training, references, columns = filters
        return filter_table(
            self.tables(stage, split, reference_rows),
            query=query,
            types=list(types),
            open_weights=open_weights,
            provenance=list(provenance),
            training=training,
            references=references,
            columns=None if columns is None else list(columns),
        )


class _Rows(dict):
    """The dataset's rows by stage, hashable by identity (one per loaded dataset), so the
    snapshot's caches can take them as an argument."""

    __hash__ = object.__hash__
    __eq__ = object.__eq__


class LeaderboardData:
    """The Space's data: the current snapshot of `folder`, and the dataset's labelled rows."""

    def __init__(self, folder: str | Path, dataset: str | None = None, *, labels: bool = True):
        self.folder = Path(folder)
        self.dataset = dataset
        self._lock = threading.Lock()
        self._checked = time.monotonic()
        self._snapshot = self._read()
        self.labels_problem = ""
        self._rows: _Rows | None = None
        self._public: dict[str, bool] = {}
        # What the app computes ahead of visitors, run again when a new snapshot is read.
        self.warmers: list[Callable[[], Any]] = []
        if labels:
            self._load_labels()

    @classmethod
    def from_submissions(
        cls, submissions: Sequence[tables.Submission], problems: Sequence[str] = ()
    ) -> LeaderboardData:
        """Data over submissions already read (no folder to watch, no labels)."""
        data = cls.__new__(cls)
        data.folder, data.dataset, data._lock = Path(), None, threading.Lock()
        data._checked, data.labels_problem, data._rows = float("inf"), "", None
        data._public, data.warmers = {}, []
        data._snapshot = Snapshot(list(submissions), list(problems), ())
        return data

    def _read(self) -> Snapshot:
        print_of = fingerprint(self.folder)
        return Snapshot(
            *tables.load_submissions(self.folder), print_of, tables.unscored_runs(self.folder)
        )

    def _load_labels(self) -> None:
        try:
            from recenter_bench.review import load_reference

            self._rows = _Rows(load_reference(self.dataset).rows)
        except Exception as error:  # the tables must be served without the labels
            self.labels_problem = " ".join(str(error).split())[:300] or type(error).__name__

    @property
    def reference_rows(self) -> _Rows | None:
        return self._rows

    @property
    def snapshot(self) -> Snapshot:
        """The current snapshot, re-read first when the folder changed (checked at most every
        RELOAD_SECONDS)."""
        now = time.monotonic()
        if now - self._checked >= RELOAD_SECONDS and self._lock.acquire(blocking=False):
            try:
                self._checked = now
                if fingerprint(self.folder) != self._snapshot.fingerprint:
                    self._snapshot = self._read()
                    self._warm_in_background()
            finally:
                self._lock.release()
        return self._snapshot

    def _warm_in_background(self) -> None:
        """Run `warmers` on the new snapshot off the request's thread, so the next visitors'
        views are lookups again (a visitor arriving first computes their own view)."""
        if self.warmers:
            threading.Thread(target=lambda: [w() for w in self.warmers], daemon=True).start()

    def reload(self) -> None:
        """Re-read the folder now (what the periodic check does when something changed)."""
        with self._lock:
            self._checked = time.monotonic()
            self._snapshot = self._read()

    # What the tabs ask for ------------------------------------------------------------------

    @property
    def submissions(self) -> list[tables.Submission]:
        return self.snapshot.submissions

    @property
    def problems(self) -> list[str]:
        return self.snapshot.problems

    @property
    def names(self) -> dict[str, str]:
        return self.snapshot.names

    def table(self, stage: str, split: str) -> pd.DataFrame:
        """The full table of a stage (or OVERVIEW) on one split, built once per snapshot."""
        return self.snapshot.tables(stage, split, self._rows)

    def ranking(self, stage: str, split: str) -> SplitRanking | None:
        """The paired-bootstrap ranking of a stage/split, None without labels or predictions."""
        return self.snapshot.ranking(stage, split, self._rows)

    def public_labels(self, stage: str) -> bool | None:
        """Whether the dataset holds human labels for `stage` (None: the labels are not loaded,
        see `labels_problem`)."""
        if self._rows is None:
            return None
        if stage not in self._public:
            rows = self._rows.get(stage) or {}
            self._public[stage] = bool(labelled_rows(rows, stage, tables.ALL)) if rows else False
        return self._public[stage]

    def default_split(self, stage: str) -> str:
        return self.snapshot.opening(stage)

    def split_choices(self, stage: str) -> list[tuple[str, str]]:
        counts = self.snapshot.counts(stage)
        return [
            (f"{split} ({counts[split]} row{'' if counts[split] == 1 else 's'})", split)
            for split in tables.SPLITS
        ]

    def memo(self, key: tuple, compute: Callable[..., Any]) -> Any:
        """`compute(*key[2:])` (the split and the filter values) for a tab's outputs, cached in
        the current snapshot by `key` (kind, stage, split, filter values as Gradio sends them,
        lists made tuples)."""
        hashable = tuple(tuple(k) if isinstance(k, list) else k for k in key)
        args = key[2:]
        return self.snapshot.memo(hashable, lambda: compute(*args))

    def view(
        self,
        stage: str,
        split: str,
        query: str | None,
        types: Sequence[str] | None,
        open_weights: str | None,
        provenance: Sequence[str] | None,
        training: str | None,
        references: bool | None,
        columns: Sequence[str] | None,
    ) -> pd.DataFrame:
        """A tab's table on `split` after its filters, cached by the filter values. Values
        arrive as Gradio sends them (None for an emptied control) and are normalised here;
        `columns=None` keeps every column."""
        if split not in tables.SPLITS:
            raise ValueError(f"split: {str(split)[:40]!r} is not one of {tables.SPLITS}")
        filters = (
            (query or "")[:MAX_QUERY_CHARS],
            tuple(types or ()),
            open_weights or "any",
            tuple(provenance or ()),
            training or "any",
            bool(references),
            None if columns is None else tuple(columns),
        )
        return self.snapshot.views(stage, split, filters, self._rows)
