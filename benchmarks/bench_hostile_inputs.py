"""Bounded work for hostile inputs (issue 11): each hostile input against a named peer.

    .venv/bin/python benchmarks/bench_hostile_inputs.py

- the validator (`recenter validate`'s `check_files`, on the preview dataset) on hostile pairing
  files, against a valid pairing file's time scaled to the same size (target: within 10x);
- metadata.yaml nested deep, against PyYAML's pure-Python `yaml.safe_load` (the parser the
  project used before; skipped past depth 5,000, where it takes minutes);
- `recenter build` of a release with a hostile line, against the valid release's build.

Each figure is the best of a few runs in this process (imports and caches are warmed first); the
peak memory (VmHWM) of the whole run is printed last.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from recenter_bench.cli import main  # noqa: E402
from recenter_bench.review import check_files, load_reference  # noqa: E402
from recenter_bench.review.read import parse_yaml  # noqa: E402

VALID = REPO / "submissions" / "recenter-bench__BM25" / "v2"
IDENTITY = (VALID.parent.name, VALID.name)


def best_of(run: Callable[[], object], times: int = 3) -> float:
    best = float("inf")
    for _ in range(times):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def validator() -> None:
    reference = load_reference(None)
    valid = {p.name: p.read_bytes() for p in VALID.iterdir()}
    pairing = valid["pairing.jsonl"]

    def check(files: dict[str, bytes]) -> list[str]:
        return check_files(files, reference, identity=IDENTITY, require_results=True).problems

    assert check(valid) == []
    valid_seconds = best_of(lambda: check(valid))
    per_byte = valid_seconds / sum(map(len, valid.values()))
    print(f"validator, valid submission: {valid_seconds * 1000:.0f} ms ({len(pairing):,} bytes)")
    hostile = {
        "1,000,000 x '{}'": b"{}\n" * 1_000_000,
        "the valid file x 10": pairing * 10,
        "distinct rows '{\"a\":N}'": b"".join(b'{"a":%d}\n' % i for i in range(300_000)),
        "rows with 50 unknown fields": b"".join(
            json.dumps({f"k{j}{i}": 0 for j in range(50)}).encode() + b"\n" for i in range(3_000)
        ),
        "a 100,000-deep line": b"[" * 100_000 + b"]" * 100_000 + b"\n" + pairing,
        "4 MB of one line": b'{"pair_id": "' + b"x" * 4_000_000 + b'"}\n',
        "rows of random bytes": bytes(range(256)) * 10_000,
    }
    print(f"{'hostile pairing.jsonl':32} {'bytes':>11} {'time':>9} {'lines':>6} {'vs valid':>9}")
    for name, data in hostile.items():
        files = {**valid, "pairing.jsonl": data}
        problems = check(files)
        seconds = best_of(lambda files=files: check(files), times=2)
        ratio = seconds / (per_byte * sum(map(len, files.values())))
        print(
            f"{name:32} {len(data):>11,} {seconds * 1000:>7.0f}ms {len(problems):>6} {ratio:>8.1f}x"
        )


def _safe_load(text: str) -> None:
    """The peer: PyYAML's pure-Python safe loader, timed until it returns or gives up."""
    try:
        yaml.safe_load(text)
    except RecursionError:
        pass


def yaml_depth() -> None:
    print(f"\n{'metadata.yaml nested':32} {'parse_yaml':>11} {'yaml.safe_load':>15} {'ratio':>8}")
    for depth in (100, 1_000, 5_000, 30_000):
        text = "a: " + "[" * depth + "]" * depth
        ours = best_of(lambda text=text: parse_yaml("metadata.yaml", text))
        peer = best_of(lambda text=text: _safe_load(text), times=1) if depth <= 5_000 else None
        shown = "skipped" if peer is None else f"{peer * 1000:.0f} ms"
        ratio = "" if peer is None else f"{peer / ours:,.0f}x"
        print(f"{f'{depth:,} deep':32} {ours * 1000:>9.2f}ms {shown:>15} {ratio:>8}")


def build() -> None:
    from tests.fixture_release import make_fixture_release

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pristine = make_fixture_release(root / "pristine")

        def run(release: Path) -> int:
            quiet = contextlib.redirect_stderr(io.StringIO())
            with quiet, contextlib.redirect_stdout(io.StringIO()):
                return main(["build", "--release", str(release), "--out", str(root / "out")])

        run(pristine)
        valid = best_of(lambda: run(pristine))
        print(f"\nrecenter build, valid fixture release: {valid * 1000:.0f} ms")
        items = Path("data/extracted/task6_items.jsonl")
        lines = {
            "a 100,000-deep line": b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
            "an integer of 5,000 digits": b'{"item_index": ' + b"9" * 5_000 + b"}",
            "invalid UTF-8": b'{"a": "\xff\xfe"}',
            "confidence NaN": b'{"confidence": NaN}',
        }
        for name, line in lines.items():
            release = root / "hostile"
            shutil.rmtree(release, ignore_errors=True)
            shutil.copytree(pristine, release)
            (release / items).write_bytes(line + b"\n" + (pristine / items).read_bytes())
            code = run(release)
            seconds = best_of(lambda release=release: run(release))
            print(f"  {name:30} exit {code}, {seconds * 1000:.0f} ms ({seconds / valid:.2f}x)")


def peak_rss_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return -1


if __name__ == "__main__":
    validator()
    yaml_depth()
    build()
    print(f"\npeak memory of this run (VmHWM): {peak_rss_mb()} MB")
