"""The Hub's published formats for benchmark datasets and model results, as checks.

Encoded from the Hub documentation page "Evaluation Results" (huggingface/hub-docs
`docs/hub/eval-results.md`, section "Eval.yaml specification", and the repository's
`eval_results.yaml` specification, both as of hub-docs 242f4a1, August 2026) and the list of
evaluation frameworks in huggingface.js `packages/tasks/src/eval.ts` (commit 0589d130). These
are the project's reading of those pages, kept apart from the code under test so that a test
compares the project's files with the spec, not with themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

# huggingface.js packages/tasks/src/eval.ts EVALUATION_FRAMEWORKS (keys), commit 0589d130.
EVALUATION_FRAMEWORKS = frozenset(
    {
        "exgentic",
        "inspect-ai",
        "math-arena",
        "mteb",
        "olmocr-bench",
        "harbor",
        "archipelago",
        "apex-evals",
        "screenspot-pro",
        "swe-bench",
        "swe-bench-pro",
        "nemo-evaluator",
        "yc-bench",
        "open-asr-leaderboard",
        "mdpbench",
        "parsebench",
        "video-mme-v2",
        "claw-eval",
        "wildclawbench",
    }
)
# "When setting evaluation_framework: inspect-ai, one also requires ... field_spec, solvers,
# scores" (the page's list says `scores`; its inspect-ai example, the one the Hub parses, says
# `scorers`: the example's spelling is checked).
INSPECT_FIELDS = ("field_spec", "solvers", "scorers")
FIELD_SPEC_KEYS = {"input", "target", "choices", "input_image", "metadata", "id"}


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _named_steps(where: str, steps: Any) -> list[str]:
    if not isinstance(steps, list) or not steps:
        return [f"{where}: must be a non-empty list"]
    problems = []
    for n, step in enumerate(steps):
        if not isinstance(step, dict) or not _is_text(step.get("name")):
            problems.append(f"{where}[{n}]: must be a mapping with a `name`")
        elif not isinstance(step.get("args", {}), dict):
            problems.append(f"{where}[{n}].args: must be a mapping")
        elif set(step) - {"name", "args"}:
            problems.append(f"{where}[{n}]: unknown keys {sorted(set(step) - {'name', 'args'})}")
    return problems


def eval_yaml_problems(doc: Any) -> list[str]:
    """What in an `eval.yaml` document breaks the Hub's specification (empty: nothing)."""
    if not isinstance(doc, dict):
        return ["eval.yaml: must be a mapping"]
    problems = [
        f"{key}: required, a non-empty string"
        for key in ("name", "description")
        if not _is_text(doc.get(key))
    ]
    framework = doc.get("evaluation_framework")
    if framework not in EVALUATION_FRAMEWORKS:
        problems.append(
            f"evaluation_framework: {framework!r} is not one of the Hub's frameworks "
            f"({', '.join(sorted(EVALUATION_FRAMEWORKS))})"
        )
    tasks = doc.get("tasks")
    if not isinstance(tasks, list) or not tasks:
        return [*problems, "tasks: required, a non-empty list"]
    seen = set()
    for n, task in enumerate(tasks):
        where = f"tasks[{n}]"
        if not isinstance(task, dict) or not _is_text(task.get("id")):
            problems.append(f"{where}.id: required, a non-empty string")
            continue
        if task["id"] in seen:
            problems.append(f"{where}.id: {task['id']!r} is not unique")
        seen.add(task["id"])
        for key in ("config", "split"):
            if key in task and not _is_text(task[key]):
                problems.append(f"{where}.{key}: must be a non-empty string")
        if framework != "inspect-ai":
            continue
        for key in INSPECT_FIELDS:
            if key not in task:
                problems.append(f"{where}.{key}: required with evaluation_framework inspect-ai")
        spec = task.get("field_spec")
        if "field_spec" in task:
            if not isinstance(spec, dict) or not _is_text(spec.get("input")):
                problems.append(f"{where}.field_spec.input: required, a field name")
            elif set(spec) - FIELD_SPEC_KEYS:
                problems.append(
                    f"{where}.field_spec: unknown keys {sorted(set(spec) - FIELD_SPEC_KEYS)}"
                )
        for key in ("solvers", "scorers"):
            if key in task:
                problems += _named_steps(f"{where}.{key}", task[key])
    return problems


def field_spec_columns(spec: Mapping[str, Any]) -> list[str]:
    """The dataset columns a task's field_spec names."""
    columns = []
    for value in spec.values():
        columns += value if isinstance(value, list) else [value]
    return columns


def _iso_date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


RESULT_KEYS = {"dataset", "value", "verifyToken", "date", "source", "notes"}


def eval_results_problems(doc: Any) -> list[str]:
    """What in a model repo's `.eval_results/*.yaml` document breaks the Hub's specification."""
    if not isinstance(doc, list) or not doc:
        return [".eval_results: must be a non-empty list of results"]
    problems = []
    for n, entry in enumerate(doc):
        where = f"[{n}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        if set(entry) - RESULT_KEYS:
            problems.append(f"{where}: unknown keys {sorted(set(entry) - RESULT_KEYS)}")
        dataset = entry.get("dataset")
        if not isinstance(dataset, dict):
            problems.append(f"{where}.dataset: required, a mapping")
        else:
            for key in ("id", "task_id"):
                if not _is_text(dataset.get(key)):
                    problems.append(f"{where}.dataset.{key}: required, a non-empty string")
            if "revision" in dataset and not _is_text(dataset["revision"]):
                problems.append(f"{where}.dataset.revision: must be a non-empty string")
            if set(dataset) - {"id", "task_id", "revision"}:
                problems.append(f"{where}.dataset: unknown keys")
        value = entry.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{where}.value: required, a number")
        if "date" in entry and not _iso_date(entry["date"]):
            problems.append(f"{where}.date: must be an ISO-8601 date or datetime string")
        if "source" in entry:
            source = entry["source"]
            if not isinstance(source, dict) or not _is_text(source.get("url")):
                problems.append(f"{where}.source.url: required when source is given")
            elif set(source) - {"url", "name", "user", "org"}:
                problems.append(f"{where}.source: unknown keys")
        for key in ("notes", "verifyToken"):
            if key in entry and not isinstance(entry[key], str):
                problems.append(f"{where}.{key}: must be a string")
    return problems
