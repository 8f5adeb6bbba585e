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

Modules, in the order a submission passes through them (each imports only those above it):
- `files`: what a folder holds: file names, size limits, the committed text of each file,
  problem lines;
- `dataset`: `--dataset` -> the `Reference` rows a submission is checked and scored on;
- `read`: step 1, a folder read from disk and YAML/JSON parsed from untrusted bytes;
- `score`: step 3, the scores the metric gives, compared with a committed results.json;
- `check`: step 2, every check of every file (`check_files`), and of the submissions/ tree;
- `pipeline`: the steps end to end for a folder (`check_folder`, `validate_submission`,
  `score_folder`), an upload (`preview_submission`) and the project's own files
  (`submission_files`); results.json is written by `recenter_bench.atomic`;
- `hub`: step 4, the Hub pull request;  `commands`: the CLI handlers.
"""

from recenter_bench.review.check import Checked, check_files, tree_problems
from recenter_bench.review.commands import score_command, submit_command, validate_command
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
    jsonl_text,
    metadata_text,
    results_text,
    slug,
)
from recenter_bench.review.hub import open_pull_request
from recenter_bench.review.pipeline import (
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
from recenter_bench.review.score import compute_results, metric_module, results_differences

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
    "results_text",
    "score_command",
    "score_folder",
    "slug",
    "submission_files",
    "submit_command",
    "tree_problems",
    "validate_command",
    "validate_submission",
]
