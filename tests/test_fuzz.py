"""A fuzz campaign (hypothesis) over the release reader and the submission validator (issue 11).

Every input a mutation makes must end in one-line errors or a success: never a traceback. Each
case is also timed against the valid input it was made from; the slowest ratio is printed at the
end of each campaign (`pytest -s tests/test_fuzz.py`). Timings are not asserted here (a shared
machine would make that flaky): `benchmarks/bench_hostile_inputs.py` measures them.

The examples are derandomized, so a run is reproducible and CI sees the same inputs every time;
set RECENTER_FUZZ_EXAMPLES to explore fresh random inputs.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recenter_bench.cli import main
from recenter_bench.review import Reference, check_files
from recenter_bench.review.files import MAX_PROBLEMS
from recenter_bench.review.read import parse_yaml
from tests.fixture_release import make_fixture_release

# CI runs a fixed, reproducible set of examples; `RECENTER_FUZZ_EXAMPLES=5000` explores new
# random inputs for as many examples as asked.
EXPLORE = int(os.environ.get("RECENTER_FUZZ_EXAMPLES", "0"))


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=EXPLORE or examples,
        deadline=None,
        derandomize=not EXPLORE,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


# Any JSON value, including what Python's json module lets through: NaN, infinities, integers
# of any size, deep-ish nesting, odd keys.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**18, max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a JSON value (the value itself included)."""
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
        out.append((*prefix, "\x00new-key"))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*prefix, index))
    return out


def _replace(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value.get(head), rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


@st.composite
def mutated_text(draw: st.DrawFn, data: bytes, form: str = "jsonl") -> bytes:
    """One mutation of a file: a value replaced somewhere (`form` "jsonl": in one line, "json":
    in the document), or damage to the bytes or lines."""
    lines = data.split(b"\n")
    number = draw(st.integers(0, max(0, len(lines) - 2)))
    kind = draw(
        st.sampled_from(["value", "value", "value", "bytes", "cut", "repeat", "deep", "junk"])
    )
    if kind == "value" and form != "text":
        text = data if form == "json" else lines[number]
        if text.strip():
            record = json.loads(text)
            path = draw(st.sampled_from(_paths(record)))
            new = json.dumps(_replace(record, path, draw(JSON_VALUES)), indent=2).encode()
            if form == "json":
                return new
            lines[number] = new.replace(b"\n", b"")
    elif kind == "bytes":
        at = draw(st.integers(0, len(data)))
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    elif kind == "cut":
        return data[: draw(st.integers(0, len(data)))]
    elif kind == "repeat":
        return data * draw(st.integers(2, 10))
    elif kind == "deep":
        depth = draw(st.sampled_from([40, 1_000, 100_000]))
        lines[number] = b'{"a": ' + b"[" * depth + b"]" * depth + b"}"
    else:
        lines[number] = draw(st.binary(max_size=40))
    return b"\n".join(lines)


# ---- the release reader ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    return make_fixture_release(tmp_path_factory.mktemp("fuzz") / "release")


def _build(release: Path, out: Path) -> tuple[int, str, float]:
    err = io.StringIO()
    start = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["build", "--release", str(release), "--out", str(out)])
    return code, err.getvalue(), time.perf_counter() - start


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


class Timings:
    """The slowest case of a campaign relative to the valid input, scaled to the case's size."""

    def __init__(self, valid_seconds: float, valid_bytes: int) -> None:
        self.valid_seconds, self.valid_bytes = valid_seconds, valid_bytes
        self.worst = (0.0, "")
        self.cases = 0
        self.refused = 0  # cases that ended in one-line errors

    def add(self, seconds: float, size: int, what: str, refused: bool) -> None:
        expected = self.valid_seconds * max(1.0, size / self.valid_bytes)
        self.cases += 1
        self.refused += refused
        self.worst = max(self.worst, (seconds / expected, f"{what}: {seconds * 1000:.0f} ms"))

    def report(self, name: str) -> str:
        ratio, what = self.worst
        return (
            f"{name}: {self.cases} cases ({self.refused} refused, 0 tracebacks); valid input "
            f"{self.valid_seconds * 1000:.0f} ms for {self.valid_bytes:,} bytes; slowest case "
            f"{ratio:.1f}x the valid time ({what})"
        )


def test_fuzz_release_reader(pristine: Path, tmp_path_factory) -> None:
    scratch = tmp_path_factory.mktemp("fuzz-release")
    files = sorted(p.relative_to(pristine) for p in pristine.rglob("*.jsonl"))
    _build(pristine, scratch / "warm")  # imports and caches, outside the timings
    code, err, seconds = _build(pristine, scratch / "valid")
    assert code == 0, err
    timings = Timings(seconds, _size(pristine))

    @fuzz_settings(200)
    @given(st.data())
    def case(data: st.DataObject) -> None:
        release, out = scratch / "release", scratch / "out"
        shutil.rmtree(release, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(pristine, release)
        name = data.draw(st.sampled_from(files))
        target = release / name
        target.write_bytes(data.draw(mutated_text(target.read_bytes())))
        code, err, seconds = _build(release, out)
        assert "Traceback" not in err
        assert code in (0, 1), err
        if code == 1:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), err
            assert not out.exists()
        timings.add(seconds, _size(release), str(name), code == 1)

    case()
    print("\n" + timings.report("release reader"))


# ---- the submission validator ------------------------------------------------------------------

# A committed submission of the project's own (retrieval scores, every pairing row): the valid
# input every mutation starts from.
BASE = Path(__file__).resolve().parent.parent / "submissions" / "recenter-bench__BM25" / "v2"
IDENTITY = (BASE.parent.name, BASE.name)


def _check(files: dict[str, bytes], reference: Reference) -> tuple[list[str], float]:
    start = time.perf_counter()
    checked = check_files(files, reference, identity=IDENTITY, require_results=True)
    return checked.problems, time.perf_counter() - start


def test_fuzz_validator(reference: Reference) -> None:
    valid = {p.name: p.read_bytes() for p in BASE.iterdir()}
    _check(valid, reference)  # warm the caches (schemas, the metric module)
    problems, seconds = _check(valid, reference)
    assert problems == []
    timings = Timings(seconds, sum(map(len, valid.values())))

    @fuzz_settings(100)
    @given(st.data())
    def case(data: st.DataObject) -> None:
        files = dict(valid)
        name = data.draw(st.sampled_from(sorted(files)))
        if name == "metadata.yaml" and data.draw(st.booleans()):
            files[name] = data.draw(yaml_texts).encode("utf-8", "surrogatepass")
        else:
            form = {"metadata.yaml": "text", "results.json": "json"}.get(name, "jsonl")
            files[name] = data.draw(mutated_text(files[name], form))
        problems, seconds = _check(files, reference)
        assert len(problems) <= MAX_PROBLEMS + 1
        assert all("\n" not in p and "\r" not in p for p in problems)
        timings.add(seconds, sum(map(len, files.values())), name, bool(problems))

    case()
    print("\n" + timings.report("validator"))


# YAML-looking text: the characters that drive YAML's grammar, in any order.
yaml_texts = st.text(
    alphabet=st.sampled_from(list("ab1 :-[]{},&*!|>'\"#?\n\t%@`\\.") + ["\u2028", "\x85"]),
    max_size=200,
)


@fuzz_settings(300)
@given(yaml_texts)
def test_fuzz_yaml_parser(text: str) -> None:
    doc, problems = parse_yaml("metadata.yaml", text)
    assert (doc is None) == bool(problems) or problems  # a document, or a reason there is none
    assert all(p.startswith("metadata.yaml") and "\n" not in p for p in problems)
