"""Made-up submission folders in the contract layout, for the tests, the benchmark and demos.

Nothing here is a real result: the numbers are random but internally consistent (F1 from
precision and recall, counts that add up), so tables, plots and the confusion matrix look real.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import yaml

from recenter_bench.leaderboard.table import SPLITS, STAGES, SYSTEM_TYPES

SPLIT_SIZES = {"train": 2800, "validation": 580, "test": 589, "all": 3969}


def write_submission(
    root: str | Path,
    folder: str,
    run: str,
    metadata: dict[str, Any],
    scores: dict[str, dict[str, dict[str, float | None]]],
) -> Path:
    """Write `root/folder/run/{metadata.yaml,results.json}` and return the run folder."""
    run_dir = Path(root) / folder / run
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "metadata.yaml").write_text(
        yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    results = {
        "submission": f"{folder}/{run}",
        "benchmark_version": str(metadata.get("benchmark_version", "1.0")),
        "dataset_revision": str(metadata.get("dataset_revision", "")),
        "metric_version": "synthetic",
        "provenance": metadata.get("provenance", "rescored"),
        "scores": scores,
    }
    (run_dir / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return run_dir


def binary_scores(
    rng: random.Random, n: int, stage: str = "pairing", human_rate: float = 0.2
) -> dict[str, float]:
    """Consistent binary-stage metrics for `n` rows (tp/fp/fn/tn, F1 with a made-up CI)."""
    positives = max(1, round(n * human_rate))
    tp = rng.randint(0, positives)
    fn = positives - tp
    fp = rng.randint(0, n - positives)
    tn = n - positives - fp
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / positives
    f1 = 2 * tp / (2 * tp + fp + fn)
    half_width = rng.uniform(0.02, 0.06)
    rates = (
        {"flag_rate": (tp + fp) / n}
        if stage == "extraction"
        else {"yes_rate": (tp + fp) / n, "human_yes_rate": positives / n}
    )
    return {
        "accuracy": (tp + tn) / n,
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "f1_ci_low": max(0.0, f1 - half_width),
        "f1_ci_high": min(1.0, f1 + half_width),
        **rates,
        "kappa_vs_annotators": rng.uniform(-0.1, 0.6),
        "n": n,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


def rating_scores(rng: random.Random, n: int) -> dict[str, float]:
    """Made-up Stage-3 judge metrics (human mean 3.176 as in the paper)."""
    spearman = rng.uniform(-0.1, 0.5)
    mean_rating = rng.uniform(2.8, 4.2)
    return {
        "spearman": spearman,
        "spearman_ci_low": spearman - 0.1,
        "spearman_ci_high": spearman + 0.1,
        "kendall": spearman * 0.75,
        "pearson": spearman * 1.05,
        "mean_rating": mean_rating,
        "human_mean_rating": 3.176,
        "inflation": mean_rating - 3.176,
        "n": n,
    }


def stage_scores(rng: random.Random, stage: str, splits: tuple[str, ...] = SPLITS) -> dict:
    """One stage's results.json block: split -> metric -> value."""
    if stage == "response_quality":
        return {split: rating_scores(rng, max(10, SPLIT_SIZES[split] // 10)) for split in splits}
    return {split: binary_scores(rng, SPLIT_SIZES[split], stage) for split in splits}


def synthetic_submissions(root: str | Path, count: int, seed: int = 0) -> list[Path]:
    """Write `count` random rescored submissions (every stage, every split) under `root`."""
    rng = random.Random(seed)
    folders = []
    for index in range(count):
        system_type = SYSTEM_TYPES[index % len(SYSTEM_TYPES)]
        metadata = fixture_metadata(
            f"model-{index:04d}",
            f"org{index % 37}",
            system_type,
            link=f"https://example.org/model-{index:04d}",
            open_weights=index % 2 == 0,
            trained_on=["train"] if system_type == "fine-tuned" else [],
            description="synthetic benchmark row",
        )
        scores = {stage: stage_scores(rng, stage) for stage in STAGES}
        folders.append(
            write_submission(root, f"org{index % 37}__model-{index:04d}", "run1", metadata, scores)
        )
    return folders


MARKUP_MODEL = "<img src=x onerror=alert(1)>"
MARKUP_ORG = "<script>alert(2)</script>"
SCRIPT_LINK = "javascript:alert(1)"


def fixture_metadata(model: str, org: str, system_type: str, **extra: Any) -> dict[str, Any]:
    """A complete metadata.yaml mapping of a re-scored run; `extra` overrides or adds fields."""
    return {
        "model": model,
        "org": org,
        "link": extra.pop("link", ""),
        "type": system_type,
        "open_weights": extra.pop("open_weights", False),
        "trained_on": extra.pop("trained_on", []),
        "stages": extra.pop("stages", list(STAGES)),
        "benchmark_version": "1.0",
        "dataset_revision": "fixture",
        "date": extra.pop("date", "2026-06-01"),
        "contact": "",
        "description": extra.pop("description", "fixture row"),
        "provenance": extra.pop("provenance", "rescored"),
        **extra,
    }


def write_fixture_tree(root: str | Path, seed: int = 0) -> dict[str, str]:
    """A small submissions tree with one row of every kind the leaderboard must show.

    Returns role -> submission id: a reported zero-shot paper row (only "all"), a reported
    trained row (only "test"), re-scored systems, the human reference, a no-skill baseline, and a
    hostile row whose model name and org hold markup and whose link is `javascript:`.
    """
    rng = random.Random(seed)
    rows = {
        "reported_zero_shot": (
            "openai__gpt-5.4",
            "table3",
            fixture_metadata(
                "GPT-5.4",
                "openai",
                "zero-shot LLM",
                link="https://openai.com/",
                stages=["pairing", "response_quality"],
                provenance="reported",
                source="Table 3",
            ),
            {
                "pairing": {
                    "all": {"accuracy": 0.676, "precision": 0.334, "recall": 0.819, "f1": 0.474}
                },
                "response_quality": {
                    "all": {
                        "spearman": 0.312,
                        "mean_rating": 3.523,
                        "human_mean_rating": 3.176,
                        "inflation": 0.347,
                    }
                },
            },
        ),
        "reported_trained": (
            "paper__roberta",
            "table3",
            fixture_metadata(
                "RoBERTa (trained)",
                "paper",
                "fine-tuned",
                open_weights=True,
                trained_on=["train", "validation"],
                stages=["pairing"],
                provenance="reported",
                source="Table 3",
            ),
            {
                "pairing": {
                    "test": {"accuracy": 0.859, "precision": 0.608, "recall": 0.605, "f1": 0.606}
                }
            },
        ),
        "rescored": (
            "recenter__bm25",
            "top3",
            fixture_metadata(
                "BM25",
                "recenter",
                "retrieval",
                link="https://en.wikipedia.org/wiki/Okapi_BM25",
                open_weights=True,
                stages=["pairing"],
            ),
            {"pairing": stage_scores(rng, "pairing")},
        ),
        "rescored_open": (
            "acme__judge-7b",
            "run1",
            fixture_metadata("Judge-7B", "acme", "prompted LLM", open_weights=True),
            {stage: stage_scores(rng, stage) for stage in STAGES},
        ),
        "human": (
            "Zhang-et-al-2026__Human-annotators",
            "annotators",
            fixture_metadata("Human annotators (each vs the others)", "recenter", "human"),
            {stage: stage_scores(rng, stage) for stage in STAGES},
        ),
        "baseline": (
            "recenter-bench__always-yes",
            "constant",
            fixture_metadata(
                "All relevant", "recenter", "baseline", stages=["pairing", "extraction"]
            ),
            {stage: stage_scores(rng, stage) for stage in ("pairing", "extraction")},
        ),
        "markup": (
            "evil__markup",
            "run1",
            fixture_metadata(MARKUP_MODEL, MARKUP_ORG, "prompted LLM", link=SCRIPT_LINK),
            {stage: stage_scores(rng, stage) for stage in STAGES},
        ),
    }
    # The human reference also carries the agreement numbers the metric's human_reference writes.
    human_scores = rows["human"][3]
    human_scores["pairing"]["all"]["inter_annotator_kappa"] = 0.426
    human_scores["response_quality"]["all"]["inter_annotator_spearman"] = 0.325
    ids = {}
    for role, (folder, run, metadata, scores) in rows.items():
        write_submission(root, folder, run, metadata, scores)
        ids[role] = f"{folder}/{run}"
    return ids


def committed_run(folder: str = "recenter-bench__BM25") -> str:
    """The id `<folder>/<run>` of a committed submission (its latest run), so tests follow the
    repository when a run is replaced (BM25's v1 became v2). The default, the project's BM25, is
    re-scored with predictions and trained on train and validation: ranked on test only."""
    from recenter_bench.paths import SUBMISSIONS_DIR

    runs = sorted(p.parent.name for p in (SUBMISSIONS_DIR / folder).glob("*/results.json"))
    return f"{folder}/{runs[-1]}"
