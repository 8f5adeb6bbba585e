"""`recenter reproduce --release DIR`: recompute the paper's numbers from a release.

The paper's printed numbers are encoded below (`PAPER_NUMBERS`, each with the table or figure it
is printed in). `reproduce` builds the dataset of the release, imports the LLM vote files the
release holds (`data/relevance_task5/*.jsonl`) through the same path as `recenter import-votes`,
scores everything with the metric, and prints paper value, computed value and whether they agree
within the paper's rounding. A number the release cannot give (its human labels or the votes
behind it are not public) is listed as "not in this release", never counted as a failure; any
number that can be computed and does not agree makes the command exit 1. Nothing is tuned to hit
a number: every value comes from `score_submission`, `human_reference` or `cohen_kappa`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from recenter_bench.errors import UserError

PAPER = "arXiv:2606.06614v1"


@dataclass(frozen=True)
class PaperNumber:
    """One number printed in the paper and how to compare a computed value with it.

    kind: "count" (must be equal), "value" (equal after rounding to `decimals`), "about" (the
    text says "about X": equal after rounding to the nearest 10 percentage points) or "range"
    (the text gives a range `value`..`high`).
    """

    key: str
    label: str
    value: float
    source: str
    kind: str = "value"
    decimals: int = 3
    high: float | None = None

    def shown(self) -> str:
        if self.kind == "count":
            return f"{self.value:,.0f}"
        if self.kind == "about":
            return f"about {self.value:.0%}"
        if self.kind == "range":
            return f"{self.value:.0%}-{self.high:.0%}"
        return f"{self.value:.{self.decimals}f}"

    def agrees(self, computed: float) -> bool:
        if math.isnan(computed):
            return False
        if self.kind == "count":
            return computed == self.value
        if self.kind == "about":
            return round(computed, 1) == round(self.value, 1)
        if self.kind == "range":
            return self.value <= round(computed, 2) <= self.high
        return round(computed, self.decimals) == round(self.value, self.decimals)


# The paper's judges and their vote files' names in the release (data/relevance_task5/). The
# first four names are those of the pilot votes (data/relevance_task3/); Qwen's file is not
# public anywhere, so its name is a guess: a file by another name is scored and listed in the
# notes as "not one of the paper's judges", never compared with a paper row.
JUDGES = {
    "Claude-Sonnet-4.6": "claude-sonnet-4-6",
    "GPT-5.4": "gpt-5.4",
    "Gemma-4-31B": "google_gemma-4-31b-it",
    "Llama-3.3-70B": "meta-llama_llama-3.3-70b-instruct",
    "Qwen3.5-27B": "qwen_qwen3.5-27b",
}
TABLE2 = {  # verifier: (accuracy, precision, recall, F1), positive = problematic
    "Llama-3.3-70B": (0.655, 0.531, 0.233, 0.324),
    "Llama-3.3-70B + optimized prompt": (0.681, 0.564, 0.425, 0.484),
    "Qwen3.5-27B": (0.642, 0.478, 0.471, 0.475),
    "Qwen3.5-27B + optimized prompt": (0.628, 0.476, 0.758, 0.585),
    "Gemma-4-31B": (0.652, 0.506, 0.562, 0.532),
    "Gemma-4-31B + optimized prompt": (0.643, 0.496, 0.877, 0.634),
    "GPT-5.4": (0.676, 0.547, 0.479, 0.511),
    "GPT-5.4 + optimized prompt": (0.589, 0.461, 0.973, 0.626),
    "Claude-Sonnet-4.6": (0.667, 0.525, 0.575, 0.549),
    "Claude-Sonnet-4.6 + optimized prompt": (0.614, 0.476, 0.932, 0.630),
    "RoBERTa (trained)": (0.748, 0.591, 0.926, 0.726),
}
TABLE3 = {  # model: (accuracy, precision, recall, F1), positive = relevant
    "Llama-3.3-70B": (0.529, 0.272, 0.979, 0.426),
    "Qwen3.5-27B": (0.689, 0.345, 0.832, 0.488),
    "Gemma-4-31B": (0.685, 0.355, 0.934, 0.514),
    "GPT-5.4": (0.676, 0.334, 0.819, 0.474),
    "Claude-Sonnet-4.6": (0.719, 0.372, 0.838, 0.515),
    "RoBERTa (trained)": (0.859, 0.608, 0.605, 0.606),
    "Qwen3-4B (base, zero-shot)": (0.530, 0.267, 0.942, 0.417),
    "Qwen3-4B + GRPO (trained)": (0.870, 0.611, 0.674, 0.641),
}
# Figure 3, pairwise Cohen's kappa between the LLM judges (read from the figure, 2 decimals).
FIGURE3_LLM = {
    ("Claude-Sonnet-4.6", "GPT-5.4"): 0.58,
    ("Claude-Sonnet-4.6", "Gemma-4-31B"): 0.73,
    ("Claude-Sonnet-4.6", "Llama-3.3-70B"): 0.50,
    ("Claude-Sonnet-4.6", "Qwen3.5-27B"): 0.68,
    ("GPT-5.4", "Gemma-4-31B"): 0.62,
    ("GPT-5.4", "Llama-3.3-70B"): 0.47,
    ("GPT-5.4", "Qwen3.5-27B"): 0.57,
    ("Gemma-4-31B", "Llama-3.3-70B"): 0.60,
    ("Gemma-4-31B", "Qwen3.5-27B"): 0.71,
    ("Llama-3.3-70B", "Qwen3.5-27B"): 0.52,
}
TABLE6 = {  # judge: (mean rating, Spearman with the human mean)
    "Claude-Sonnet-4.6": (3.428, 0.362),
    "GPT-5.4": (3.523, 0.312),
    "Llama-3.3-70B": (4.019, 0.376),
    "Qwen3.5-27B": (3.487, 0.182),
    "Gemma-4-31B": (3.409, 0.111),
}
FIGURE5 = {  # generator: mean human rating (read from the figure)
    "claude-sonnet-4-6": 3.65,
    "gpt-5.4": 3.37,
    "llama-3.3-70b": 3.14,
    "gemma-4-31b": 3.00,
    "qwen3.5-27b": 2.71,
}
METRICS = ("accuracy", "precision", "recall", "f1")


def _paper_numbers() -> list[PaperNumber]:
    n = PaperNumber
    numbers = [
        n("extraction/attributes", "Stage-1 attributes", 1983, "counts", "count"),
        n("extraction/users", "Stage-1 users", 77, "counts", "count"),
        n("extraction/judgments", "Stage-1 judgments", 5949, "counts", "count"),
        n("extraction/acceptance_real", "accepted, WildChat users", 0.58, "Figure 2", "value", 2),
        n(
            "extraction/acceptance_synthetic",
            "accepted, synthetic users",
            0.80,
            "Figure 2",
            "value",
            2,
        ),
        n(
            "extraction/inter_annotator_kappa",
            "Stage-1 inter-annotator kappa",
            0.314,
            "Stage-1 text",
        ),
    ]
    for model, values in TABLE2.items():
        for metric, value in zip(METRICS, values, strict=True):
            numbers.append(n(f"extraction/{model}/{metric}", f"{model} {metric}", value, "Table 2"))
    numbers += [
        n("pairing/pairs", "Stage-2 pairs", 3973, "counts", "count"),
        n(
            "pairing/labelled_pairs",
            "Stage-2 pairs with a label",
            3969,
            "counts (text)",
            "count",
        ),
        n("pairing/prompts", "LIMA prompts", 41, "counts", "count"),
        n("pairing/user_prompts", "(user, prompt) items", 164, "counts", "count"),
        n("pairing/judgments", "Stage-2 judgments", 11919, "counts", "count"),
        n("pairing/human_yes_rate", "human relevance rate", 0.20, "Stage-2 text", "about"),
        n("pairing/kappa/human-human", "mean kappa human-human", 0.426, "Stage-2 text"),
        n("pairing/kappa/llm-llm", "mean kappa LLM-LLM", 0.597, "Stage-2 text"),
        n("pairing/kappa/llm-human", "mean kappa LLM-human", 0.300, "Stage-2 text"),
    ]
    for model, values in TABLE3.items():
        for metric, value in zip(METRICS, values, strict=True):
            numbers.append(n(f"pairing/{model}/{metric}", f"{model} {metric}", value, "Table 3"))
    for model in JUDGES:
        numbers.append(
            n(
                f"pairing/{model}/yes_rate",
                f"{model} YES-rate",
                0.40,
                "Stage-2 text",
                "range",
                2,
                0.60,
            )
        )
    for (a, b), value in FIGURE3_LLM.items():
        numbers.append(
            n(f"pairing/kappa/{a}/{b}", f"kappa {a} vs {b}", value, "Figure 3", "value", 2)
        )
    numbers += [
        n("pairing/BM25/f1", "BM25 F1", 0.243, "Figure 4"),
        n("pairing/MiniLM/f1", "all-MiniLM-L6-v2 F1", 0.384, "Figure 4"),
        n(
            "response_quality/ratings",
            "Stage-3 (item, attribute) ratings",
            367,
            "counts",
            "count",
        ),
        n("response_quality/items", "Stage-3 items", 80, "counts", "count"),
        n("response_quality/judgments", "Stage-3 judgments", 1101, "counts", "count"),
        n("response_quality/human_mean", "human mean rating", 3.176, "Table 6"),
        n("response_quality/share_at_most_3", "share rated <= 3", 0.546, "Stage-3 text"),
        n(
            "response_quality/inter_annotator_spearman",
            "inter-annotator Spearman",
            0.325,
            "Stage-3 text",
        ),
        n(
            "response_quality/inter_annotator_weighted_kappa",
            "weighted kappa",
            0.310,
            "Stage-3 text",
        ),
    ]
    for generator, value in FIGURE5.items():
        numbers.append(
            n(
                f"response_quality/{generator}/human_mean",
                f"human mean, {generator}",
                value,
                "Figure 5",
                "value",
                2,
            )
        )
    for judge, (mean, rho) in TABLE6.items():
        numbers.append(
            n(f"response_quality/{judge}/mean_rating", f"{judge} mean rating", mean, "Table 6")
        )
        numbers.append(n(f"response_quality/{judge}/spearman", f"{judge} Spearman", rho, "Table 6"))
    return numbers


PAPER_NUMBERS: tuple[PaperNumber, ...] = tuple(_paper_numbers())

# Why a number cannot be recomputed, by key prefix (the first that matches is shown).
NOT_PUBLIC = (
    ("pairing/BM25", "the paper does not state BM25's threshold or top-k"),
    ("pairing/MiniLM", "the paper does not state the similarity threshold or top-k"),
    ("pairing/RoBERTa", "no predictions of RoBERTa or Qwen3-4B (base, GRPO) are public"),
    ("pairing/Qwen3-4B", "no predictions of RoBERTa or Qwen3-4B (base, GRPO) are public"),
    ("pairing/kappa/human", "no per-annotator Stage-2 labels (only the majority)"),
    ("pairing/kappa/llm-human", "needs per-annotator Stage-2 labels and all five judges' votes"),
    ("pairing/kappa/llm-llm", "needs the votes of all five LLM judges"),
    ("pairing/kappa/", "the votes of one or both judges are not public"),
    ("pairing/judgments", "no per-annotator Stage-2 labels (only the majority)"),
    ("pairing/", "this judge's relevance votes are not public"),
    ("extraction/", "no Stage-1 human labels (and the Stage-1 item file is intermediate)"),
    ("response_quality/", "no Stage-3 human ratings (and no LLM judges' ratings)"),
)


def _not_public_reason(key: str) -> str:
    return next(reason for prefix, reason in NOT_PUBLIC if key.startswith(prefix))


# --------------------------------------------------------------------------------------------
# What the release gives
# --------------------------------------------------------------------------------------------


def judge_of_file(path: Path) -> str | None:
    """The paper's judge a vote file belongs to (by its file name), or None."""
    return next((judge for judge, stem in JUDGES.items() if stem == path.stem), None)


def computed_numbers(release: Path) -> tuple[dict[str, float], list[str]]:
    """Every paper number the release can give, by `PaperNumber.key`, plus notes on the way."""
    from recenter_bench.import_votes import (
        VOTES_GLOB,
        built_reference,
        read_votes,
        release_pairs,
        vote_predictions,
    )
    from recenter_bench.metric.recenter_personalization import recenter_personalization as metric

    reference, _ = built_reference(release)
    rows = reference.rows
    notes: list[str] = []
    out: dict[str, float] = {}
    pairing = [row for split in rows["pairing"].values() for row in split]
    labelled = [row for row in pairing if metric.reference_value("pairing", row) is not None]
    pairs = release_pairs(release)
    out["pairing/pairs"] = float(len(pairs))
    out["pairing/labelled_pairs"] = float(len(labelled))
    out["pairing/prompts"] = float(len({row["prompt_id"] for row in pairing}))
    out["pairing/user_prompts"] = float(len({(u, p) for u, p, _ in pairs}))
    if len(pairs) != len(pairing):
        notes.append(
            f"pairing: {len(pairs) - len(pairing)} of the release's {len(pairs):,} pairs have no "
            f"label and are left out of the dataset ({len(pairing):,} rows); the paper's 3,973 "
            "counts them, its 3,969 does not, and every score below is over the labelled rows"
        )
    judgments = {
        stage: sum(
            len(row.get(record.judgments_field) or [])
            for split in rows[stage].values()
            for row in split
        )
        for stage, record in metric.STAGE_RECORDS.items()
    }
    for stage, count in judgments.items():
        if count:
            out[f"{stage}/judgments"] = float(count)
    human = metric.human_reference(rows)
    if judgments["pairing"]:
        out["pairing/kappa/human-human"] = human["pairing"]["all"]["inter_annotator_kappa"]
    if judgments["extraction"]:
        extraction = [row for split in rows["extraction"].values() for row in split]
        out["extraction/attributes"] = float(len(extraction))
        out["extraction/users"] = float(len({row["user_id"] for row in extraction}))
        out["extraction/inter_annotator_kappa"] = human["extraction"]["all"][
            "inter_annotator_kappa_3way"
        ]
    if judgments["response_quality"]:
        rated = [
            row
            for split in rows["response_quality"].values()
            for row in split
            if metric.reference_value("response_quality", row) is not None
        ]
        out["response_quality/ratings"] = float(len(rated))
        out["response_quality/items"] = float(len({row["item_id"] for row in rated}))
        out["response_quality/human_mean"] = human["response_quality"]["all"]["human_mean_rating"]
        out["response_quality/inter_annotator_spearman"] = human["response_quality"]["all"][
            "inter_annotator_spearman"
        ]
        out["response_quality/inter_annotator_weighted_kappa"] = human["response_quality"]["all"][
            "inter_annotator_weighted_kappa"
        ]

    dataset_ids = {row["pair_id"] for row in pairing}
    votes_by_judge: dict[str, dict[str, bool]] = {}
    for path in sorted(Path(release).glob(VOTES_GLOB)):
        judge = judge_of_file(path)
        votes = read_votes(path)
        predictions, dropped = vote_predictions(votes, pairs, dataset_ids, path)
        scores = metric.score_submission(
            {"pairing": predictions}, {"pairing": rows["pairing"]}, n_bootstrap=1000, seed=0
        )["pairing"]
        if "all" not in scores:
            notes.append(f"{path.name}: does not cover every labelled pair; not scored")
            continue
        everything = scores["all"]
        out.setdefault("pairing/human_yes_rate", everything["human_yes_rate"])
        name = judge or path.stem
        notes.append(
            f"{name}: {len(votes):,} votes ({dropped} on unlabelled pairs dropped); F1 "
            f"{everything['f1']:.3f}, 95% CI over prompts [{everything['f1_ci_low']:.3f}, "
            f"{everything['f1_ci_high']:.3f}]"
        )
        if judge is None:
            notes.append(f"{path.name}: not one of the paper's judges; scored, not compared")
            continue
        for metric_name in (*METRICS, "yes_rate"):
            out[f"pairing/{judge}/{metric_name}"] = everything[metric_name]
        by_id = {row["pair_id"]: row["relevant"] for row in predictions}
        votes_by_judge[judge] = {
            key: by_id[key] for key in (row["pair_id"] for row in labelled) if key in by_id
        }
    for (a, b), _ in FIGURE3_LLM.items():
        if a in votes_by_judge and b in votes_by_judge:
            common = sorted(set(votes_by_judge[a]) & set(votes_by_judge[b]))
            out[f"pairing/kappa/{a}/{b}"] = metric.cohen_kappa(
                [votes_by_judge[a][k] for k in common], [votes_by_judge[b][k] for k in common]
            )
    if "pairing/human_yes_rate" not in out and labelled:
        out["pairing/human_yes_rate"] = sum(row["relevant"] for row in labelled) / len(labelled)
    return out, notes


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    number: PaperNumber
    computed: float | None  # None = not in this release

    @property
    def status(self) -> str:
        if self.computed is None:
            return "not in this release"
        return "yes" if self.number.agrees(self.computed) else "NO"


def compare(computed: Mapping[str, float]) -> list[Comparison]:
    """Every paper number next to its computed value (None where the release cannot give it)."""
    return [Comparison(number, computed.get(number.key)) for number in PAPER_NUMBERS]


def _shown(comparison: Comparison) -> str:
    value, kind = comparison.computed, comparison.number.kind
    if value is None:
        return "-"
    if math.isnan(value):
        return "undefined"
    if kind == "count":
        return f"{value:,.0f}"
    return f"{value:.4f}"


def render(comparisons: list[Comparison], notes: list[str], release: Path) -> str:
    """The side-by-side table: computed rows first, then one line per group that is not in
    this release, then the notes."""
    lines = [f"Reproducing {PAPER} from {release}", ""]
    header = f"{'number':<44} {'source':<17} {'paper':>10} {'computed':>10}  within rounding"
    lines += [header, "-" * len(header)]
    for c in comparisons:
        if c.computed is not None:
            lines.append(
                f"{c.number.label:<44.44} {c.number.source:<17} {c.number.shown():>10} "
                f"{_shown(c):>10}  {c.status}"
            )
    groups: dict[str, list[str]] = {}
    for c in comparisons:
        if c.computed is None:
            groups.setdefault(_not_public_reason(c.number.key), []).append(c.number.source)
    if groups:
        lines += ["", "not in this release (how many: why; where the paper prints them):"]
        for reason, sources in groups.items():
            lines.append(f"  {len(sources):>3}: {reason}; {', '.join(dict.fromkeys(sources))}")
    if notes:
        lines += ["", "notes:"] + [f"  {note}" for note in notes]
    done = [c for c in comparisons if c.computed is not None]
    failed = [c for c in done if c.status == "NO"]
    lines += [
        "",
        f"{len(done) - len(failed)} of {len(done)} computable numbers reproduce; "
        f"{len(failed)} differ; {len(comparisons) - len(done)} are not in this release.",
    ]
    return "\n".join(lines)


def reproduce(release: Path) -> tuple[list[Comparison], str]:
    """(comparisons, the printed report) for one release."""
    release = Path(release)
    if not (release / "data").is_dir():
        raise UserError(f"--release: {release}: not a release folder (no data/ inside)")
    computed, notes = computed_numbers(release)
    comparisons = compare(computed)
    return comparisons, render(comparisons, notes, release)


def reproduce_command(args: argparse.Namespace) -> int:
    """`recenter reproduce --release DIR`: exit 1 when a computable number does not reproduce."""
    comparisons, report = reproduce(Path(args.release))
    print(report)
    return 1 if any(c.status == "NO" for c in comparisons) else 0


__all__ = [
    "PAPER_NUMBERS",
    "PaperNumber",
    "Comparison",
    "compare",
    "computed_numbers",
    "reproduce",
    "reproduce_command",
]
