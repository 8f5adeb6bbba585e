"""The README's `evaluate` example, run as written (on the preview dataset built by the tests),
gives the numbers the leaderboard shows."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path

from recenter_bench.paths import REPO_ROOT


def python_block_after(heading: str) -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split(heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


def test_the_evaluate_example_passes_groups_and_equals_the_board(
    preview_dataset: Path, tmp_path: Path
):
    code = python_block_after("## Score a system")
    assert 'groups=pairs["prompt_id"]' in code
    code = code.replace('"out/dataset"', repr(str(preview_dataset)))
    out = io.StringIO()
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)  # no path of the example may depend on the checkout
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    f1, low, high = (float(v) for v in out.getvalue().split())
    org_model, run = re.search(r'SUBMISSIONS_DIR / "(\S+)" / "(\S+)"', code).groups()
    results = REPO_ROOT / "submissions" / org_model / run / "results.json"
    board = json.loads(results.read_text(encoding="utf-8"))["scores"]["pairing"]["test"]
    assert (f1, low, high) == tuple(round(board[k], 3) for k in ("f1", "f1_ci_low", "f1_ci_high"))
