"""Every submission input gets bounded work and a bounded report (issue 11, items 1, 2, 4, 8, 10).

Each test starts from the valid submission of `test_submissions_bad` and reproduces one finding
of the issue through the real CLI (`recenter validate` / `score`), with the measured figure
printed (`pytest -s` shows them).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from recenter_bench.cli import main
from recenter_bench.review import Reference, check_files
from recenter_bench.review.files import MAX_PROBLEMS
from recenter_bench.review.read import parse_yaml
from tests.test_atomic import _kill, _run_until_paused
from tests.test_submissions_bad import ALLOWED, PAPER, make_base, write_metadata


@pytest.fixture
def base(tmp_path: Path, reference: Reference):
    ctx, results = make_base(tmp_path, reference)
    return ctx


def _validate(folder: Path, dataset: Path, capsys, *extra: str) -> tuple[int, list[str], float]:
    capsys.readouterr()
    start = time.perf_counter()
    code = main(["validate", str(folder), "--dataset", str(dataset), *extra])
    seconds = time.perf_counter() - start
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, err.splitlines(), seconds


# -- item 1: a cap on reported problems, linear work ---------------------------------------------


def test_a_million_empty_rows_get_a_bounded_report(base, preview_dataset, capsys) -> None:
    pairing = base.dir / "pairing.jsonl"
    valid_seconds = _validate(base.dir, preview_dataset, capsys)[2]
    pairing.write_text("{}\n" * 1_000_000)
    code, lines, seconds = _validate(base.dir, preview_dataset, capsys)
    print(f"\n1,000,000 x '{{}}' (3 MB): {seconds:.2f} s; valid submission: {valid_seconds:.2f} s")
    # 2 problems per line, each one line that counts them, and the test split left uncovered
    assert code == 1 and lines[:2] == [
        f"error: {pairing}: pair_id: missing required field on 1,000,000 lines (first: line 1)",
        f"error: {pairing}: relevant: missing required field on 1,000,000 lines (first: line 1)",
    ]
    assert len(lines) == 3 and "rows of the test split have no prediction" in lines[2]


def test_a_file_pasted_ten_times_gets_a_bounded_report(base, preview_dataset, capsys) -> None:
    pairing = base.dir / "pairing.jsonl"
    rows = pairing.read_bytes()
    n = rows.count(b"\n")
    pairing.write_bytes(rows * 10)
    code, lines, seconds = _validate(base.dir, preview_dataset, capsys)
    print(f"\npairing.jsonl x 10 ({len(rows) * 10:,} bytes): {seconds:.2f} s, {len(lines)} lines")
    assert code == 1 and len(lines) == MAX_PROBLEMS + 1
    assert lines[0] == f"error: {pairing}:{n + 1}: pair_id: duplicate of line 1"
    assert lines[-1] == f"error: ... and {9 * n - MAX_PROBLEMS:,} more problem(s) not shown"


def test_many_stray_files_are_capped_too(base, preview_dataset, capsys) -> None:
    for i in range(200):
        (base.dir / f"notes-{i:03}.txt").write_text("x")
    code, lines, _ = _validate(base.dir, preview_dataset, capsys)
    assert code == 1 and len(lines) == MAX_PROBLEMS + 1
    assert lines[0].endswith(f"notes-000.txt: unexpected file; a submission holds only {ALLOWED}")
    assert lines[-1] == f"error: ... and {200 - MAX_PROBLEMS} more problem(s) not shown"


# -- item 10: one line per missing field; a stale results.json in one line ------------------------


def test_an_empty_row_names_each_missing_field_once(base, preview_dataset, capsys) -> None:
    pairing = base.dir / "pairing.jsonl"
    lines = pairing.read_text().splitlines()
    lines[4] = "{}"
    pairing.write_text("\n".join(lines) + "\n")
    code, err, _ = _validate(base.dir, preview_dataset, capsys)
    assert code == 1
    assert err[:2] == [
        f"error: {pairing}:5: pair_id: missing required field",
        f"error: {pairing}:5: relevant: missing required field",
    ]


def test_a_stale_results_json_is_one_line(base, preview_dataset, capsys) -> None:
    pairing = base.dir / "pairing.jsonl"
    flipped = pairing.read_text().replace("true", "TRUE").replace("false", "true")
    pairing.write_text(flipped.replace("TRUE", "false"))
    code, err, _ = _validate(base.dir, preview_dataset, capsys)
    assert code == 1 and len(err) == 1, err
    assert err[0].startswith(f"error: {base.dir / 'results.json'}:")
    assert ": scores: " in err[0] and " scores differ from what the predictions earn; " in err[0]
    assert err[0].endswith("; run `recenter score FOLDER --write`")


# -- item 2: YAML parsed once, by libyaml, depth refused before anything is built -----------------


@pytest.mark.parametrize("depth", [17, 1_000, 30_000])
def test_deep_yaml_is_refused_in_milliseconds(depth: int) -> None:
    text = "a: " + "[" * depth + "]" * depth
    start = time.perf_counter()
    doc, problems = parse_yaml("metadata.yaml", text)
    seconds = time.perf_counter() - start
    print(f"\nYAML nested {depth:,} deep ({len(text):,} bytes): refused in {seconds * 1000:.1f} ms")
    assert doc is None and len(problems) == 1
    assert problems[0].startswith("metadata.yaml:1: ") and "nest" in problems[0]
    assert seconds < 1.0  # 131-183 s before (issue 11); about 1 ms now


def test_sixteen_levels_are_still_accepted() -> None:
    doc, problems = parse_yaml("m.yaml", "a: " + "[" * 15 + "]" * 15)
    assert problems == [] and doc is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &x 1\nb: *x\n", "m.yaml:1: YAML anchors and aliases are not allowed"),
        ("a: 1\nb: !!python/name:os.system x\n", "m.yaml:2: YAML tags are not allowed"),
        ("a: 1\nb: 2\na: 3\n", "m.yaml:3: a: appears twice"),
        ("a: 1\n---\nb: 2\n", "m.yaml:2: not valid YAML: but found another document"),
        ("- 1\n", "m.yaml:1: must be a mapping of `field: value` lines"),
    ],
)
def test_the_strict_rules_still_hold(text: str, expected: str) -> None:
    assert parse_yaml("m.yaml", text)[1] == [expected]


def test_yaml_scalars_keep_their_meaning() -> None:
    doc, _ = parse_yaml("m.yaml", "a: yes\nb: 2026-11-27\nc: true\nd: 3\ne: '3'\n")
    assert doc.data == {"a": "yes", "b": "2026-11-27", "c": True, "d": 3, "e": "3"}
    assert doc.lines[("e",)] == 5


def test_each_file_is_parsed_once_with_libyaml(base, reference, monkeypatch) -> None:
    assert yaml.__with_libyaml__  # the wheels ship it; the fallback is the pure-Python parser
    calls: list[type] = []
    real_parse = yaml.parse

    def counting_parse(stream, Loader):  # noqa: N803 (yaml's own parameter name)
        calls.append(Loader)
        return real_parse(stream, Loader=Loader)

    monkeypatch.setattr(yaml, "parse", counting_parse)
    files = {p.name: p.read_bytes() for p in base.dir.iterdir()}
    checked = check_files(files, reference, identity=("acme__Tiny-Model", "run-1"))
    assert checked.problems == []
    # metadata.yaml once, results.json once (for the line of each key); both by libyaml.
    assert calls == [yaml.CSafeLoader, yaml.CSafeLoader]


# -- item 8: dataset_revision must be the dataset's ----------------------------------------------


def _line_of(path: Path, start: str) -> int:
    return next(
        i for i, line in enumerate(path.read_text().splitlines(), 1) if line.startswith(start)
    )


@pytest.mark.parametrize("revision", ["TODO", "Infinity", "000000000000"])
def test_a_revision_other_than_the_datasets_is_refused(base, preview_dataset, capsys, revision):
    write_metadata(base, dataset_revision=revision)
    for command in ("validate", "score"):
        capsys.readouterr()
        code = main([command, str(base.dir), "--dataset", str(preview_dataset)])
        err = capsys.readouterr().err.splitlines()
        assert code == 1 and len(err) == 1, err
        line = _line_of(base.dir / "metadata.yaml", "dataset_revision:")
        assert err[0].startswith(f"error: {base.dir / 'metadata.yaml'}:{line}: dataset_revision: ")
        assert f'says "{revision}" but the dataset checked against is revision ' in err[0]


def test_a_reported_row_names_its_paper(base, preview_dataset, capsys) -> None:
    (base.dir / "pairing.jsonl").unlink()
    (base.dir / "results.json").unlink()
    write_metadata(base, provenance="reported", source="Table 3", dataset_revision="TODO")
    code, err, _ = _validate(base.dir, preview_dataset, capsys)
    metadata = base.dir / "metadata.yaml"
    assert code == 1
    assert err[0] == (
        f"error: {metadata}:{_line_of(metadata, 'dataset_revision:')}: dataset_revision: says "
        '"TODO"; a reported submission names the paper its numbers are printed in, '
        "e.g. arXiv:2606.06614v1"
    )
    write_metadata(base, provenance="reported", source="Table 3", dataset_revision=PAPER)
    code, err, _ = _validate(base.dir, preview_dataset, capsys)
    assert not any("dataset_revision" in line for line in err), err


# -- item 4: a kill during `score --write` ---------------------------------------------------------


def test_a_killed_score_write_leaves_nothing_that_blocks(base, preview_dataset, capsys) -> None:
    results = base.dir / "results.json"
    before = results.read_bytes()
    pairing = base.dir / "pairing.jsonl"
    pairing.write_text(pairing.read_text().replace('"relevant": true', '"relevant": false'))
    child = _run_until_paused(
        f"""
        from recenter_bench.cli import main
        os.fsync = pause  # the new results.json is in its temporary, not yet renamed
        main(["score", {str(base.dir)!r}, "--write", "--dataset", {str(preview_dataset)!r}])
        """
    )
    _kill(child)
    assert results.read_bytes() == before
    (leftover,) = [p.name for p in base.dir.iterdir() if p.name.startswith(".")]
    assert leftover.startswith(".results.json.") and leftover.endswith(".tmp")

    # The validator ignores it (it reports the stale results.json, nothing about the leftover) ...
    code, err, _ = _validate(base.dir, preview_dataset, capsys)
    assert code == 1 and len(err) == 1 and leftover not in err[0] and ": scores: " in err[0]
    # ... and the next write cleans it up.
    assert main(["score", str(base.dir), "--write", "--dataset", str(preview_dataset)]) == 0
    assert sorted(p.name for p in base.dir.iterdir()) == [
        "metadata.yaml",
        "pairing.jsonl",
        "results.json",
    ]
    assert _validate(base.dir, preview_dataset, capsys)[0] == 0


def test_only_the_writers_own_temporaries_are_skipped(base, preview_dataset, capsys) -> None:
    # A hidden file that merely looks like a temporary of something else is still reported.
    (base.dir / ".notes.k2j4_x9a.tmp").write_text("x")
    (base.dir / ".results.json.k2j4_x9a.tmp").write_text("x")
    code, err, _ = _validate(base.dir, preview_dataset, capsys)
    assert code == 1 and len(err) == 1
    assert err[0].startswith(f"error: {base.dir / '.notes.k2j4_x9a.tmp'}: unexpected file")
