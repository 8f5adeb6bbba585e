"""What a submission folder holds: its file and folder names, their size limits, and the
problem lines every check reports in (`file:line: field: what`).

The bottom of the review package, below every step: every step (read, check, score, compare,
write, the Hub) names files and reports problems with what is here. The committed text of each
file is the write step's (`write`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from recenter_bench.errors import where
from recenter_bench.metric.recenter_personalization import recenter_personalization as metric

METADATA_FILE = "metadata.yaml"
RESULTS_FILE = "results.json"
# Every answer of an LLM judge made by `recenter run`, kept beside its predictions; not scored.
RAW_ANSWERS_FILE = "raw_answers.jsonl"


# The stages and the ID field of each are the metric's records (the benchmark's one registry),
# read when called: a stage registered after import reaches every step of the review.
def stages() -> tuple[str, ...]:
    """The benchmark's stages, in the records' order (the metric's live view, as a tuple)."""
    return tuple(metric.STAGES)


def id_fields() -> dict[str, str]:
    """{stage: the field naming a row's ID} (the metric's live view, as a dict)."""
    return dict(metric.ID_FIELD)


def stage_files() -> dict[str, str]:
    """{`<stage>.jsonl`: stage}: the prediction file of each stage."""
    return {f"{name}.jsonl": name for name in metric.STAGE_RECORDS}


def allowed_files() -> tuple[str, ...]:
    """Every file a submission folder may hold."""
    return (METADATA_FILE, *stage_files(), RAW_ANSWERS_FILE, RESULTS_FILE)


# The same, as the shipped stages make them at import: for code outside the review package
# that names the files of a submission (the Space's upload limits, the runner); the review's
# steps call the functions above.
STAGES: tuple[str, ...] = metric.STAGES
ID_FIELD: dict[str, str] = metric.ID_FIELD
STAGE_FILES = stage_files()
ALLOWED_FILES: tuple[str, ...] = allowed_files()
# A full-size stage file (3,973 pairing rows with scores) is about 400 KB; the limits leave
# room for long IDs and scores while keeping a hostile upload from exhausting memory.
# Raw answers of a reasoning judge over the 3,973 pairs can reach tens of MB.
MAX_BYTES = {METADATA_FILE: 64 * 1024, RESULTS_FILE: 256 * 1024, RAW_ANSWERS_FILE: 64 * 1024 * 1024}
MAX_STAGE_FILE_BYTES = 4 * 1024 * 1024
RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
# Types reserved for the rows the project makes from the dataset, and the only `<org>__<model>`
# folders that may hold them: the paper's human annotators, and the no-skill baselines that
# `recenter baseline NAME` writes to `recenter-bench__<NAME>/` (NAME: the metric's BASELINES).
PROJECT_ORG = "recenter-bench"
HUMAN_FOLDER = "Zhang-et-al-2026__Human-annotators"
RESERVED_TYPES = ("human", "baseline")
# The Space's upload box has no folder; its preview is scored under this name.
UPLOAD_ID = "upload__preview/preview"


def max_bytes(name: str) -> int:
    """The size limit of one file of a submission."""
    return MAX_BYTES.get(name, MAX_STAGE_FILE_BYTES)


def slug(name: str) -> str:
    """A display name as it appears in a folder name: runs of other characters become '-'.

    >>> slug("GPT-5.4 + optimized prompt")
    'GPT-5.4-optimized-prompt'
    >>> slug("meta-llama")
    'meta-llama'
    """
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")


def folder_name(org: str, model: str) -> str:
    """`<org>__<model>`: the first folder level of a submission (MTEB's results layout).

    >>> folder_name("openai", "GPT-5.4")
    'openai__GPT-5.4'
    """
    return f"{slug(org)}__{slug(model)}"


def identity_of(folder: Path) -> tuple[str, str]:
    """(`<org>__<model>`, `<run>`) of a submission folder, from its absolute path."""
    absolute = Path(os.path.abspath(folder))
    return absolute.parent.name, absolute.name


def folder_label(folder: Path, name: str) -> str:
    """How problem lines name a file of a submission folder (the folder itself for "")."""
    return str(folder / name) if name else str(folder)


def submission_id(identity: tuple[str, str] | None) -> str:
    """`<org>__<model>/<run>` as results.json names it (the upload's name without a folder).

    >>> submission_id(("openai__GPT-5.4", "paper"))
    'openai__GPT-5.4/paper'
    """
    return "/".join(identity) if identity else UPLOAD_ID


# --------------------------------------------------------------------------------------------
# Problem lines: `file:line: field: what is wrong`, with untrusted text made safe to print
# --------------------------------------------------------------------------------------------


def problem(file: str, line: int | None, field_name: str | None, message: str) -> str:
    """One problem line (the format of `recenter_bench.errors.where`).

    >>> problem("a/pairing.jsonl", 3, "relevant", "must be true or false")
    'a/pairing.jsonl:3: relevant: must be true or false'
    """
    return f"{where(file, line, field_name)}: {message}"


def show(value: Any, limit: int = 60) -> str:
    """Untrusted input quoted on one line of ASCII (control characters and newlines escaped).

    >>> show("a\\nb")
    '"a\\\\nb"'
    """
    try:
        text = json.dumps(value, ensure_ascii=True, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        text = repr(value).encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def show_name(name: str) -> str:
    """A file or field name from disk or an upload, safe to print on one line."""
    shown = name.encode("unicode_escape", errors="backslashreplace").decode("ascii")
    return shown if len(shown) <= 80 else shown[:77] + "..."


# At most this many problem lines are reported for one submission; the rest are counted. A
# hostile file (a million `{}` lines) then costs neither memory per problem nor a huge report.
MAX_PROBLEMS = 50


class Problems:
    """Problem lines under a budget: the first `limit` are kept, later ones only counted (and
    never formatted), and `report()` sums the rest up in one last line. Problems given a `kind`
    (what is wrong, without the value quoted) repeat as one line per file, field and kind that
    counts the lines: strings "yes" and "no" on 3,969 lines are one line, not 50 and a count."""

    def __init__(self, limit: int = MAX_PROBLEMS) -> None:
        self.lines: list[str] = []
        self.more = 0
        self.repeats = 0
        self.limit = limit
        # (file, field, kind) -> [index in lines, first line, first message, lines counted]
        self._kinds: dict[tuple[str, str | None, str], list[Any]] = {}

    def add(
        self,
        file: str,
        line: int | None,
        field_name: str | None,
        message: str,
        kind: str | None = None,
    ) -> None:
        key = (file, field_name, kind or "")
        if kind is not None and key in self._kinds:
            self._kinds[key][3] += 1
            self.repeats += 1
        elif len(self.lines) < self.limit:
            if kind is not None:
                self._kinds[key] = [len(self.lines), line, message, 1]
            self.lines.append(problem(file, line, field_name, message))
        else:
            self.more += 1

    def extend(self, lines: Sequence[str]) -> None:
        """Add problem lines already formatted."""
        room = max(0, self.limit - len(self.lines))
        self.lines += lines[:room]
        self.more += max(0, len(lines) - room)

    def __len__(self) -> int:
        return len(self.lines) + self.more + self.repeats

    def report(self) -> list[str]:
        """The kept lines (a repeated kind as one line counting its lines), then
        `... and K more problem(s)` when some were only counted."""
        lines = list(self.lines)
        for (file, field_name, kind), (index, first, message, count) in self._kinds.items():
            if count > 1:
                quoted = message.removeprefix(kind).strip(" ,;:")
                at = f"first: line {first}" + (f", {quoted}" if quoted else "")
                lines[index] = problem(file, None, field_name, f"{kind} on {count:,} lines ({at})")
        more = [f"... and {self.more:,} more problem(s) not shown"] if self.more else []
        return lines + more


def unexpected_file() -> str:
    return f"unexpected file; a submission holds only {', '.join(allowed_files())}"


def too_big(size: int, name: str) -> str:
    return f"file is {size:,} bytes; the limit is {max_bytes(name):,}"
