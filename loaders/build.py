"""`recenter build`: a release in the export layout -> a Hub-ready dataset folder, atomically.

Everything is read and checked first; the folder is then written through
`recenter_bench.atomic.replacing_folder`, so a failed or killed build leaves no output, and an
existing dataset folder is either kept whole or replaced whole (never absent in between).

Replacing: an existing `out` is replaced only when it holds nothing but a previous build
(`README.md`, `eval.yaml`, `data/`); any other folder is refused, so a mistyped `--out` cannot
delete someone's files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from recenter_bench.atomic import replacing_folder
from recenter_bench.errors import UserError, ValidationFailed, first_line
from recenter_bench.loaders import agreement, card
from recenter_bench.loaders.annotations import Judgments, read_judgments
from recenter_bench.loaders.overlap import split_overlap
from recenter_bench.loaders.release import read_release
from recenter_bench.loaders.rows import Rows, make_rows
from recenter_bench.loaders.schemas import CONFIGS, features, validate_rows

# The metric decides what counts as a label (see loaders/agreement.py on why loaders may import it).
from recenter_bench.metric.recenter_personalization import STAGES as SCORED_STAGES
from recenter_bench.metric.recenter_personalization import reference_value

# The paper's counts (arXiv 2606.06614, section 3): conversations and judgments per stage.
PAPER_COUNTS = {
    "conversations": 550,
    "extraction judgments": 5949,
    "pairing judgments": 11919,
    "response_quality judgments": 1101,
}
BUILD_ENTRIES = frozenset({"README.md", "eval.yaml", "data"})


@dataclass
class BuildSummary:
    """What a build produced: the figures `recenter build` prints and tests assert on."""

    out: Path
    counts: dict[str, dict[str, int]]  # config -> split -> rows
    unlabelled: dict[str, int]  # config -> rows without human judgments
    judgments: dict[str, int]  # config -> individual human judgments in the release
    annotators: dict[str, int]  # config -> annotator export files
    majority_only: int  # pairing rows labelled by the published majority alone (no votes)
    pairs_left_out: list[str]  # pairs with neither votes nor a published majority
    majority_disagreements: int  # pairs whose votes contradict the published majority
    conversations_with_text: int
    wildchat_hydrated: int | None  # None when no --wildchat source was given
    agreement: dict[str, dict[str, float | None]] = field(default_factory=dict)
    paper_counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # found, expected
    num_bytes: dict[str, dict[str, int]] = field(default_factory=dict)  # config -> split -> Arrow
    split_overlap: dict[str, dict[str, float | int]] = field(default_factory=dict)  # overlap.py

    def total(self, config: str) -> int:
        return sum(self.counts[config].values())

    def lines(self) -> list[str]:
        """A human-readable summary, one fact per line."""
        out = [f"built {self.out}"]
        for config in CONFIGS:
            splits = ", ".join(f"{split} {n:,}" for split, n in self.counts[config].items())
            out.append(f"  {config}: {self.total(config):,} rows ({splits})")
        out.append(
            f"  conversations with text: {self.conversations_with_text:,} of "
            f"{self.total('conversations'):,}"
            + (
                ""
                if self.wildchat_hydrated is None
                else f" ({self.wildchat_hydrated:,} joined from WildChat)"
            )
        )
        for config in CONFIGS[1:]:
            out.append(
                f"  {config}: {self.unlabelled[config]:,} unlabelled rows, "
                f"{self.judgments[config]:,} human judgments from "
                f"{self.annotators[config]} annotator file(s)"
            )
        out.append(
            f"  pairing: {self.majority_only:,} rows labelled by the published majority only "
            "(no per-annotator votes)"
        )
        out.append(f"  pairing: {len(self.pairs_left_out)} pair(s) left out for missing labels")
        for pair in self.pairs_left_out:
            out.append(f"    left out: {pair}")
        if self.majority_disagreements:
            out.append(
                f"  pairing: {self.majority_disagreements} pair(s) whose annotator votes "
                "disagree with the published majority (the votes were used)"
            )
        for name, (found, expected) in self.paper_counts.items():
            mark = "ok" if found == expected else "differs"
            out.append(f"  paper count {name}: {found:,} (paper {expected:,}) {mark}")
        return out


def _unlabelled(rows: Rows) -> dict[str, int]:
    # "Labelled" means what the metric scores against, so the summary and the scores agree.
    return {
        config: sum(
            1
            for split_rows in rows.splits[config].values()
            for row in split_rows
            if reference_value(config, row) is None
        )
        for config in SCORED_STAGES
    }


def _judgment_counts(judgments: Judgments) -> dict[str, int]:
    return {
        "extraction": sum(len(v) for v in judgments.stage1.values()),
        "pairing": sum(len(v) for v in judgments.stage2.values()),
        "response_quality": sum(len(v) for v in judgments.stage3.values()),
    }


def _paper_counts(summary: BuildSummary) -> dict[str, tuple[int, int]]:
    found = {
        "conversations": summary.total("conversations"),
        "extraction judgments": summary.judgments["extraction"],
        "pairing judgments": summary.judgments["pairing"],
        "response_quality judgments": summary.judgments["response_quality"],
    }
    return {name: (found[name], expected) for name, expected in PAPER_COUNTS.items()}


def write_parquet(rows: list[dict], config: str, path: Path) -> int:
    """Write rows with the config's declared types; same rows -> same bytes. Returns the size
    of the rows in Arrow (what `datasets` reports as a split's `num_bytes`)."""
    schema = features(config).arrow_schema
    table = pa.Table.from_pylist(rows, schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Fixed writer settings: the bytes depend only on the rows (and the pyarrow version).
    pq.write_table(table, path, compression="zstd", compression_level=9, write_statistics=True)
    return table.nbytes


def _check_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: --out: exists and is not a folder")
    if out.is_dir():
        extra = sorted(p.name for p in out.iterdir() if p.name not in BUILD_ENTRIES)
        if extra:
            raise UserError(
                f"{out}: --out: refusing to replace a folder that is not a dataset build "
                f"(it holds {', '.join(extra[:3])}); choose a new or empty folder"
            )
    if out.parent.exists() and not out.parent.is_dir():
        raise UserError(f"{out.parent}: --out: parent is not a folder")


def build_dataset(
    release: Path,
    out: Path,
    wildchat: str | None = None,
    expect_paper_counts: bool = False,
) -> BuildSummary:
    """Build the dataset folder `out` from the release folder `release`.

    Raises `UserError` (and writes nothing) on any bad input; with `expect_paper_counts`,
    raises `ValidationFailed` listing every count found against the paper's unless all match.
    """
    release, out = Path(release), Path(out).absolute()
    _check_out(out)
    read = read_release(release)
    judgments = read_judgments(read)
    rows = make_rows(read, judgments)
    hydrated = None
    if wildchat is not None:
        from recenter_bench.loaders.wildchat import hydrate

        hydrated = hydrate(rows.splits["conversations"]["train"], wildchat)
    for config in CONFIGS:
        for split, split_rows in rows.splits[config].items():
            validate_rows(config, split_rows, f"{release} ({config}/{split})")

    summary = BuildSummary(
        out=out,
        counts={c: {s: len(r) for s, r in rows.splits[c].items()} for c in CONFIGS},
        unlabelled=_unlabelled(rows),
        judgments=_judgment_counts(judgments),
        annotators=dict(judgments.annotators),
        majority_only=sum(
            not row["judgments"] for split in rows.splits["pairing"].values() for row in split
        ),
        pairs_left_out=rows.pairs_left_out,
        majority_disagreements=rows.majority_disagreements,
        conversations_with_text=sum(
            r["text_included"] for r in rows.splits["conversations"]["train"]
        ),
        wildchat_hydrated=hydrated,
        agreement=agreement.stage_agreement(rows.splits),
    )
    summary.paper_counts = _paper_counts(summary)
    summary.split_overlap = split_overlap(rows.splits["pairing"])
    if expect_paper_counts and any(f != e for f, e in summary.paper_counts.values()):
        raise ValidationFailed(
            [
                f"{release}: paper count {name}: found {found:,}, expected {expected:,}"
                + ("" if found == expected else " (differs)")
                for name, (found, expected) in summary.paper_counts.items()
            ]
        )

    try:
        _write_build(out, rows, summary)
    except OSError as error:  # a read-only or full disk: the old build, if any, is kept
        reason = error.strerror or first_line(error)
        raise UserError(f"{out}: --out: cannot write the dataset ({reason})") from None
    return summary


def _write_build(out: Path, rows: Rows, summary: BuildSummary) -> None:
    with replacing_folder(out) as tmp:
        for config in CONFIGS:
            for split, split_rows in rows.splits[config].items():
                path = tmp / "data" / config / f"{split}.parquet"
                summary.num_bytes.setdefault(config, {})[split] = write_parquet(
                    split_rows, config, path
                )
        (tmp / "README.md").write_text(card.render_card(summary), encoding="utf-8")
        (tmp / "eval.yaml").write_text(card.render_eval_yaml(), encoding="utf-8")
