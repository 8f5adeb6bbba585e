"""What a submission folder is called and holds: file names, size limits, folder names."""

from __future__ import annotations

import os
import re
from pathlib import Path

STAGES: tuple[str, ...] = ("extraction", "pairing", "response_quality")
ID_FIELD = {"extraction": "attribute_id", "pairing": "pair_id", "response_quality": "rating_id"}
METADATA_FILE = "metadata.yaml"
RESULTS_FILE = "results.json"
STAGE_FILES = {f"{stage}.jsonl": stage for stage in STAGES}
# Every answer of an LLM judge made by `recenter run`, kept beside its predictions; not scored.
RAW_ANSWERS_FILE = "raw_answers.jsonl"
ALLOWED_FILES: tuple[str, ...] = (METADATA_FILE, *STAGE_FILES, RAW_ANSWERS_FILE, RESULTS_FILE)
# A full-size stage file (3,973 pairing rows with scores) is about 400 KB; the limits leave
# room for long IDs and scores while keeping a hostile upload from exhausting memory.
# Raw answers of a reasoning judge over the 3,973 pairs can reach tens of MB.
MAX_BYTES = {METADATA_FILE: 64 * 1024, RESULTS_FILE: 256 * 1024, RAW_ANSWERS_FILE: 64 * 1024 * 1024}
MAX_STAGE_FILE_BYTES = 4 * 1024 * 1024
RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
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


def submission_id(identity: tuple[str, str] | None) -> str:
    """`<org>__<model>/<run>` as results.json names it (the upload's name without a folder).

    >>> submission_id(("openai__GPT-5.4", "paper"))
    'openai__GPT-5.4/paper'
    """
    return "/".join(identity) if identity else UPLOAD_ID
