"""Check metadata.yaml: its schema, the types reserved for the project's rows, the folder name
its org and model imply, and the dataset revision it names."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from recenter_bench.metric.recenter_personalization import recenter_personalization as metric
from recenter_bench.paths import load_schema
from recenter_bench.review.check_schema import field_is_valid, schema_problems
from recenter_bench.review.dataset import Reference
from recenter_bench.review.files import (
    HUMAN_FOLDER,
    METADATA_FILE,
    PROJECT_ORG,
    RESERVED_TYPES,
    RUN_NAME,
    folder_name,
    problem,
    show,
    show_name,
    stages,
)
from recenter_bench.review.parsed import Document

METADATA_SCHEMA = "submission_metadata"


def check_metadata(
    doc: Document, label: Callable[[str], str], identity: tuple[str, str] | None
) -> list[str]:
    """The problems of a parsed metadata.yaml: its schema, a reserved type, its folder name."""
    name = label(METADATA_FILE)
    problems = schema_problems(METADATA_SCHEMA, doc.data, name, doc.line)
    problems += reserved_type_problems(doc, name, identity)
    if identity is not None:
        problems += _folder_problems(doc, name, label(""), identity)
    return problems


def reserved_folders(system_type: str) -> set[str]:
    """The `<org>__<model>` folders that may hold a type reserved for the project's rows."""
    if system_type == "human":
        return {HUMAN_FOLDER}
    return {folder_name(PROJECT_ORG, name) for name in metric.BASELINES}


def reserved_type_problems(doc: Document, name: str, identity: tuple[str, str] | None) -> list[str]:
    """`type: human` and `type: baseline` mark the rows the project makes from the dataset (the
    board's human line and no-skill lines); any other folder, and every upload, is refused."""
    system_type = doc.data.get("type")
    if system_type not in RESERVED_TYPES:
        return []
    if identity is not None and identity[0] in reserved_folders(system_type):
        return []
    kinds = load_schema(METADATA_SCHEMA)["properties"]["type"]["enum"]
    allowed = ", ".join(show(k) for k in kinds if k not in RESERVED_TYPES)
    message = (
        f"{show(system_type)} is reserved for the rows the project makes from the dataset; "
        f"a submission's type is one of {allowed}"
    )
    return [problem(name, doc.line(("type",)), "type", message)]


def _folder_problems(doc: Document, name: str, folder: str, identity: tuple[str, str]) -> list[str]:
    org_model, run = identity
    problems = []
    if not RUN_NAME.match(run):
        message = f"{show_name(run)} must be letters, digits and . _ - (at most 100)"
        problems.append(problem(folder, None, "run folder", message))
    org, model = doc.data.get("org"), doc.data.get("model")
    # Only names that passed the schema make a folder name worth comparing.
    if field_is_valid(METADATA_SCHEMA, "org", org) and field_is_valid(
        METADATA_SCHEMA, "model", model
    ):
        expected = folder_name(org, model)
        if org_model != expected:
            message = (
                f"the folder is named {show_name(org_model)!r} but org and model make "
                f"{expected!r}; rename the folder or fix the metadata"
            )
            problems.append(problem(name, doc.line(("model",)), "org/model", message))
    return problems


# A reported row's numbers were printed in a paper, not computed on a dataset revision: its
# dataset_revision names that paper (the project's rows: `arXiv:2606.06614v1`).
PAPER_TAG = re.compile(r"^arXiv:[0-9]{4}\.[0-9]{4,5}v[0-9]+$")


def revision_problems(doc: Document, name: str, reference: Reference) -> list[str]:
    """metadata.yaml's dataset_revision against the dataset the submission is checked on. A
    rescored submission's must be that dataset's revision (a `TODO` or `Infinity` would leave
    its scores tied to no data); a reported one names the paper its numbers come from."""
    revision = doc.data.get("dataset_revision")
    if not field_is_valid(METADATA_SCHEMA, "dataset_revision", revision):
        return []  # the schema's problem line already says what is wrong
    if doc.data.get("provenance") == "reported":
        if PAPER_TAG.match(revision):
            return []
        message = (
            f"says {show(revision)}; a reported submission names the paper its numbers are "
            "printed in, e.g. arXiv:2606.06614v1"
        )
    elif revision != reference.revision:
        message = (
            f"says {show(revision)} but the dataset checked against is revision "
            f"{reference.revision}; make the predictions on that revision, or check against the "
            "dataset they were made on (--dataset)"
        )
    else:
        return []
    return [problem(name, doc.line(("dataset_revision",)), "dataset_revision", message)]


def listed_stages(metadata: dict[str, Any] | None) -> list[str] | None:
    """The stages metadata.yaml lists, or None when it lists none validly."""
    listed = (metadata or {}).get("stages")
    known = stages()
    if isinstance(listed, list) and all(isinstance(s, str) and s in known for s in listed):
        return listed
    return None
