"""Check a committed results.json read as untrusted input: its schema, and whether it fits its
folder and metadata (a reported row's numbers under the splits the paper prints, nothing the
metric does not compute)."""

from __future__ import annotations

from typing import Any

from recenter_bench.metric.recenter_personalization import recenter_personalization as metric
from recenter_bench.review.check_metadata import listed_stages
from recenter_bench.review.check_schema import field_label, schema_problems
from recenter_bench.review.files import METADATA_FILE, problem, show, stages
from recenter_bench.review.parsed import Document, is_non_finite

# Reported rows hold the paper's numbers under "all" (zero-shot) or "test" (trained systems).
REPORTED_SPLITS = ("all", "test")


def check_results_file(
    doc: Document,
    name: str,
    metadata: dict[str, Any] | None,
    identity: tuple[str, str] | None,
) -> tuple[Document | None, list[str]]:
    """(the parsed results.json when it satisfies its schema, every problem)."""
    problems = _non_finite_problems(doc.data, name, doc)
    schema_found = schema_problems("results", _nulled(doc.data), name, doc.line)
    if schema_found:
        return None, problems + schema_found
    return doc, problems + _fit_problems(doc, name, metadata or {}, identity)


def results_problems(doc: Document, name: str) -> list[str]:
    """A parsed results.json's own problems (non-finite numbers, its schema), without the
    folder and metadata it belongs to."""
    problems = _non_finite_problems(doc.data, name, doc)
    return problems + schema_problems("results", _nulled(doc.data), name, doc.line)


def _fit_problems(
    doc: Document, name: str, metadata: dict[str, Any], identity: tuple[str, str] | None
) -> list[str]:
    """A schema-valid results.json against its folder and its metadata."""
    results, problems = doc.data, []

    def add(path: tuple, message: str) -> None:
        problems.append(problem(name, doc.line(path), ".".join(path), message))

    if identity is not None and results["submission"] != "/".join(identity):
        folder = "/".join(identity)
        add(("submission",), f"says {show(results['submission'])} but the folder is {folder!r}")
    provenance = metadata.get("provenance")
    reported = provenance == "reported"
    if provenance in ("rescored", "reported") and results["provenance"] != provenance:
        add(
            ("provenance",),
            f"says {results['provenance']!r} but {METADATA_FILE} says {provenance!r}",
        )
    stages = listed_stages(metadata)
    names = _score_names(metadata.get("type"))
    for stage, splits in results["scores"].items():
        # (for a rescored row the stage files are checked against `stages` instead)
        if reported and stages is not None and stage not in stages:
            add(("scores", stage), f"{stage} is not listed under stages in {METADATA_FILE}")
        for split, metrics in splits.items():
            for metric_name in metrics:
                if metric_name not in names[stage]:
                    message = f"the metric has no {stage} score named {metric_name!r}"
                    add(("scores", stage, split, metric_name), message)
            if reported and split not in REPORTED_SPLITS:
                message = (
                    "reported numbers go under 'all' (zero-shot systems) "
                    "or 'test' (trained systems)"
                )
                add(("scores", stage, split), message)
    if reported:
        for stage in stages or []:
            if not results["scores"].get(stage):
                message = f"{METADATA_FILE} lists {stage} but no reported number for it is given"
                problems.append(problem(name, doc.line(("scores",)), f"scores.{stage}", message))
    return problems


def _score_names(system_type: Any) -> dict[str, set[str]]:
    """The score names a results.json may hold per stage: the metric's, plus its human-reference
    names (inter-annotator agreement) for a human row."""
    return {
        stage: set(metric.METRIC_NAMES[stage])
        | (set(metric.HUMAN_METRIC_NAMES[stage]) if system_type == "human" else set())
        for stage in stages()
    }


def _non_finite_problems(value: Any, name: str, doc: Document, path: tuple = ()) -> list[str]:
    """NaN/Infinity anywhere in results.json: undefined values must be written as null."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        if not is_non_finite(value):
            return []
        message = f"{show(value)} is not a finite number; undefined values are written as null"
        return [problem(name, doc.line(path), field_label(list(path)), message)]
    return [p for key, item in items for p in _non_finite_problems(item, name, doc, (*path, key))]


def _nulled(value: Any) -> Any:
    """A copy with every non-finite number replaced by null (reported once, not again as a
    schema type error)."""
    if isinstance(value, dict):
        return {key: _nulled(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_nulled(item) for item in value]
    return None if is_non_finite(value) else value
