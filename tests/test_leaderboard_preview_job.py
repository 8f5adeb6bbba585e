"""Issue 15: a preview parses its upload once (the rows the check scored are the rows placed on
the board) and gives what parsing it twice gave: the same messages, scores and predictions."""

from __future__ import annotations

from pathlib import Path

import pytest

from recenter_bench.leaderboard.preview_worker import preview_job
from recenter_bench.leaderboard.ranking import predictions_of
from recenter_bench.paths import SUBMISSIONS_DIR
from recenter_bench.review import STAGE_FILES, preview_submission
from recenter_bench.review.check_predictions import stage_rows

COMMITTED = sorted(
    path for path in SUBMISSIONS_DIR.glob("*/*/*.jsonl") if path.name in STAGE_FILES
)[:3]


def parsed_twice(contents: dict[str, bytes], dataset: str) -> tuple:
    """The preview as computed before issue 15: check and score, then parse each stage file
    again (`stage_rows`) for its predictions."""
    messages, scores = preview_submission(contents, dataset)
    predictions = {}
    if scores is not None:
        for name, stage in STAGE_FILES.items():
            if name in contents:
                predictions[stage] = predictions_of(stage, stage_rows(stage, contents[name]))
    return messages, scores, predictions


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(SUBMISSIONS_DIR)))
def test_a_committed_file_previews_as_before(path: Path, preview_dataset: Path):
    contents = {path.name: path.read_bytes()}
    messages, scores, predictions = preview_job(contents, str(preview_dataset))
    assert not messages and scores is not None and predictions
    assert (messages, scores, predictions) == parsed_twice(contents, str(preview_dataset))


def test_a_file_with_problems_previews_as_before(preview_dataset: Path):
    (path, *_) = COMMITTED
    lines = path.read_bytes().splitlines(keepends=True)
    broken = b"".join([lines[0], b'{"pair_id": 3, "relevant": "yes"}\n', *lines[2:]])
    contents = {path.name: broken}
    messages, scores, predictions = preview_job(contents, str(preview_dataset))
    assert scores is None and predictions == {} and messages
    assert (messages, scores, predictions) == parsed_twice(contents, str(preview_dataset))
