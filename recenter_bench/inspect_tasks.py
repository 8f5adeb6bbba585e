"""Inspect AI tasks of the benchmark: `inspect eval recenter_bench/<stage> --model ...`.

Registered through the package's `inspect_ai` entry point (pyproject), which imports this
module; needs the `inspect` extra (`pip install 'recenter-bench[inspect]'`). Each stage's task
runs the stage's shipped LLM judge (`recenter_bench/run/systems/llm-judge-<stage>.yaml`) the way
`recenter run` does, with the same code:

- the request: `judge_prompt` fills the system's template through `recenter_bench.run.judge`
  (Stage 2: the paper's template, the prompt cut to 800 characters; Stage 1: the user's own
  messages; Stage 3: both orders of the two responses, one sample each), one user message and
  no system message; `generate` with the system's decoding (temperature 0, 4,096 new tokens);
- the decision: `judge_decision` reads each answer with `recenter_bench.run.judge.decide` (the
  parsers of `recenter_bench/run/parse.py`) and records it on the sample's score;
- the metrics: `decide` over all samples, then the metric module's own functions (F1 on the
  positive class from `confusion_counts` and `binary_metrics`; `spearman`).

`recenter import-inspect LOG --out submissions/<org>__<model>/<run>` turns the log into a
submission folder that validates and scores like any other.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig
from inspect_ai.scorer import Metric, SampleScore, Score, Target, metric, scorer
from inspect_ai.solver import Generate, Solver, TaskState, generate, solver

from recenter_bench.errors import UserError
from recenter_bench.metric.recenter_personalization.recenter_personalization import (
    PREDICTION_FIELD,
    RATING,
    stage_record,
)
from recenter_bench.review import ID_FIELD, STAGES, load_reference, metric_module
from recenter_bench.run import judge
from recenter_bench.run.llm import Answer
from recenter_bench.run.runner import SPLIT_ORDER, stage_rows
from recenter_bench.run.systems import System, default_system, load_system, read_prompt

ALL_SPLITS = "all"
# The field of a stage's prediction rows that `judge.decide` fills: the record's.
DECISION_FIELD = PREDICTION_FIELD


@functools.cache
def stage_system(system: str) -> tuple[System, str]:
    """A shipped (or given) LLM-judge system and its template text, read once."""
    loaded = load_system(system)
    return loaded, read_prompt(loaded)


def split_list(splits: str) -> list[str]:
    """`splits` task argument: `all`, or split names separated by commas."""
    if splits.strip() == ALL_SPLITS:
        return list(SPLIT_ORDER)
    names = [s.strip() for s in splits.split(",") if s.strip()]
    unknown = [s for s in names if s not in SPLIT_ORDER]
    if not names or unknown:
        raise UserError(f"splits: {splits!r}: expected all or a list of {', '.join(SPLIT_ORDER)}")
    return names


def user_conversations(
    row: Mapping[str, Any],
    by_user: Mapping[str, list[dict[str, Any]]],
    by_id: Mapping[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """The conversations `judge.user_messages` can read for one attribute: its evidence
    conversations and every conversation of its user (the request is then the one `recenter
    run` makes from all conversations, without carrying them all in every sample)."""
    picked = {c["conversation_id"]: c for c in by_user.get(row["user_id"], [])}
    for evidence in row.get("evidence") or []:
        conversation = by_id.get(evidence["conversation_id"])
        if conversation is not None:
            picked.setdefault(conversation["conversation_id"], conversation)
    return list(picked.values())


def stage_samples(stage: str, dataset: str | None, splits: str) -> tuple[list[Sample], str]:
    """(samples of a stage's rows in `splits`, the dataset revision). One sample per row, two
    per Stage-3 row (one per order); the row and its label travel in the sample's metadata."""
    reference = load_reference(dataset)
    rows, row_splits = stage_rows(reference, stage, split_list(splits))
    ref = metric_module().reference_value
    by_user: dict[str, list[dict[str, Any]]] = {}
    by_id: dict[str, dict[str, Any]] = {}
    adapter = judge.judge_stage(stage)
    if adapter.needs_conversations:
        from recenter_bench.loaders.load import load_rows

        for rows_of_split in load_rows("conversations", reference.source).values():
            for conversation in rows_of_split:
                by_user.setdefault(conversation["user_id"], []).append(conversation)
                by_id[conversation["conversation_id"]] = conversation
    orders: Sequence[str | None] = list(judge.ORDERS) if adapter.both_orders else [None]
    samples = []
    for row, split in zip(rows, row_splits, strict=True):
        label = ref(stage, row)
        for order in orders:
            row_id = row[ID_FIELD[stage]]
            metadata: dict[str, Any] = {
                "row_id": row_id,
                "order": order,
                "split": split,
                "reference": label,
                "row": row,
            }
            if adapter.needs_conversations:
                metadata["conversations"] = user_conversations(row, by_user, by_id)
            samples.append(
                Sample(
                    id=f"{row_id}:{order}" if order else row_id,
                    input=row[adapter.input_field],
                    target="" if label is None else str(label),
                    metadata=metadata,
                )
            )
    return samples, reference.revision


@solver
def judge_prompt(system: str) -> Solver:
    """Replace the sample's input with the judge system's request for its row, built by
    `recenter_bench.run.judge` exactly as `recenter run` builds it."""
    loaded, template = stage_system(system)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.user_prompt.text = request_text(loaded, template, state.metadata)
        return state

    return solve


def request_text(system: System, template: str, metadata: Mapping[str, Any]) -> str:
    row = metadata["row"]
    adapter = judge.judge_stage(system.stage)
    conversations = metadata["conversations"] if adapter.needs_conversations else ()
    queries = adapter.queries([row], template, system, conversations)
    [query] = [q for q in queries if q.order == metadata.get("order")]
    return query.content


def decisions(stage: str, scores: Sequence[SampleScore]) -> tuple[list[Any], list[Any]]:
    """(prediction values, human references) per row: `judge.decide` over every sample's
    answer, as `recenter run` decides; unlabelled rows are left out."""
    queries = [
        judge.Query(s.score.metadata["row_id"], s.score.metadata.get("order"), "") for s in scores
    ]
    answers = [Answer(text=s.score.answer or "") for s in scores]
    references = {s.score.metadata["row_id"]: s.score.metadata["reference"] for s in scores}
    predicted, truth = [], []
    for row in judge.decide(stage, queries, answers).predictions:
        reference = references[row[ID_FIELD[stage]]]
        if reference is not None:
            predicted.append(row[DECISION_FIELD[stage]])
            truth.append(reference)
    return predicted, truth


@metric
def f1(stage: str) -> Metric:
    """F1 on the positive class (relevant; problematic), by the metric module."""

    def compute(scores: list[SampleScore]) -> float:
        module = metric_module()
        predicted, truth = decisions(stage, scores)
        counts = module.confusion_counts(truth, predicted)
        return float(module.binary_metrics(**counts)["f1"])

    return compute


@metric
def spearman(stage: str = "response_quality") -> Metric:
    """Spearman correlation of the ratings with the mean human rating, by the metric module."""

    def compute(scores: list[SampleScore]) -> float:
        predicted, truth = decisions(stage, scores)
        return float(metric_module().spearman(predicted, truth))

    return compute


@scorer(metrics=[])
def judge_decision(stage: str) -> Any:
    """Record each answer's decision (Stage 1, 2: 1 = problematic / relevant, 0 = not) or
    rating (Stage 3, on the benchmark's scale: 1 = prefer generic, 5 = prefer personalized);
    an answer without one counts as `recenter run` counts it."""

    async def score(state: TaskState, target: Target) -> Score:
        text = state.output.completion if state.output else ""
        query = judge.Query(state.metadata["row_id"], state.metadata.get("order"), "")
        decided = judge.decide(stage, [query], [Answer(text=text)])
        [raw] = decided.raw
        return Score(
            value=float(decided.predictions[0][DECISION_FIELD[stage]]),
            answer=text,
            metadata={
                "row_id": state.metadata["row_id"],
                "order": state.metadata.get("order"),
                "split": state.metadata["split"],
                "reference": state.metadata["reference"],
                "decision": raw["decision"],
            },
        )

    return score


def stage_task(stage: str, dataset: str | None, splits: str, system: str | None) -> Task:
    """The task of one stage: its judge system's request, decoding, decision and metric."""
    if stage not in STAGES:
        raise UserError(f"stage: {stage!r}: expected one of {', '.join(STAGES)}")
    name = system or default_system(stage)
    loaded, _ = stage_system(name)
    if loaded.stage != stage:
        raise UserError(f"system: {loaded.name} runs on {loaded.stage}, not {stage}")
    samples, revision = stage_samples(stage, dataset, splits)
    headline = spearman(stage) if stage_record(stage).kind == RATING else f1(stage)
    decoding = dict(loaded.get("decoding", {}))
    return Task(
        dataset=MemoryDataset(samples, name=f"recenter-personalization/{stage}"),
        solver=[judge_prompt(name), generate()],
        scorer=judge_decision(stage),
        metrics=[headline],
        config=GenerateConfig(**decoding),
        metadata={
            "stage": stage,
            "system": loaded.name,
            "prompt": loaded.get("prompt"),
            "prompt_version": loaded.get("prompt_version"),
            "decoding": decoding,
            "dataset_revision": revision,
        },
    )


@task
def extraction(dataset: str | None = None, splits: str = "test", system: str | None = None) -> Task:
    """Stage 1: flag the extracted attributes people find problematic (F1 on problematic)."""
    return stage_task("extraction", dataset, splits, system)


@task
def pairing(dataset: str | None = None, splits: str = "test", system: str | None = None) -> Task:
    """Stage 2, the paper's protocol: is the attribute relevant to the prompt (F1 on relevant)."""
    return stage_task("pairing", dataset, splits, system)


@task
def response_quality(
    dataset: str | None = None, splits: str = "test", system: str | None = None
) -> Task:
    """Stage 3: rate the personalized response against the generic one (Spearman)."""
    return stage_task("response_quality", dataset, splits, system)
