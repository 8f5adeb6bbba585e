"""Review a submission: read, check, score it with the metric, write its results, open a Hub PR.

This package is named `review` so that "submissions" means one thing: the data folder
`submissions/` (installed as `recenter_bench/data/submissions/`), which this code reads.

A submission is data in a folder, `submissions/<org>__<model>/<run>/`, holding `metadata.yaml`,
one `<config>.jsonl` of predictions per stage it enters, and `results.json` (written by
`recenter score --write`, never by hand). The paper's rows whose predictions are not public are
`provenance: reported`: no predictions, and `results.json` holds the paper's printed numbers.

One code path checks every submission, whoever asks: `check_files` takes the files' bytes (from
a folder, from a Hub pull request or from the Space's upload box) and returns every problem, one
line each (`file:line: field: what is wrong`). The CLI (`validate`, `score`, `submit`), the
GitHub workflow, the repository tests and the leaderboard's Submit tab all end up there, and
every score comes from the metric module; nothing here computes a metric.

Modules, in the order a submission passes through them (each step imports only earlier ones,
and a flow enters each step once: tests/test_review_flow.py):
- below every step: `files` (file names, size limits, problem lines) and `parsed` (the
  `Document` and strict JSON decoding read hands check);
- `dataset`: `--dataset` -> the `Reference` rows a submission is checked and scored on;
- `read`: step 1, a folder read from disk and every file decoded and parsed once (`ReadFiles`);
- `check` (`check_files`, `Checked`) with one module per file it checks, `check_metadata`,
  `check_predictions`, `check_raw_answers`, `check_results`, their schema wording in
  `check_schema` (with `flat_schema`, its fast path for valid flat prediction rows), and
  `check_tree` for the submissions/ tree: step 2;
- `score`: step 3, the results.json the predictions earn (every score from the metric);
- `compare`: step 4, where a committed results.json differs from the recomputed one;
- `write`: step 5, the committed text of each file, results.json written atomically, and the
  lines `recenter score` prints;
- `pipeline`: the steps end to end for a folder (`check_folder`, `validate_submission`,
  `score_folder`), bytes (`check_files`), an upload (`preview_submission`) and the project's
  own files (`submission_files`);
- `hub`: the Hub pull request;  `commands`: the CLI handlers;
- `pr_check`, `webhook`: a Hub pull request on the leaderboard Space checked as CI checks one
  (`recenter check-pr`), and the Space's webhook route that runs that check.
"""

from recenter_bench.review.check import Checked
from recenter_bench.review.check_tree import tree_problems
from recenter_bench.review.commands import score_command, submit_command, validate_command
from recenter_bench.review.compare import results_differences
from recenter_bench.review.dataset import (
    Reference,
    default_dataset,
    load_reference,
    resolve_dataset,
)
from recenter_bench.review.files import (
    ALLOWED_FILES,
    ID_FIELD,
    MAX_STAGE_FILE_BYTES,
    METADATA_FILE,
    PROJECT_ORG,
    RAW_ANSWERS_FILE,
    RESULTS_FILE,
    STAGE_FILES,
    STAGES,
    folder_name,
    identity_of,
    slug,
)
from recenter_bench.review.hub import open_pull_request
from recenter_bench.review.model import Results, Submission
from recenter_bench.review.pipeline import (
    check_files,
    check_folder,
    preview_submission,
    preview_with_rows,
    score_folder,
    submission_files,
    validate_submission,
)
from recenter_bench.review.read import (
    find_submissions,
    parse_yaml,
    parse_yaml_value,
    read_folder,
)
from recenter_bench.review.score import compute_results, metric_module
from recenter_bench.review.write import jsonl_text, metadata_text

__all__ = [
    "ALLOWED_FILES",
    "ID_FIELD",
    "MAX_STAGE_FILE_BYTES",
    "METADATA_FILE",
    "PROJECT_ORG",
    "RAW_ANSWERS_FILE",
    "RESULTS_FILE",
    "STAGES",
    "STAGE_FILES",
    "Checked",
    "Reference",
    "Results",
    "Submission",
    "check_files",
    "check_folder",
    "compute_results",
    "default_dataset",
    "find_submissions",
    "folder_name",
    "identity_of",
    "jsonl_text",
    "load_reference",
    "metadata_text",
    "metric_module",
    "open_pull_request",
    "parse_yaml",
    "parse_yaml_value",
    "preview_submission",
    "preview_with_rows",
    "read_folder",
    "resolve_dataset",
    "results_differences",
    "score_command",
    "score_folder",
    "slug",
    "submission_files",
    "submit_command",
    "tree_problems",
    "validate_command",
    "validate_submission",
]
