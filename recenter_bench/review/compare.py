"""Step 4, compare: where a committed results.json differs from the one its predictions earn
(step 3, `score`), one problem line per header field and one for the scores."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from recenter_bench.review.files import problem, show, stages
from recenter_bench.review.model import Results
from recenter_bench.review.parsed import Document

# Relative tolerance when comparing a committed results.json with the recomputed scores: the
# JSON round trip of a float is exact, so only platform-level noise in the last bits is allowed.
REL_TOLERANCE = 1e-9
HEADER_FIELDS = ("submission", "benchmark_version", "dataset_revision", "metric_version")
RESCORE_HINT = "; run `recenter score FOLDER --write`"


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
        return a == b and type(a) is type(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=REL_TOLERANCE, abs_tol=1e-12)
    return a == b


def _union(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """The keys of both, `b`'s order first."""
    return list(dict.fromkeys([*b, *a]))


def results_differences(
    committed: Results, expected: Results, label: str, doc: Document | None
) -> list[str]:
    """Where a committed results.json differs from the recomputed one: a line per header field,
    and one for the scores (the first difference, and how many there are)."""
    line = doc.line if doc else (lambda path: None)

    def differs(path: tuple, message: str) -> str:
        return problem(label, line(path), ".".join(path), f"{message}{RESCORE_HINT}")

    have, want = committed.to_dict(), expected.to_dict()
    problems = [
        differs((key,), f"says {show(have[key])}, recomputed {show(want[key])}")
        for key in (*HEADER_FIELDS, "provenance")
        if have[key] != want[key]
    ]
    scores = list(_score_differences(committed.scores, expected.scores))
    if len(scores) == 1:
        problems.append(differs(*scores[0]))
    elif scores:
        path, message = scores[0]
        summary = (
            f"{len(scores)} scores differ from what the predictions earn; the first, "
            f"{'.'.join(path)}, {message}"
        )
        problems.append(differs(("scores",), summary))
    return problems


def _score_differences(got: Mapping[str, Any], want: Mapping[str, Any]) -> Iterator[tuple]:
    """(path, what differs) of each score of a committed results.json that is wrong."""
    for stage in [s for s in stages() if s in got or s in want]:
        for split in _union(got.get(stage, {}), want.get(stage, {})):
            have = got.get(stage, {}).get(split)
            earn = want.get(stage, {}).get(split)
            path = ("scores", stage, split)
            if have is None or earn is None:
                yield path, "is not earned by the predictions" if earn is None else "is missing"
                continue
            for name in _union(have, earn):
                if name not in earn:
                    yield (*path, name), "is not a score the metric gives"
                elif name not in have:
                    yield (*path, name), "is missing"
                elif not _same(have[name], earn[name]):
                    message = f"says {show(have[name])} but the predictions earn {show(earn[name])}"
                    yield (*path, name), message
