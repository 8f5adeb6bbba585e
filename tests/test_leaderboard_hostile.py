"""The Space over a submissions tree holding hostile files (issue 15, item 3): it reads every
folder through the validator's reader, starts, serves HTTP 200, lists each bad folder as
invalid with its first problem, and its memory stays flat."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from leaderboard_harness import free_port
from leaderboard_synthetic import fixture_metadata, stage_scores, write_fixture_tree
from leaderboard_synthetic import write_submission as write_folder

from recenter_bench.leaderboard.app import opening_filters
from recenter_bench.leaderboard.table import load_submissions

# A 499-byte YAML "billion laughs": nine levels of nine aliases (about 4e8 strings if expanded).
ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(
        f"{b}: &{b} [{','.join(['*' + a] * 9)}]\n"
        for a, b in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "model: x\n"
)
ALIAS_BOMB += "#" * (498 - len(ALIAS_BOMB)) + "\n"  # the 499 bytes


def hostile_tree(root: Path) -> dict[str, str]:
    """A fixture tree plus one folder per hostile file; returns folder -> the problem expected."""
    write_fixture_tree(root)
    import random

    rng = random.Random(1)

    def folder(name: str, system_type: str = "prompted LLM", org: str = "evil") -> Path:
        metadata = fixture_metadata(name, org, system_type, stages=["pairing"])
        return write_folder(
            root, f"{org}__{name}", "run1", metadata, {"pairing": stage_scores(rng, "pairing")}
        )

    expected = {}
    deep = folder("deep")
    (deep / "results.json").write_text("[" * 200_000 + "]" * 200_000)
    expected["evil__deep/run1"] = "the limit is"  # refused by its size before parsing
    deeper = folder("nested")
    (deeper / "results.json").write_text("[" * 120_000 + "]" * 120_000)  # under the size cap
    expected["evil__nested/run1"] = "results.json: not valid JSON: RecursionError"
    bomb = folder("bomb")
    (bomb / "metadata.yaml").write_text(ALIAS_BOMB)
    expected["evil__bomb/run1"] = "anchors and aliases are not allowed"
    big = folder("big")
    (big / "results.json").write_text(json.dumps({"scores": {}, "pad": "x" * 2_000_000}))
    expected["evil__big/run1"] = "the limit is"
    duplicate = folder("duplicate")
    (duplicate / "results.json").write_text('{"scores": {}, "scores": {}}')
    expected["evil__duplicate/run1"] = "appears twice"
    fifo = folder("fifo")
    (fifo / "results.json").unlink()
    os.mkfifo(fifo / "results.json")
    expected["evil__fifo/run1"] = "not a regular file"
    zero = folder("zero")
    (zero / "metadata.yaml").unlink()
    os.symlink("/dev/zero", zero / "metadata.yaml")
    expected["evil__zero/run1"] = "symbolic links are not allowed"
    tagged = folder("tagged")
    (tagged / "metadata.yaml").write_text("model: !!python/object/apply:os.system ['true']\n")
    expected["evil__tagged/run1"] = "tags are not allowed"
    folder("human", system_type="human")
    expected["evil__human/run1"] = "reserved for the reference rows"
    folder("baseline", system_type="baseline")
    expected["evil__baseline/run1"] = "reserved for the reference rows"
    script = folder("script")
    (script / "results.json").write_text("<script>alert(1)</script>")
    expected["evil__script/run1"] = "not valid JSON"
    return expected


def test_every_hostile_folder_is_listed_with_its_first_problem(tmp_path):
    expected = hostile_tree(tmp_path)
    loaded, problems = load_submissions(tmp_path)
    assert {s.id for s in loaded}.isdisjoint(expected)
    assert len(loaded) == 7  # the fixture tree's rows, all still shown
    for folder, why in expected.items():
        mine = [p for p in problems if p.startswith(folder + "/")]
        assert len(mine) == 1 and why in mine[0], (folder, mine)
    assert all("\n" not in p and len(p) < 400 for p in problems)


def test_only_project_folders_carry_the_reference_rows(tmp_path):
    """A valid folder with `type: human` cannot move the board's human line (item 8)."""
    write_fixture_tree(tmp_path)
    metadata = fixture_metadata("Human annotators", "acme", "human", stages=["pairing"])
    scores = {"pairing": {"all": {"accuracy": 1.0, "precision": 1.0, "recall": 1.0, "f1": 1.0}}}
    write_folder(tmp_path, "acme__Human-annotators", "paper", metadata, scores)
    loaded, problems = load_submissions(tmp_path)
    humans = [s.id for s in loaded if s.type == "human"]
    assert humans == ["Zhang-et-al-2026__Human-annotators/annotators"]
    assert problems == [
        "acme__Human-annotators/paper/metadata.yaml: type: "
        "'human' is reserved for the reference rows the project makes"
    ]


def _vm(pid: int, key: str) -> int:
    """A /proc/<pid>/status memory figure in KiB (VmHWM: the peak resident set)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {key} for {pid}")


def _serve_and_measure(root: Path, dataset: Path) -> tuple[int, str]:
    """Start `recenter leaderboard` over `root`, ask for the page and every stage's table
    three times, and return (its peak RSS in KiB, the page's HTML)."""
    port = free_port()
    command = [sys.executable, "-m", "recenter_bench.cli", "leaderboard"]
    command += ["--submissions", str(root), "--dataset", str(dataset)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            try:
                page = httpx.get(base, timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the board did not start"
                time.sleep(0.5)
        assert page.status_code == 200
        with httpx.Client(base_url=base, timeout=60) as http:
            for _ in range(3):
                for name in ("overview", "extraction", "pairing", "response_quality"):
                    data = ["all", *opening_filters(name).values()]
                    reply = http.post(f"gradio_api/run/filter_{name}", json={"data": data})
                    assert reply.status_code == 200, reply.text[:200]
                assert http.get("").status_code == 200
        return _vm(server.pid, "VmHWM"), page.text
    finally:
        server.terminate()
        server.wait(30)


def test_the_board_serves_over_hostile_files_with_flat_memory(tmp_path, preview_dataset):
    clean, hostile = tmp_path / "clean", tmp_path / "hostile"
    write_fixture_tree(clean)
    expected = hostile_tree(hostile)
    clean_peak, _ = _serve_and_measure(clean, preview_dataset)
    hostile_peak, page = _serve_and_measure(hostile, preview_dataset)
    # Each bad folder is named on the page (as escaped text) with its problem.
    assert f"{len(expected)} submission folder(s) are invalid" in page
    assert "<script>alert(1)</script>" not in page
    # The alias bomb grew main's process to ~3 GB: here the peak stays near the clean one.
    assert hostile_peak - clean_peak < 200 * 1024, (clean_peak, hostile_peak)
