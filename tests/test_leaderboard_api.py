"""The Space's API under malformed calls (issue 15, item 9): one line and a 4xx, no traceback
in the log, and only valid JSON in its answers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from leaderboard_harness import preview_answer, serve
from leaderboard_synthetic import committed_run, write_fixture_tree

from recenter_bench.leaderboard.app import build_app, opening_filters
from recenter_bench.paths import SUBMISSIONS_DIR


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory, preview_dataset: Path):
    root = tmp_path_factory.mktemp("submissions")
    write_fixture_tree(root)
    with serve(build_app(root, dataset=str(preview_dataset))) as base:
        yield base


def strict_json(text: str):
    """Parse as a strict JSON parser would: NaN and Infinity are errors."""

    def refuse(constant: str):
        raise ValueError(f"bare {constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


FILTERS = list(opening_filters("pairing").values())
MALFORMED = {
    "too few values": ("filter_pairing", ["bogus"]),
    "no values": ("filter_pairing", []),
    "a split that is not one": ("filter_pairing", ["bogus", *FILTERS]),
    "a number for text": ("filter_pairing", ["all", 5, *FILTERS[1:]]),
    "a type that is not one": ("filter_pairing", ["all", "", ["x"], *FILTERS[2:]]),
    "no list for a group": ("filter_pairing", ["all", "", None, *FILTERS[2:]]),
    "an unknown submission": ("inspect", ["nope", "pairing", "test"]),
    "an unknown stage": ("inspect", [committed_run(), "bogus", "test"]),
    "a file of the server's disk": (
        "preview",
        [[{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}]],
    ),
    "text for files": ("preview", ["notalist"]),
}


@pytest.mark.parametrize("route", ["call", "run"])
def test_malformed_calls_get_one_line_and_400_without_a_traceback(url, route, capfd):
    capfd.readouterr()
    with httpx.Client(base_url=url, timeout=60) as http:
        for case, (endpoint, data) in MALFORMED.items():
            reply = http.post(f"gradio_api/{route}/{endpoint}", json={"data": data})
            assert reply.status_code == 400, (case, reply.status_code, reply.text[:300])
            assert "\n" not in reply.text and len(reply.text) < 300, case
            assert "passwd" not in reply.text and "bogus" not in reply.text, case
            assert strict_json(reply.text)["error"].startswith(endpoint), case
        for body in (b"{", b'{"data": "x"}', b"[]"):
            reply = http.post(
                f"gradio_api/{route}/filter_pairing",
                content=body,
                headers={"content-type": "application/json"},
            )
            assert reply.status_code == 400 and len(reply.text) < 300, reply.text[:300]
    logged = capfd.readouterr()
    assert "Traceback" not in logged.err + logged.out


def test_answers_are_valid_json_without_nan(url):
    """`/gradio_api/call/preview` emitted a bare NaN (a score undefined on a split)."""
    stage_file = SUBMISSIONS_DIR / committed_run() / "pairing.jsonl"
    messages, scores, _ = strict_json(preview_answer(url, stage_file))
    with httpx.Client(base_url=url, timeout=300) as http:
        ran = http.post("gradio_api/run/filter_pairing", json={"data": ["train", *FILTERS]})
    assert messages == "No problems found."
    values = [row[3] for row in scores["data"]]
    assert None in values and all(v is None or isinstance(v, float) for v in values)
    assert ran.status_code == 200 and strict_json(ran.text)
