"""Render the dataset card (`README.md`) and `eval.yaml` from the templates in `dataset_card/`.

The prose lives in `dataset_card/card_template.md`; lines `<!-- data:NAME -->` mark where the
figures of a build go (counts, agreement). `static_card_text()` drops those lines, giving the
prose alone for places that show the card without a build (the leaderboard's About tab).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import yaml

from recenter_bench.loaders.ids import SPLITS
from recenter_bench.loaders.schemas import CONFIGS, features
from recenter_bench.metric.recenter_personalization import STAGE_RECORDS
from recenter_bench.paths import DATASET_CARD_DIR

if TYPE_CHECKING:
    from huggingface_hub import DatasetCardData

    from recenter_bench.loaders.build import BuildSummary

TEMPLATE = DATASET_CARD_DIR / "card_template.md"
METADATA = DATASET_CARD_DIR / "metadata.yaml"
EVAL_YAML = DATASET_CARD_DIR / "eval.yaml"
MARKER = re.compile(r"^<!-- data:(?P<name>[a-z_]+) -->\n", re.MULTILINE)


def static_card_text() -> str:
    """The card's prose with no data-dependent parts (Markdown, no YAML header)."""
    text = MARKER.sub("", TEMPLATE.read_text(encoding="utf-8"))
    # Removing a marker leaves two blank lines where it stood; keep the Markdown tidy.
    return re.sub(r"\n{3,}", "\n\n", text)


def render_eval_yaml() -> str:
    """`eval.yaml`: the three scored stages (config and test split) for the Hub's benchmarks."""
    return EVAL_YAML.read_text(encoding="utf-8")


def _size_category(total: int) -> str:
    for bound, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K")):
        if total < bound:
            return name
    return "100K<n<1M"


def card_metadata(
    counts: dict[str, dict[str, int]], num_bytes: dict[str, dict[str, int]]
) -> DatasetCardData:
    """The YAML header: static metadata plus `configs` and `dataset_info` of this build, made
    with the Hub's `DatasetCardData` and `datasets`' own writer of `dataset_info`."""
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict
    from huggingface_hub import DatasetCardData

    metadata = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    judged = sum(sum(counts[c].values()) for c in CONFIGS[1:])
    metadata["size_categories"] = [_size_category(judged)]
    metadata["configs"] = [
        {
            "config_name": config,
            "data_files": [
                {"split": split, "path": f"data/{config}/{split}.parquet"}
                for split in counts[config]
            ],
        }
        for config in CONFIGS
    ]
    data = DatasetCardData(**metadata)
    infos = {}
    for config in CONFIGS:
        splits = SplitDict()
        for split, n in counts[config].items():
            splits.add(SplitInfo(name=split, num_bytes=num_bytes[config][split], num_examples=n))
        infos[config] = DatasetInfo(features=features(config), splits=splits)
    DatasetInfosDict(infos).to_dataset_card_data(data)
    return data


def _fmt(value: float | None) -> str:
    return "not available" if value is None else f"{value:.3f}"


def _build_section(summary: BuildSummary) -> str:
    conversations = summary.total("conversations")
    lines = [
        "### This build",
        "",
        f"- `conversations`: {conversations:,} conversations, "
        f"{summary.conversations_with_text:,} with their text included.",
    ]
    for config in CONFIGS[1:]:
        total = summary.total(config)
        lines.append(
            f"- `{config}`: {total:,} rows, {summary.unlabelled[config]:,} without human labels; "
            f"{summary.judgments[config]:,} per-annotator Stage-{STAGE_RECORDS[config].number} "
            f"judgments from {summary.annotators[config]} annotator(s)."
        )
    if summary.majority_only:
        lines.append(
            f"- `pairing`: {summary.majority_only:,} rows carry the authors' published majority "
            "vote without the individual votes."
        )
    if summary.pairs_left_out:
        lines.append(
            f"- `pairing`: {len(summary.pairs_left_out)} pair(s) have no label and are left out."
        )
    return "\n".join(lines) + "\n"


def _counts_section(summary: BuildSummary) -> str:
    lines = ["| config | " + " | ".join(SPLITS) + " | total |", "|---|" + "---:|" * 4]
    for config in CONFIGS:
        cells = [f"{summary.counts[config].get(split, 0):,}" for split in SPLITS]
        lines.append(f"| `{config}` | " + " | ".join(cells) + f" | {summary.total(config):,} |")
    return "Rows per split in this build:\n\n" + "\n".join(lines) + "\n"


# The agreement table: (stage cell, statistic, config, key in `agreement.stage_agreement`).
AGREEMENT_ROWS = (
    (
        "Stage 1 (`extraction`)",
        "mean pairwise Cohen's kappa, accepted vs problematic",
        "extraction",
        "inter_annotator_kappa",
    ),
    ("", "mean pairwise Cohen's kappa, 3 labels", "extraction", "inter_annotator_kappa_3way"),
    ("", "Fleiss' kappa, 3 labels", "extraction", "fleiss_kappa"),
    ("Stage 2 (`pairing`)", "mean pairwise Cohen's kappa", "pairing", "inter_annotator_kappa"),
    ("", "Fleiss' kappa", "pairing", "fleiss_kappa"),
    (
        "Stage 3 (`response_quality`)",
        "mean pairwise Spearman",
        "response_quality",
        "inter_annotator_spearman",
    ),
    (
        "",
        "mean pairwise quadratic-weighted Cohen's kappa",
        "response_quality",
        "inter_annotator_weighted_kappa",
    ),
)


def _agreement_section(summary: BuildSummary) -> str:
    table = ["| stage | statistic | value |", "|---|---|---:|"]
    table += [
        f"| {stage} | {name} | {_fmt(summary.agreement[config][figure])} |"
        for stage, name, config, figure in AGREEMENT_ROWS
    ]
    note = (
        "Agreement computed from the per-annotator judgments of this build, over all splits "
        "(units judged by at least two annotators). The pairwise figures come from the metric's "
        "`human_reference` (split `all`), the same function behind the leaderboard's human row; "
        '3 labels means accepted / uncertain / rejected. "not available" means the release has no '
        "per-annotator labels for that stage (for example, only the majority vote is published)."
    )
    return "Inter-annotator agreement:\n\n" + "\n".join(table) + "\n\n" + note + "\n"


def _overlap_section(summary: BuildSummary) -> str:
    """The share of held-out pairing pairs whose attribute and user occur in train."""
    from recenter_bench.loaders.overlap import overlap_lines

    lines = [f"- {line}." for line in overlap_lines(summary.split_overlap)]
    return (
        "**What train already shows.** The pairing splits are by prompt and each user's whole "
        "profile is paired with every one of their prompts, so held-out pairs share attributes "
        "and users with train (computed from this build's rows):\n\n"
        + "\n".join(lines)
        + "\n\nA model that never reads the prompt can therefore score well; `recenter analyze` "
        "prints these figures and the prompt-blind systems' F1 (`attribute-prior`, "
        "`attribute-only`), which the leaderboard shows as a reference for trained rows.\n"
    )


def render_card(summary: BuildSummary) -> str:
    """The full dataset card of one build: YAML header, prose and the build's figures."""
    sections = {
        "build": _build_section(summary),
        "counts": _counts_section(summary),
        "agreement": _agreement_section(summary),
        "overlap": _overlap_section(summary),
    }
    body = MARKER.sub(lambda m: sections[m["name"]], TEMPLATE.read_text(encoding="utf-8"))
    header = card_metadata(summary.counts, summary.num_bytes).to_yaml()
    return f"---\n{header}\n---\n\n{body}"
