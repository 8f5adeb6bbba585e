"""Submissions the project writes itself (baselines, imported votes): their files in the
committed format, checked by the same `check_files` as any contributor's before anything is
written."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from recenter_bench.errors import ValidationFailed
from recenter_bench.paths import load_schema
from recenter_bench.submissions.check import check_files
from recenter_bench.submissions.dataset import Reference
from recenter_bench.submissions.names import METADATA_FILE, RESULTS_FILE, identity_of, submission_id
from recenter_bench.submissions.results import compute_results, results_text


def metadata_text(metadata: Mapping[str, Any]) -> str:
    """metadata.yaml as the project writes it: the schema's field order, block style."""
    order = list(load_schema("submission_metadata")["properties"])
    ordered = {key: metadata[key] for key in sorted(metadata, key=order.index)}
    return yaml.safe_dump(
        ordered, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )


def jsonl_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """One JSON object per line, each line ending in a newline."""
    return "".join(
        json.dumps(dict(row), ensure_ascii=False, allow_nan=False) + "\n" for row in rows
    )


def submission_files(
    folder: Path,
    metadata: Mapping[str, Any],
    predictions: Mapping[str, Sequence[Mapping[str, Any]]],
    reference: Reference,
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """({file name: bytes}, results) of a complete rescored submission for `folder`, results.json
    included; raises `ValidationFailed` when the files would not pass `recenter validate`."""
    identity = identity_of(folder)
    results = compute_results(
        submission_id(identity), {s: list(r) for s, r in predictions.items()}, reference
    )
    files = {METADATA_FILE: metadata_text(metadata).encode("utf-8")}
    for stage, rows in predictions.items():
        files[f"{stage}.jsonl"] = jsonl_text(rows).encode("utf-8")
    files[RESULTS_FILE] = results_text(results).encode("utf-8")
    # results.json was computed from these very predictions just above: check every file rule,
    # but do not score the predictions a second time to compare with it.
    checked = check_files(
        files,
        reference,
        label=lambda n: str(folder / n),
        identity=identity,
        check_results=False,
        require_results=True,
    )
    if checked.problems:
        raise ValidationFailed(checked.problems)
    return files, results
