"""The leaderboard's paired statistics against scipy / scikit-learn loops, and the ranking of
the committed submissions against the numbers CI wrote."""

from __future__ import annotations

import numpy as np
import pytest
from leaderboard_synthetic import committed_run
from scipy import stats
from sklearn.metrics import cohen_kappa_score, f1_score

from recenter_bench.leaderboard import statistics
from recenter_bench.leaderboard.ranking import rank_split
from recenter_bench.leaderboard.table import load_submissions
from recenter_bench.paths import SUBMISSIONS_DIR


def binary_systems(n_clusters: int, rows_per: int, systems: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    clusters = np.repeat([f"p{i:02d}" for i in range(n_clusters)], rows_per)
    truth = rng.random(clusters.size) < 0.3
    # Systems of increasing skill: each flips a share of the truth.
    preds = [
        np.where(rng.random(clusters.size) < 0.15 + 0.1 * k, ~truth, truth) for k in range(systems)
    ]
    return statistics.Aligned.from_lists("pairing", truth.tolist(), preds, clusters.tolist())


def rating_systems(rows_per: int, spreads: tuple[float, ...], seed: int):
    """Six prompts of human mean ratings and 1-5 judges of decreasing skill (noise `spreads`)."""
    rng = np.random.default_rng(seed)
    clusters = np.repeat([f"p{i}" for i in range(6)], rows_per)
    human = rng.integers(1, 6, clusters.size) + rng.random(clusters.size)
    judges = [np.clip(np.round(human + rng.normal(0, s, human.size)), 1, 5) for s in spreads]
    aligned = statistics.Aligned.from_lists(
        "response_quality", human.tolist(), [j.tolist() for j in judges], clusters.tolist()
    )
    return aligned, human, judges


def resampled_rows(aligned: statistics.Aligned, n_bootstrap: int, seed: int) -> list[np.ndarray]:
    """The rows of each cluster resample, drawn as the metric's bootstrap_weights draws them."""
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, aligned.n_clusters, size=(n_bootstrap, aligned.n_clusters))
    members = [np.flatnonzero(aligned.clusters == g) for g in range(aligned.n_clusters)]
    return [np.concatenate([members[g] for g in draw]) for draw in draws]


def test_paired_bootstrap_equals_a_scikit_learn_loop_over_resampled_clusters():
    aligned = binary_systems(n_clusters=8, rows_per=30, systems=3)
    samples = statistics.paired_bootstrap(aligned, n_bootstrap=200, seed=3)
    for b, rows in enumerate(resampled_rows(aligned, 200, 3)):
        for k in range(3):
            expected = f1_score(
                aligned.references[rows], aligned.predictions[k][rows], zero_division=np.nan
            )
            assert samples[b, k] == pytest.approx(expected, nan_ok=True)
    # Rank intervals from the same resamples, ranked by scipy.
    ranks = np.array(
        [stats.rankdata(-np.nan_to_num(row, nan=-np.inf), method="min") for row in samples]
    )
    low, high = statistics.rank_intervals(samples)
    assert low.tolist() == np.floor(np.percentile(ranks, 2.5, axis=0)).astype(int).tolist()
    assert high.tolist() == np.ceil(np.percentile(ranks, 97.5, axis=0)).astype(int).tolist()
    a_minus_b = statistics.difference_interval(samples, 0, 1)
    assert a_minus_b == pytest.approx(
        tuple(np.percentile(samples[:, 0] - samples[:, 1], [2.5, 97.5]))
    )


def test_rank_intervals_count_fixed_rows_as_scipy_ranks_them():
    # The paper's reported rows have no resamples: they count in every resample's ranking.
    aligned = binary_systems(n_clusters=8, rows_per=30, systems=3)
    samples = statistics.paired_bootstrap(aligned, n_bootstrap=200, seed=4)
    fixed = [float(np.median(samples[:, 1])), 0.99, float("nan")]
    for higher_is_better, sign in [(True, 1.0), (False, -1.0)]:
        ranks = np.array(
            [
                stats.rankdata(-sign * np.concatenate([row, fixed[:2]]), method="min")[:3]
                for row in samples
            ]
        )
        low, high = statistics.rank_intervals(samples, higher_is_better, fixed)
        assert low.tolist() == np.floor(np.percentile(ranks, 2.5, axis=0)).astype(int).tolist()
        assert high.tolist() == np.ceil(np.percentile(ranks, 97.5, axis=0)).astype(int).tolist()


def test_spearman_bootstrap_equals_a_scipy_loop():
    aligned, human, judges = rating_systems(rows_per=12, spreads=(0.5, 2.0), seed=1)
    samples = statistics.paired_bootstrap(aligned, n_bootstrap=60, seed=5)
    for b, rows in enumerate(resampled_rows(aligned, 60, 5)):
        for k in range(2):
            expected = stats.spearmanr(judges[k][rows], human[rows]).statistic
            assert samples[b, k] == pytest.approx(expected, abs=1e-9, nan_ok=True)


def _scipy_paired_permutation(aligned: statistics.Aligned, a: int, b: int) -> float:
    """scipy.stats.permutation_test over clusters: sample i of x is system a's cluster i,
    sample i of y is system b's; permuting "samples" swaps them within a cluster."""
    g = aligned.n_clusters
    counts = np.zeros((2 * g, 3))
    for k, system in enumerate((a, b)):
        pred, ref = aligned.predictions[system], aligned.references
        for j, hit in enumerate((ref & pred, ~ref & pred, ref & ~pred)):
            counts[k * g : (k + 1) * g, j] = np.bincount(aligned.clusters, hit, minlength=g)

    def f1(ids: np.ndarray) -> float:
        tp, fp, fn = counts[ids].sum(axis=0)
        return 2 * tp / (2 * tp + fp + fn)

    return _scipy_exact_swap_p_value(g, f1)


def _scipy_exact_swap_p_value(g: int, score) -> float:
    """scipy's exact two-sided p-value of score(x) - score(y) when sample i of x (cluster i of
    system a, numbered i) and sample i of y (cluster i of system b, numbered g + i) may swap."""
    result = stats.permutation_test(
        (np.arange(g), np.arange(g) + g),
        lambda x, y: score(x) - score(y),
        permutation_type="samples",
        vectorized=False,
        n_resamples=np.inf,
        alternative="two-sided",
    )
    return float(result.pvalue)


@pytest.mark.parametrize("n_clusters", [5, 9])
def test_exact_permutation_p_value_equals_scipy(n_clusters):
    aligned = binary_systems(n_clusters=n_clusters, rows_per=25, systems=3, seed=n_clusters)
    for a, b in [(0, 1), (0, 2), (2, 1)]:
        ours = statistics.permutation_p_value(aligned, a, b)
        assert ours == pytest.approx(_scipy_paired_permutation(aligned, a, b), abs=1e-12)


def test_exact_spearman_permutation_p_value_equals_scipy():
    aligned, human, judges = rating_systems(rows_per=10, spreads=(0.7, 1.5), seed=3)
    g = aligned.n_clusters
    members = [np.flatnonzero(aligned.clusters == c) for c in range(g)]

    def rho(ids: np.ndarray) -> float:
        rows = [(k // g, members[k % g]) for k in ids]
        pred = np.concatenate([judges[system][m] for system, m in rows])
        truth = np.concatenate([human[m] for _, m in rows])
        return stats.spearmanr(pred, truth).statistic

    expected = _scipy_exact_swap_p_value(g, rho)
    assert statistics.permutation_p_value(aligned, 0, 1) == pytest.approx(expected, abs=1e-12)


def test_monte_carlo_permutation_p_value_is_close_to_scipys_exact_one():
    aligned = binary_systems(n_clusters=12, rows_per=15, systems=2, seed=7)
    exact = _scipy_paired_permutation(aligned, 0, 1)
    sampled = statistics.permutation_p_value(aligned, 0, 1, n_resamples=2000, seed=1)
    assert abs(sampled - exact) < 0.04
    assert sampled > 0  # the observed statistic counts once: a p-value is never 0


def test_tie_groups_follow_the_anchor():
    rng = np.random.default_rng(0)
    base = rng.normal(0, 0.01, (500, 1))
    # A clearly ahead; B and C indistinguishable; D clearly behind both.
    samples = np.hstack(
        [
            base + 0.8,
            base + 0.5 + rng.normal(0, 0.03, (500, 1)),
            base + 0.49 + rng.normal(0, 0.03, (500, 1)),
            base + 0.1,
        ]
    )
    points = samples.mean(axis=0)
    assert statistics.tie_groups(points, samples).tolist() == [1, 2, 2, 3]
    assert statistics.ranks_of(np.array([0.5, 0.9, 0.5, np.nan])).tolist() == [2, 1, 2, 4]


def test_agreement_matrix_equals_scikit_learn():
    rng = np.random.default_rng(2)
    raters = {
        name: (rng.random(80) < p).tolist() for name, p in [("h", 0.3), ("a", 0.5), ("b", 0.2)]
    }
    kappas = statistics.agreement_matrix(raters)
    for (x, y), kappa in kappas.items():
        assert kappa == pytest.approx(cohen_kappa_score(raters[x], raters[y]))
    assert kappas[("a", "h")] == kappas[("h", "a")]


def test_ranking_of_the_committed_predictions_reproduces_ci_scores(reference):
    submissions, problems = load_submissions(SUBMISSIONS_DIR)
    assert problems == []
    for split in ("test", "all"):
        ranking = rank_split(submissions, reference.rows["pairing"], "pairing", split, 200)
        assert ranking is not None and ranking.ids
        by_id = {s.id: s for s in submissions}
        for i, submission_id in enumerate(ranking.ids):
            written = by_id[submission_id].scores("pairing", split)["f1"]
            assert ranking.points[i] == pytest.approx(written), submission_id
        # Trained on train and validation: the committed BM25 is ranked on test only.
        bm25 = ranking.ids.index(committed_run())
        assert bool(ranking.ranked[bm25]) is (split == "test")


def test_error_analysis_shows_the_raw_answer_when_the_run_kept_one(
    reference, tmp_path, monkeypatch
):
    import json
    import shutil

    from recenter_bench.leaderboard.ranking import disagreements, per_cluster_scores

    # The committed BM25 run, plus the raw answers `recenter run` keeps for LLM judges.
    run = tmp_path / committed_run()
    shutil.copytree(SUBMISSIONS_DIR / committed_run(), run)
    rows = [json.loads(line) for line in (run / "pairing.jsonl").read_text().splitlines()]
    raw = [
        {"pair_id": r["pair_id"], "answer": f"Answer: {'YES' if r['relevant'] else 'NO'}"}
        for r in rows
    ]
    (run / "raw_answers.jsonl").write_text("\n".join(json.dumps(r) for r in raw) + "\n{broken\n")
    submissions, _ = load_submissions(tmp_path)
    ranking = rank_split(submissions, reference.rows["pairing"], "pairing", "test", 50)
    bm25 = submissions[0]
    errors = disagreements(ranking, bm25)
    written = bm25.scores("pairing", "test")
    assert len(errors) == written["fp"] + written["fn"]
    assert all(
        row["raw_answer"] == f"Answer: {'YES' if row['system'] == 'relevant' else 'NO'}"
        for row in errors.to_dict(orient="records")
    )
    # Per prompt: the row counts add up to the split, and pooling the prompts' counts gives F1.
    clusters = per_cluster_scores(ranking, bm25.id)
    assert clusters["n"].sum() == written["n"] and len(clusters) == 5


def test_pairwise_tests_run_once_per_ranking(reference, monkeypatch):
    from recenter_bench.leaderboard.ranking import with_system

    submissions, _ = load_submissions(SUBMISSIONS_DIR)
    ranking = rank_split(submissions, reference.rows["pairing"], "pairing", "test", 50)
    calls = []
    exact = statistics.permutation_p_value
    monkeypatch.setattr(
        statistics, "permutation_p_value", lambda *a, **k: calls.append(a[1:]) or exact(*a, **k)
    )
    first = ranking.ids[0]
    table = ranking.pairwise(first)
    assert len(calls) == len(ranking.ids) - 1
    table.loc[0, "p_value"] = -1.0  # a caller's edit does not reach the cache
    assert ranking.pairwise(first).equals(ranking.pairwise(first))
    assert (ranking.pairwise(first)["p_value"] >= 0).all()
    assert len(calls) == len(ranking.ids) - 1
    # A ranking with one more system compares anew, against it too.
    predicted = dict.fromkeys((row["pair_id"] for row in ranking.rows), True)
    extended = with_system(ranking, "upload", predicted)
    assert "upload" in extended.pairwise(first)["other"].tolist()
    assert len(calls) == (len(ranking.ids) - 1) + len(ranking.ids)
