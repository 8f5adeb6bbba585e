"""Step 2, check a submission: one submission's files -> every problem, one line each.

`check_files` is the single check behind the CLI, CI, the repository tests and the Space's
Submit tab, whichever way the bytes arrived (a folder, a Hub pull request, an upload). It takes
what step 1 (`read`) made of the files and runs the checks of each file (metadata.yaml, each
`<stage>.jsonl`, raw_answers.jsonl, results.json); whether a committed results.json equals what
the predictions earn is step 4 (`compare`), after step 3 (`score`).
Each file's checks are in the module named for it: `check_metadata`, `check_predictions`
(each `<stage>.jsonl`), `check_raw_answers`, `check_results` (results.json), with their schema
problems worded by `check_schema`; `check_tree` checks what no single submission can see, the
submissions/ tree as a whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from recenter_bench.review.check_metadata import check_metadata, revision_problems
from recenter_bench.review.check_predictions import check_stage_files
from recenter_bench.review.check_raw_answers import check_raw_answers
from recenter_bench.review.check_results import check_results_file
from recenter_bench.review.dataset import Reference
from recenter_bench.review.files import (
    METADATA_FILE,
    RAW_ANSWERS_FILE,
    RESULTS_FILE,
    Problems,
)
from recenter_bench.review.model import Results
from recenter_bench.review.parsed import Document
from recenter_bench.review.read import ReadFiles


@dataclass
class Checked:
    """What a check found: the problems, and the parsed parts for scoring (plain fields, so a
    later step reads them without calling back into the check)."""

    files: dict[str, bytes]
    problems: list[str] = field(default_factory=list)
    predictions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    metadata_doc: Document | None = None
    results_doc: Document | None = None
    # metadata.yaml as parsed (possibly with schema problems), or None.
    metadata: dict[str, Any] | None = None
    # results.json when it satisfies its schema, else None.
    results: Results | None = None
    # Whether results.json is worth comparing with what the predictions earn: every other
    # check passed (scores of broken predictions would only add noise to the messages), and
    # it is rescored (a reported row holds the paper's numbers).
    comparable: bool = False
    # What the predictions earn, when the flow computed it to compare with results.json.
    expected: Results | None = None


def check_files(
    read: ReadFiles,
    reference: Reference,
    *,
    label: Callable[[str], str] = str,
    identity: tuple[str, str] | None = None,
    require_metadata: bool = True,
    require_results: bool = False,
) -> Checked:
    """Check a submission as step 1 (`read`) handed it over: every problem, one line each.

    `identity` is the (`<org>__<model>`, `<run>`) folder the files came from (None for an
    upload); `require_results` makes a missing results.json a problem (CI and `submit`).
    At most MAX_PROBLEMS problems are listed; a last line counts the others.
    """
    if read.unreadable:
        return Checked(files={}, problems=list(read.problems))
    checked = Checked(files=read.files)
    problems = Problems()
    problems.extend(read.problems)
    present = set(read.files) | read.rejected
    texts = read.texts

    if METADATA_FILE in texts:
        problems.extend(read.parse_problems[METADATA_FILE])
        checked.metadata_doc = read.documents.get(METADATA_FILE)
        if checked.metadata_doc is not None:
            problems.extend(check_metadata(checked.metadata_doc, label, identity))
    elif require_metadata and METADATA_FILE not in present:
        message = "missing; every submission needs one (see submissions/README.md)"
        problems.add(label(METADATA_FILE), None, None, message)
    metadata = checked.metadata = checked.metadata_doc.data if checked.metadata_doc else None
    reported = (metadata or {}).get("provenance") == "reported"
    if checked.metadata_doc is not None:
        problems.extend(revision_problems(checked.metadata_doc, label(METADATA_FILE), reference))

    check_stage_files(checked, problems, read, present, reference, label, reported)
    if RAW_ANSWERS_FILE in texts:
        problems.extend(read.parse_problems[RAW_ANSWERS_FILE])
        check_raw_answers(label(RAW_ANSWERS_FILE), texts[RAW_ANSWERS_FILE], reference, problems)

    if RESULTS_FILE in texts:
        problems.extend(read.parse_problems[RESULTS_FILE])
        if RESULTS_FILE in read.documents:
            checked.results_doc, results_problems = check_results_file(
                read.documents[RESULTS_FILE], label(RESULTS_FILE), metadata, identity
            )
            problems.extend(results_problems)
    elif RESULTS_FILE not in present and (reported or require_results):
        why = (
            "a reported submission holds the paper's numbers in it"
            if reported
            else "run `recenter score FOLDER --write` to write it"
        )
        problems.add(label(RESULTS_FILE), None, None, f"missing; {why}")
    checked.results = Results.from_dict(checked.results_doc.data) if checked.results_doc else None
    checked.comparable = (
        metadata is not None
        and checked.results is not None
        and not reported
        and not problems
        and not read.rejected
    )
    checked.problems = problems.report()
    return checked
