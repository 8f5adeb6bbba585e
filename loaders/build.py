"""`recenter build`: a release in the export layout -> a Hub-ready dataset folder, atomically.

Everything is read and checked first; the folder is then written through
`recenter_bench.atomic.replacing_folder`, so a failed or killed build leaves no output, and an
existing dataset folder is either kept whole or replaced whole (never absent in between).

Replacing: every build holds a manifest (`.recenter-build.json`: each file's path and
sha256). An existing `out` is replaced only when it is empty, or a build whose files are exactly
those its manifest lists, unchanged; any other folder is refused, so a mistyped `--out` cannot
delete someone's files. `--out` may not be, hold or lie inside `--release`, nor be the current
folder or one holding it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from recenter_bench.atomic import replacing_folder
from recenter_bench.errors import UserError, ValidationFailed, first_line, printable
from recenter_bench.loaders import agreement, card
from recenter_bench.loaders.annotations import Judgments, read_judgments
from recenter_bench.loaders.overlap import split_overlap
from recenter_bench.loaders.release import read_release
from recenter_bench.loaders.rows import Rows, make_rows
from recenter_bench.loaders.schemas import CONFIGS, features, validate_rows

# The metric decides what counts as a label (see loaders/agreement.py on why loaders may import it).
from recenter_bench.metric.recenter_personalization import STAGE_RECORDS, reference_value
from recenter_bench.metric.recenter_personalization import STAGES as SCORED_STAGES

# The paper's counts (arXiv 2606.06614, section 3): conversations and judgments per stage.
PAPER_COUNTS = {
    "conversations": 550,
    "extraction judgments": 5949,
    "pairing judgments": 11919,
    "response_quality judgments": 1101,
}
# The build's own list of its files: what marks a folder as one `recenter build` made.
MANIFEST = ".recenter-build.json"
MAX_MANIFEST_BYTES = 1024 * 1024


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
    # The release numbers its judgment files by the paper's stage (`Stage.number`).
    return {
        name: sum(len(v) for v in getattr(judgments, f"stage{record.number}").values())
        for name, record in STAGE_RECORDS.items()
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


def _inside(path: Path, folder: Path) -> bool:
    """Whether `path` is `folder` or lies inside it (both resolved)."""
    return path == folder or folder in path.parents


def _check_out(out: Path, release: Path) -> None:
    """Refuse an `--out` that the build may not replace (see the module's docstring)."""
    resolved, source, here = (Path(os.path.realpath(p)) for p in (out, release, Path.cwd()))
    if _inside(here, resolved):
        raise UserError(
            f"{out}: --out: is the current folder or holds it; choose a new folder for the build"
        )
    if _inside(resolved, source):
        raise UserError(
            f"{out}: --out: is or lies inside --release {release}; choose another folder"
        )
    if _inside(source, resolved):
        raise UserError(f"{out}: --out: holds --release {release}; choose another folder")
    if out.is_symlink():
        raise UserError(f"{out}: --out: is a symbolic link; choose a new or empty folder")
    if out.exists() and not out.is_dir():
        raise UserError(f"{out}: --out: exists and is not a folder")
    if out.parent.exists() and not out.parent.is_dir():
        raise UserError(f"{out.parent}: --out: parent is not a folder")
    if out.is_dir():
        why = _changed_build(out)
        if why:
            raise UserError(
                f"{out}: --out: refusing to replace a folder that is not an unchanged dataset "
                f"build ({why}); choose a new or empty folder"
            )


def manifest_of(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under `folder` but the manifest itself."""
    files = {}
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = Path(root, name)
            relative = path.relative_to(folder).as_posix()
            if relative != MANIFEST:
                files[relative] = _sha256(path)
    return files


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def manifest_text(folder: Path) -> str:
    """The manifest of a finished build: same files, same text."""
    record = {"made_by": "recenter build", "files": manifest_of(folder)}
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


def _listed_files(out: Path) -> dict[str, str] | None:
    """The files an existing folder's manifest lists, or None when it has no readable one."""
    path = out / MANIFEST
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_MANIFEST_BYTES:
        return None
    try:
        record = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    files = record.get("files") if isinstance(record, dict) else None
    if record.get("made_by") != "recenter build" or not isinstance(files, dict):
        return None
    return files


def _changed_build(out: Path) -> str | None:
    """Why the existing folder `out` is not a build to replace, or None when it is one (or
    empty). Every entry is looked at without following links; nothing is written."""
    try:
        return _differences(out)
    except OSError as error:
        return f"{error.filename or out}: {error.strerror or 'cannot be read'}"


def _differences(out: Path) -> str | None:
    with os.scandir(out) as entries:
        some = sorted(entry.name for entry in itertools.islice(entries, 3))
    if not some:
        return None
    listed = _listed_files(out)
    if listed is None:
        return f"it holds {printable(', '.join(some))} and no {MANIFEST}"
    found = 0
    for root, dirs, names in os.walk(out):
        for name in sorted(dirs + names):
            path = Path(root, name)
            relative = path.relative_to(out).as_posix()
            if path.is_symlink() or not (path.is_dir() or path.is_file()):
                return f"{printable(relative)} is not a regular file or folder"
            if path.is_file() and relative != MANIFEST:
                found += 1
                if relative not in listed:
                    return f"{printable(relative)} is not one of the build's files"
                if _sha256(path) != listed[relative]:
                    return f"{printable(relative)} changed since the build"
    if found != len(listed):
        return "files of the build are missing"
    return None


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
    _check_out(out, release)
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
        _write_build(out, release, rows, summary)
    except OSError as error:  # a read-only or full disk: the old build, if any, is kept
        reason = error.strerror or first_line(error)
        raise UserError(f"{out}: --out: cannot write the dataset ({reason})") from None
    return summary


def _write_build(out: Path, release: Path, rows: Rows, summary: BuildSummary) -> None:
    with replacing_folder(out) as tmp:
        for config in CONFIGS:
            for split, split_rows in rows.splits[config].items():
                path = tmp / "data" / config / f"{split}.parquet"
                summary.num_bytes.setdefault(config, {})[split] = write_parquet(
                    split_rows, config, path
                )
        (tmp / "README.md").write_text(card.render_card(summary), encoding="utf-8")
        (tmp / "eval.yaml").write_text(card.render_eval_yaml(), encoding="utf-8")
        (tmp / MANIFEST).write_text(manifest_text(tmp), encoding="utf-8")
        _check_out(out, release)  # again: the folder may have changed while the build ran
