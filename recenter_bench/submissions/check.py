"""One submission's files -> every problem: the single check behind the CLI, CI, the repository
tests and the Space's Submit tab, whichever way the bytes arrived."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from recenter_bench.submissions.dataset import Reference
from recenter_bench.submissions.messages import problem, show_name, too_big, unexpected_file
from recenter_bench.submissions.metadata import check_metadata, listed_stages
from recenter_bench.submissions.names import (
    ALLOWED_FILES,
    METADATA_FILE,
    RESULTS_FILE,
    STAGE_FILES,
    max_bytes,
    submission_id,
)
from recenter_bench.submissions.parse import Document
from recenter_bench.submissions.predictions import check_stage_file
from recenter_bench.submissions.results import compute_results, results_differences
from recenter_bench.submissions.results_file import check_results_file


@dataclass
class Checked:
    """What a check found: the problems, and the parsed parts for scoring."""

    files: dict[str, bytes]
    problems: list[str] = field(default_factory=list)
    predictions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    metadata_doc: Document | None = None
    results_doc: Document | None = None
    # What the predictions earn, when the check computed it to compare with results.json.
    expected: dict[str, Any] | None = None

    @property
    def metadata(self) -> dict[str, Any] | None:
        """metadata.yaml as parsed (possibly with schema problems), or None."""
        return self.metadata_doc.data if self.metadata_doc else None

    @property
    def results(self) -> dict[str, Any] | None:
        """results.json when it satisfies its schema, else None."""
        return self.results_doc.data if self.results_doc else None


def check_files(
    files: Mapping[str, bytes],
    reference: Reference,
    *,
    label: Callable[[str], str] = str,
    identity: tuple[str, str] | None = None,
    check_results: bool = True,
    require_metadata: bool = True,
    require_results: bool = False,
    rejected: Collection[str] = (),
) -> Checked:
    """Check a submission given as {file name: bytes}.

    `identity` is the (`<org>__<model>`, `<run>`) folder the files came from (None for an
    upload); `check_results` compares a present results.json with what the predictions earn;
    `require_results` makes a missing results.json a problem (CI and `submit`); `rejected`
    names files that exist but were already refused (links, oversized), so they are not also
    reported missing.
    """
    checked = Checked(files=dict(files))
    problems = checked.problems
    present = set(files) | set(rejected)
    ok: dict[str, bytes] = {}
    for name, data in files.items():
        if name not in ALLOWED_FILES:
            problems.append(problem(label(show_name(name)), None, None, unexpected_file()))
        elif len(data) > max_bytes(name):
            problems.append(problem(label(name), None, None, too_big(len(data), name)))
        else:
            ok[name] = data

    if METADATA_FILE in ok:
        checked.metadata_doc, found = check_metadata(ok[METADATA_FILE], label, identity)
        problems += found
    elif require_metadata and METADATA_FILE not in present:
        message = "missing; every submission needs one (see submissions/README.md)"
        problems.append(problem(label(METADATA_FILE), None, None, message))
    metadata = checked.metadata
    reported = (metadata or {}).get("provenance") == "reported"

    _check_stage_files(checked, ok, present, reference, label, reported)

    if RESULTS_FILE in ok:
        checked.results_doc, found = check_results_file(
            ok[RESULTS_FILE], label(RESULTS_FILE), metadata, identity
        )
        problems += found
    elif RESULTS_FILE not in present and (reported or require_results):
        why = (
            "a reported submission holds the paper's numbers in it"
            if reported
            else "run `recenter score FOLDER --write` to write it"
        )
        problems.append(problem(label(RESULTS_FILE), None, None, f"missing; {why}"))

    # Compare with what the predictions earn only once everything else is right: scores of
    # broken predictions would only add noise to the messages.
    comparable = metadata is not None and checked.results is not None and not reported
    if check_results and comparable and not problems and not rejected:
        checked.expected = compute_results(submission_id(identity), checked.predictions, reference)
        problems += results_differences(
            checked.results, checked.expected, label(RESULTS_FILE), checked.results_doc
        )
    return checked


def _check_stage_files(
    checked: Checked,
    ok: Mapping[str, bytes],
    present: set[str],
    reference: Reference,
    label: Callable[[str], str],
    reported: bool,
) -> None:
    """Each stage file against the stages metadata.yaml lists, then its own lines."""
    problems = checked.problems
    stages_listed = listed_stages(checked.metadata)
    for name, stage in STAGE_FILES.items():
        if name not in present:
            if stages_listed is not None and stage in stages_listed and not reported:
                line = checked.metadata_doc.line(("stages",)) if checked.metadata_doc else None
                message = f"lists {stage} but {name} is missing"
                problems.append(problem(label(METADATA_FILE), line, "stages", message))
            continue
        if name not in checked.files:
            continue  # refused on disk already
        if reported:
            message = (
                "a reported submission carries no predictions; "
                "remove this file or set provenance: rescored"
            )
            problems.append(problem(label(name), None, None, message))
            continue
        if stages_listed is not None and stage not in stages_listed:
            message = f"{stage} is not listed under stages in {METADATA_FILE}"
            problems.append(problem(label(name), None, None, message))
        if name in ok:
            rows, found = check_stage_file(stage, label(name), ok[name], reference)
            problems += found
            checked.predictions[stage] = rows
