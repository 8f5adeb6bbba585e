"""metadata.yaml: its schema, and the folder name its org and model imply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from recenter_bench.submissions.messages import problem, show_name
from recenter_bench.submissions.names import METADATA_FILE, RUN_NAME, STAGES, folder_name
from recenter_bench.submissions.parse import Document, decode, parse_yaml
from recenter_bench.submissions.schema import field_is_valid, schema_problems

SCHEMA = "submission_metadata"


def check_metadata(
    data: bytes, label: Callable[[str], str], identity: tuple[str, str] | None
) -> tuple[Document | None, list[str]]:
    """(the parsed metadata.yaml, its problems). The document is returned whenever it parsed,
    schema problems or not, so that later checks can still use its valid parts."""
    name = label(METADATA_FILE)
    text, problems = decode(name, data)
    if text is None:
        return None, problems
    doc, parse_problems = parse_yaml(name, text)
    problems += parse_problems
    if doc is None:
        return None, problems
    problems += schema_problems(SCHEMA, doc.data, name, doc.line)
    if identity is not None:
        problems += _folder_problems(doc, name, label(""), identity)
    return doc, problems


def _folder_problems(doc: Document, name: str, folder: str, identity: tuple[str, str]) -> list[str]:
    org_model, run = identity
    problems = []
    if not RUN_NAME.match(run):
        message = f"{show_name(run)} must be letters, digits and . _ - (at most 100)"
        problems.append(problem(folder, None, "run folder", message))
    org, model = doc.data.get("org"), doc.data.get("model")
    # Only names that passed the schema make a folder name worth comparing.
    if field_is_valid(SCHEMA, "org", org) and field_is_valid(SCHEMA, "model", model):
        expected = folder_name(org, model)
        if org_model != expected:
            message = (
                f"the folder is named {show_name(org_model)!r} but org and model make "
                f"{expected!r}; rename the folder or fix the metadata"
            )
            problems.append(problem(name, doc.line(("model",)), "org/model", message))
    return problems


def listed_stages(metadata: dict[str, Any] | None) -> list[str] | None:
    """The stages metadata.yaml lists, or None when it lists none validly."""
    stages = (metadata or {}).get("stages")
    if isinstance(stages, list) and all(isinstance(s, str) and s in STAGES for s in stages):
        return stages
    return None
