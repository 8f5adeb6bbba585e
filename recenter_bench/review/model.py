"""The typed forms of a submission that travel between the steps (like mteb's `TaskResult`):
`Results` (what results.json holds) and `Submission` (a folder: metadata, stage predictions and
results), below every step.

`Results.to_json()` is results.json's committed text, byte for byte; `Results.from_json` and
`Submission.from_folder` read untrusted files strictly, through the validator's own reader and
checks (imported when called: they are steps, and the steps build on these types), and raise
`ValidationFailed` with one line per problem, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recenter_bench.errors import ValidationFailed
from recenter_bench.review.files import METADATA_FILE, RESULTS_FILE, stage_files

# metric name -> value (None where undefined), per split, per stage.
Scores = dict[str, dict[str, dict[str, float | int | None]]]


@dataclass(frozen=True)
class Results:
    """A submission's results.json: who, on what, computed how, and its scores. The fields are
    results.json's keys, in its order."""

    submission: str
    benchmark_version: str
    dataset_revision: str
    metric_version: str
    provenance: str
    scores: Scores = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Results:
        """Results from a mapping that already satisfies the results schema (every key present,
        no other)."""
        return cls(
            submission=data["submission"],
            benchmark_version=data["benchmark_version"],
            dataset_revision=data["dataset_revision"],
            metric_version=data["metric_version"],
            provenance=data["provenance"],
            scores=data["scores"],
        )

    @classmethod
    def from_json(cls, text: str, label: str = RESULTS_FILE) -> Results:
        """results.json's text read strictly: bounded depth, no duplicate keys, finite numbers,
        its schema; `ValidationFailed` (one line per problem, naming `label`) otherwise."""
        from recenter_bench.review.check_results import results_problems
        from recenter_bench.review.read import parse_json_object

        doc, problems = parse_json_object(label, text)
        if doc is not None:
            problems += results_problems(doc, label)
        if problems or doc is None:
            raise ValidationFailed(problems)
        return cls.from_dict(doc.data)

    def to_dict(self) -> dict[str, Any]:
        """results.json as a mapping, in its key order."""
        return {
            "submission": self.submission,
            "benchmark_version": self.benchmark_version,
            "dataset_revision": self.dataset_revision,
            "metric_version": self.metric_version,
            "provenance": self.provenance,
            "scores": self.scores,
        }

    def to_json(self) -> str:
        """results.json as committed: 2-space indent, key order kept, a final newline."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


@dataclass(frozen=True)
class Submission:
    """A submission folder: metadata.yaml, the predictions of each stage it enters, and its
    results.json when it has one."""

    folder: Path
    metadata: dict[str, Any]
    predictions: dict[str, list[dict[str, Any]]]
    results: Results | None

    @classmethod
    def from_folder(cls, folder: Path) -> Submission:
        """A folder read strictly, as `recenter validate` reads it (no links, bounded sizes,
        strict YAML/JSON, each file's schema; prediction IDs are not looked up in a dataset);
        `ValidationFailed` with one line per problem otherwise."""
        from functools import partial

        from recenter_bench.review.check_metadata import METADATA_SCHEMA
        from recenter_bench.review.check_predictions import stage_rows
        from recenter_bench.review.check_results import results_problems
        from recenter_bench.review.check_schema import schema_problems
        from recenter_bench.review.files import folder_label
        from recenter_bench.review.read import read_submission

        folder = Path(folder)
        label = partial(folder_label, folder)
        read = read_submission(folder, label)
        problems = list(read.problems)
        for name in read.texts:
            problems += read.parse_problems[name]
        metadata_doc = read.documents.get(METADATA_FILE)
        if metadata_doc is not None:
            name = label(METADATA_FILE)
            problems += schema_problems(METADATA_SCHEMA, metadata_doc.data, name, metadata_doc.line)
        elif METADATA_FILE not in read.files and not read.unreadable:
            problems.append(f"{label(METADATA_FILE)}: missing")
        results_doc = read.documents.get(RESULTS_FILE)
        if results_doc is not None:
            problems += results_problems(results_doc, label(RESULTS_FILE))
        predictions = {}
        for name, stage in stage_files().items():
            if read.texts.get(name) is not None:
                rows = stage_rows(stage, read.files[name])
                if rows is None:
                    why = "not valid predictions; `recenter validate` says where"
                    problems.append(f"{label(name)}: {why}")
                else:
                    predictions[stage] = rows
        if problems:
            raise ValidationFailed(problems)
        return cls(
            folder=folder,
            metadata=dict(metadata_doc.data) if metadata_doc else {},
            predictions=predictions,
            results=Results.from_dict(results_doc.data) if results_doc else None,
        )
