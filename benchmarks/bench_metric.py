"""How fast the metric scores one full-size submission, next to the obvious alternatives.

    python benchmarks/bench_metric.py [--repeats 5] [--resamples 1000]

Scores one submission on all three stages at the paper's full size (1,983 extraction rows over 77
users, 3,973 pairing rows over 41 prompts, 367 response_quality rows) with 1,000 cluster-bootstrap
resamples of each headline metric, and prints time and peak memory of:

- this metric (`score_submission`, vectorised numpy);
- the same work done by looping scikit-learn's metric functions (and scipy's spearmanr) over the
  same resamples; the script checks that both give the same intervals;
- the metric loaded with `evaluate.load(<metric folder>)`, one `compute` per stage;
- `evaluate.load("f1")`, the Hub's F1 metric, looped over the resamples, if it can be loaded
  (it needs the Hub; the `evaluate` package ships no metric of its own, so offline it is
  reported as unavailable).

Target: at most 0.3 s on a 2-core machine and at least 20x faster than the scikit-learn loop.
This is a script that prints figures, not a timed test.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
import tracemalloc
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from recenter_bench.metric.recenter_personalization import recenter_personalization as metric
from recenter_bench.paths import METRIC_DIR

SIZES = {"extraction": (1983, 77), "pairing": (3973, 41), "response_quality": (367, 41)}
# Binary stages: how often the reference and the prediction are a "yes".
POSITIVE_RATES = {"extraction": (0.35, 0.5), "pairing": (0.18, 0.45)}
SPLIT_OF_BUCKET = {0: "test", 1: "validation"}
TARGET_SECONDS = 0.3
TARGET_SPEEDUP = 20


def full_size_submission(seed: int = 0) -> tuple[dict, dict]:
    """(predictions, references) shaped like the dataset, every row labelled."""
    rng = np.random.default_rng(seed)
    references: dict[str, dict[str, list[dict[str, Any]]]] = {}
    predictions: dict[str, list[dict[str, Any]]] = {}
    for stage, (n, n_groups) in SIZES.items():
        record = metric.STAGE_RECORDS[stage]
        id_field, unit = record.id_field, record.bootstrap_unit
        groups = np.sort(rng.integers(0, n_groups, size=n))
        rows, preds = [], []
        for i, g in enumerate(groups):
            row: dict[str, Any] = {id_field: f"{stage}-{i:05d}", unit: f"unit-{g:03d}"}
            if record.kind == metric.RATING:
                row[record.reference_field] = float(rng.integers(3, 16) / 3)
                prediction: bool | float = float(rng.integers(1, 6))
            else:
                reference_rate, prediction_rate = POSITIVE_RATES[stage]
                positive = bool(rng.random() < reference_rate)
                labels = record.reference_labels
                row[record.reference_field] = positive if labels is None else labels[positive]
                prediction = bool(rng.random() < prediction_rate)
            preds.append({id_field: row[id_field], record.prediction_field: prediction})
            rows.append(row)
        # Split by unit as the dataset does: about 1/8 of the units each in test and validation.
        split_of = {f"unit-{g:03d}": SPLIT_OF_BUCKET.get(g % 8, "train") for g in range(n_groups)}
        references[stage] = {
            split: [r for r in rows if split_of[r[unit]] == split] for split in metric.SPLITS
        }
        predictions[stage] = preds
    return predictions, references


def measure(
    function: Callable[[], Any], repeats: int, memory_run: Callable[[], Any] | None = None
) -> tuple[float, float, Any]:
    """(best wall time in s, peak traced memory in MiB, result) over `repeats` runs.

    Memory is traced in one extra run (tracing slows Python code down, so it is never timed);
    `memory_run` replaces that run where the function is slow and its peak does not grow with
    the number of resamples (the scikit-learn loop holds one resample at a time).
    """
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    (memory_run or function)()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak / 2**20, result


def splits_of(references: dict, stage: str) -> dict[str, list[dict[str, Any]]]:
    """Each split's rows and "all" of them: what score_submission scores."""
    splits = dict(references[stage])
    splits["all"] = [row for rows in references[stage].values() for row in rows]
    return splits


def aligned(predictions: dict, rows: list[dict[str, Any]], stage: str) -> tuple[np.ndarray, ...]:
    id_field, field = metric.ID_FIELD[stage], metric.PREDICTION_FIELD[stage]
    by_id = {p[id_field]: p[field] for p in predictions[stage]}
    pred = np.asarray([by_id[r[id_field]] for r in rows])
    ref = np.asarray([metric.reference_value(stage, r) for r in rows])
    groups = np.asarray([r[metric.BOOTSTRAP_UNIT[stage]] for r in rows])
    return pred, ref, groups


def sklearn_loop(predictions: dict, references: dict, n_bootstrap: int, seed: int) -> dict:
    """The same scores by calling scikit-learn / scipy once per split and per resample."""
    return {
        (stage, split): sklearn_split(stage, *aligned(predictions, rows, stage), n_bootstrap, seed)
        for stage in SIZES
        for split, rows in splits_of(references, stage).items()
    }


def sklearn_split(
    stage: str, pred: np.ndarray, ref: np.ndarray, groups: np.ndarray, n_bootstrap: int, seed: int
) -> dict[str, Any]:
    from scipy.stats import kendalltau, pearsonr, spearmanr
    from sklearn.metrics import (
        accuracy_score,
        cohen_kappa_score,
        f1_score,
        precision_score,
        recall_score,
    )

    rating = metric.STAGE_RECORDS[stage].kind == metric.RATING
    # The metric's documented resampling: sorted units, PCG64 draws of n_units units per resample.
    unique, group_index = np.unique(groups, return_inverse=True)
    rows_of = [np.flatnonzero(group_index == g) for g in range(unique.size)]
    draws = np.random.default_rng(seed).integers(0, unique.size, size=(n_bootstrap, unique.size))
    samples = []
    for draw in draws:
        rows = np.concatenate([rows_of[g] for g in draw])
        if rating:
            samples.append(spearmanr(pred[rows], ref[rows]).statistic)
        else:
            samples.append(f1_score(ref[rows], pred[rows], zero_division=np.nan))
    samples = np.asarray(samples)
    low, high = np.percentile(samples[~np.isnan(samples)], [2.5, 97.5])
    if rating:
        point = {
            "spearman": spearmanr(pred, ref).statistic,
            "kendall": kendalltau(pred, ref).statistic,
            "pearson": pearsonr(pred, ref).statistic,
        }
    else:
        point = {
            "accuracy": accuracy_score(ref, pred),
            "precision": precision_score(ref, pred),
            "recall": recall_score(ref, pred),
            "f1": f1_score(ref, pred),
            "kappa": cohen_kappa_score(ref, pred),
        }
    return {**point, "ci": (float(low), float(high))}


def evaluate_local(modules: dict, predictions: dict, references: dict, n_bootstrap: int) -> dict:
    out = {}
    for stage, module in modules.items():
        for split, rows in splits_of(references, stage).items():
            pred, ref, groups = aligned(predictions, rows, stage)
            out[(stage, split)] = module.compute(
                predictions=pred.tolist(),
                references=ref.tolist(),
                groups=groups.tolist(),
                n_bootstrap=n_bootstrap,
            )
    return out


def hub_f1_loop(f1_metric: Any, predictions: dict, references: dict, n_bootstrap: int) -> None:
    for stage in metric.stages_of_kind(metric.BINARY):
        pred, ref, groups = aligned(predictions, splits_of(references, stage)["all"], stage)
        unique, group_index = np.unique(groups, return_inverse=True)
        rows_of = [np.flatnonzero(group_index == g) for g in range(unique.size)]
        draws = np.random.default_rng(0).integers(0, unique.size, size=(n_bootstrap, unique.size))
        for draw in draws:
            rows = np.concatenate([rows_of[g] for g in draw])
            f1_metric.compute(predictions=pred[rows].astype(int), references=ref[rows].astype(int))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    n_bootstrap = args.resamples
    predictions, references = full_size_submission()
    sizes = ", ".join(f"{s} {n:,} rows ({g} units)" for s, (n, g) in SIZES.items())
    print(f"one submission, all three stages: {sizes}")
    print(
        f"each stage scored on train, validation, test and all, {n_bootstrap:,} bootstrap "
        "resamples of the headline metric each"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"python {platform.python_version()}, numpy {np.__version__}; best of {args.repeats} runs"
    )
    print()

    ours_time, ours_mem, ours = measure(
        lambda: metric.score_submission(predictions, references, n_bootstrap=n_bootstrap),
        args.repeats,
    )
    loop_time, loop_mem, loop = measure(
        lambda: sklearn_loop(predictions, references, n_bootstrap, seed=0),
        1,
        memory_run=lambda: sklearn_loop(predictions, references, 20, seed=0),
    )
    for (stage, split), theirs in loop.items():
        headline, mine = metric.HEADLINE[stage], ours[stage][split]
        same = np.allclose(
            (mine[f"{headline}_ci_low"], mine[f"{headline}_ci_high"]), theirs["ci"]
        ) and np.isclose(mine[headline], theirs[headline])
        if not same:
            raise SystemExit(f"{stage}/{split}: the metric and the scikit-learn loop disagree")

    import evaluate

    start = time.perf_counter()
    modules = {stage: evaluate.load(str(METRIC_DIR), config_name=stage) for stage in SIZES}
    load_time = time.perf_counter() - start
    eval_time, eval_mem, _ = measure(
        lambda: evaluate_local(modules, predictions, references, n_bootstrap), args.repeats
    )

    rows = [
        ("this metric: score_submission", ours_time, ours_mem),
        ("scikit-learn/scipy loop, same resamples", loop_time, loop_mem),
        ("evaluate.load(<metric folder>).compute x12", eval_time, eval_mem),
    ]
    start = time.perf_counter()
    try:
        hub_f1 = evaluate.load("f1")
    except Exception as error:  # no Hub access: say so rather than fail
        hub_note = (
            f'evaluate.load("f1") (Hub metric): not available here ({type(error).__name__}: '
            f"{str(error).splitlines()[0][:160]}; tried for {time.perf_counter() - start:.1f} s)"
        )
    else:
        hub_time, hub_mem, _ = measure(
            lambda: hub_f1_loop(hub_f1, predictions, references, n_bootstrap),
            1,
            memory_run=lambda: hub_f1_loop(hub_f1, predictions, references, 20),
        )
        rows.append(('evaluate.load("f1") loop, F1 stages only', hub_time, hub_mem))
        hub_note = ""

    print(f"{'method':<44} {'time (s)':>9} {'peak MiB':>9} {'vs this metric':>15}")
    for name, seconds, memory in rows:
        ratio = seconds / ours_time
        shown = "1.0x" if ratio == 1 else f"{ratio:,.0f}x slower"
        print(f"{name:<44} {seconds:>9.3f} {memory:>9.1f} {shown:>15}")
    print(f"(evaluate.load of the metric folder, 3 configs: {load_time:.2f} s, not counted)")
    if hub_note:
        print(hub_note)
    print("the metric's intervals equal the scikit-learn loop's on the same resamples: yes")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process peak RSS (whole script, incl. imports): {rss:.0f} MiB")
    speedup = loop_time / ours_time
    met = ours_time <= TARGET_SECONDS and speedup >= TARGET_SPEEDUP
    print(
        f"target (<= {TARGET_SECONDS} s and >= {TARGET_SPEEDUP}x faster than the loop): "
        f"{ours_time:.3f} s, {speedup:,.0f}x -> {'met' if met else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
