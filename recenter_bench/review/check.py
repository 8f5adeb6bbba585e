"""Step 2, check a submission: one submission's files -> every problem, one line each.

`check_files` is the single check behind the CLI, CI, the repository tests and the Space's
Submit tab, whichever way the bytes arrived (a folder, a Hub pull request, an upload). It runs
the checks of each file (metadata.yaml, each `<stage>.jsonl`, results.json) and, once they all
pass, compares a committed results.json with what the predictions earn (step 3, `score`).
Each file's checks are in the module named for it: `check_metadata`, `check_predictions`
(each `<stage>.jsonl`), `check_raw_answers`, `check_results` (results.json), with their schema
problems worded by `check_schema`; `check_tree` checks what no single submission can see, the
submissions/ tree as a whole.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from recenter_bench.review.check_metadata import check_metadata, revision_problems
from recenter_bench.review.check_predictions import check_stage_files
from recenter_bench.review.check_raw_answers import check_raw_answers
from recenter_bench.review.check_results import check_results_file
from recenter_bench.review.dataset import Reference
from recenter_bench.review.files import (
    ALLOWED_FILES,
    METADATA_FILE,
    RAW_ANSWERS_FILE,
    RESULTS_FILE,
    Problems,
    max_bytes,
    show_name,
    submission_id,
    too_big,
    unexpected_file,
)
from recenter_bench.review.read import Document
from recenter_bench.review.score import compute_results, results_differences


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
    found: Sequence[str] = (),
) -> Checked:
    """Check a submission given as {file name: bytes}.

    `identity` is the (`<org>__<model>`, `<run>`) folder the files came from (None for an
    upload); `check_results` compares a present results.json with what the predictions earn;
    `require_results` makes a missing results.json a problem (CI and `submit`); `rejected`
    names files that exist but were already refused (links, oversized), so they are not also
    reported missing; `found` holds problems already found reading them (listed first).
    At most MAX_PROBLEMS problems are listed; a last line counts the others.
    """
    checked = Checked(files=dict(files))
    problems = Problems()
    problems.extend(found)
    present = set(files) | set(rejected)
    ok: dict[str, bytes] = {}
    for name, data in files.items():
        if name not in ALLOWED_FILES:
            problems.add(label(show_name(name)), None, None, unexpected_file())
        elif len(data) > max_bytes(name):
            problems.add(label(name), None, None, too_big(len(data), name))
        else:
            ok[name] = data

    if METADATA_FILE in ok:
        checked.metadata_doc, metadata_problems = check_metadata(ok[METADATA_FILE], label, identity)
        problems.extend(metadata_problems)
    elif require_metadata and METADATA_FILE not in present:
        message = "missing; every submission needs one (see submissions/README.md)"
        problems.add(label(METADATA_FILE), None, None, message)
    metadata = checked.metadata
    reported = (metadata or {}).get("provenance") == "reported"
    if checked.metadata_doc is not None:
        problems.extend(revision_problems(checked.metadata_doc, label(METADATA_FILE), reference))

    check_stage_files(checked, problems, ok, present, reference, label, reported)
    if RAW_ANSWERS_FILE in ok:
        check_raw_answers(label(RAW_ANSWERS_FILE), ok[RAW_ANSWERS_FILE], reference, problems)

    if RESULTS_FILE in ok:
        checked.results_doc, results_problems = check_results_file(
            ok[RESULTS_FILE], label(RESULTS_FILE), metadata, identity
        )
        problems.extend(results_problems)
    elif RESULTS_FILE not in present and (reported or require_results):
        why = (
            "a reported submission holds the paper's numbers in it"
            if reported
            else "run `recenter score FOLDER --write` to write it"
        )
        problems.add(label(RESULTS_FILE), None, None, f"missing; {why}")

    # Compare with what the predictions earn only once everything else is right: scores of
    # broken predictions would only add noise to the messages.
    comparable = metadata is not None and checked.results is not None and not reported
    if check_results and comparable and not problems and not rejected:
        checked.expected = compute_results(submission_id(identity), checked.predictions, reference)
        problems.extend(
            results_differences(
                checked.results, checked.expected, label(RESULTS_FILE), checked.results_doc
            )
        )
    checked.problems = problems.report()
    return checked
