"""Submissions: check a submission, score it with the metric, write its results, open a Hub PR.

A submission is data in a folder, `submissions/<org>__<model>/<run>/`, holding `metadata.yaml`,
one `<config>.jsonl` of predictions per stage it enters, and `results.json` (written by
`recenter score --write`, never by hand). The paper's rows whose predictions are not public are
`provenance: reported`: no predictions, and `results.json` holds the paper's printed numbers.

One code path checks every submission, whoever asks: `check_files` takes the files' bytes (from
a folder, from a Hub pull request or from the Space's upload box) and returns every problem, one
line each (`file:line: field: what is wrong`). The CLI (`validate`, `score`, `submit`), the
GitHub workflow, the repository tests and the leaderboard's Submit tab all end up there, and
every score comes from the metric module; nothing here computes a metric.

Modules, one job each:
- `names`: file names, size limits, folder names;  `messages`: problem lines;
- `dataset`: `--dataset` -> the `Reference` rows;  `parse`: YAML/JSON from untrusted bytes;
- `schema`: schema violations worded for people;  `metadata`, `predictions`, `results_file`:
  the checks of each file;  `check`: `check_files`, all of them together;
- `read`: a folder read from disk safely;  `folder`: validate / score a folder;
  `upload`: the Space's preview;  `results`: scores from the metric, compared with a committed
  results.json;  `write`: atomic writes;  `make`: the files of submissions the project writes;
- `tree`: the submissions/ tree;  `hub`: the Hub pull request;  `commands`: the CLI handlers.
"""

from recenter_bench.submissions.check import Checked, check_files
from recenter_bench.submissions.commands import score_command, submit_command, validate_command
from recenter_bench.submissions.dataset import (
    Reference,
    default_dataset,
    load_reference,
    resolve_dataset,
)
from recenter_bench.submissions.folder import check_folder, score_folder, validate_submission
from recenter_bench.submissions.hub import open_pull_request
from recenter_bench.submissions.make import jsonl_text, metadata_text, submission_files
from recenter_bench.submissions.names import (
    ALLOWED_FILES,
    ID_FIELD,
    MAX_STAGE_FILE_BYTES,
    METADATA_FILE,
    RAW_ANSWERS_FILE,
    RESULTS_FILE,
    STAGE_FILES,
    STAGES,
    folder_name,
    identity_of,
    slug,
)
from recenter_bench.submissions.parse import parse_yaml
from recenter_bench.submissions.read import read_folder
from recenter_bench.submissions.results import (
    compute_results,
    metric_module,
    results_differences,
    results_text,
)
from recenter_bench.submissions.tree import find_submissions, tree_problems
from recenter_bench.submissions.upload import preview_submission
from recenter_bench.submissions.write import write_atomic, write_json_atomic

__all__ = [
    "ALLOWED_FILES",
    "ID_FIELD",
    "MAX_STAGE_FILE_BYTES",
    "METADATA_FILE",
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
    "preview_submission",
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
    "write_atomic",
    "write_json_atomic",
]
