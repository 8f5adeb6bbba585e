"""Bad releases through the real CLI: one line naming file, line and field; exit 1; no output."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from recenter_bench.cli import main
from recenter_bench.loaders import build as build_module
from recenter_bench.loaders import release as release_module
from tests.fixture_release import make_fixture_release


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_fixture_release(tmp_path_factory.mktemp("pristine") / "release")


@pytest.fixture
def release(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "release"
    shutil.copytree(pristine, copy)
    return copy


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _write(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def _edit_line(path: Path, number: int, change: Callable[[dict], None]) -> None:
    records = _lines(path)
    change(records[number - 1])
    _write(path, records)


def _run_build(release: Path, capsys, *extra: str) -> tuple[int, str, Path]:
    out = release.parent / "out"
    code = main(["build", "--release", str(release), "--out", str(out), *extra])
    err = capsys.readouterr().err
    return code, err, out


def _assert_failed(code: int, err: str, out: Path, *expected: str) -> None:
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for part in expected:
        assert part in lines[0], lines[0]
    assert not out.exists()
    # Nothing half-built next to --out either.
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.")]
    assert "Traceback" not in err


def test_missing_file(release: Path, capsys) -> None:
    (release / "data" / "extracted" / "task5_items.jsonl").unlink()
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, "data/extracted/task5_items.jsonl: missing file")


def test_malformed_jsonl_line(release: Path, capsys) -> None:
    path = release / "data" / "extracted" / "task4_items.jsonl"
    lines = path.read_text().splitlines()
    lines[2] = lines[2][:40]
    path.write_text("\n".join(lines) + "\n")
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, "task4_items.jsonl:3: json: malformed JSONL line")


def test_missing_field(release: Path, capsys) -> None:
    path = release / "data" / "extracted" / "task6_items.jsonl"
    _edit_line(path, 2, lambda r: r.pop("response_personalized"))
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, "task6_items.jsonl:2: response_personalized: missing field")


@pytest.mark.parametrize(
    ("task", "change", "field"),
    [
        (
            "4",
            lambda r: r["attr_judgments"][1].update(judgment="maybe"),
            "attr_judgments[1].judgment",
        ),
        ("5", lambda r: r["relevance_judgments"][0].update(relevant="yes"), "relevant"),
        ("6", lambda r: r["ratings"].update({next(iter(r["ratings"])): 7}), "ratings["),
    ],
)
def test_unknown_label_value(release: Path, capsys, task: str, change, field: str) -> None:
    path = release / "data" / "annotations" / f"Okonkwo_task{task}.jsonl"
    _edit_line(path, 2, change)
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, f"Okonkwo_task{task}.jsonl:2: ", field, "unknown label value")


@pytest.mark.parametrize(
    ("task", "change", "field"),
    [
        ("4", lambda r: r["attr_judgments"].pop(), "attr_judgments"),
        ("5", lambda r: r["relevance_judgments"].pop(), "relevance_judgments"),
        ("6", lambda r: r["ratings"].pop(next(iter(r["ratings"]))), "ratings"),
    ],
)
def test_judgment_list_length_mismatch(release: Path, capsys, task, change, field) -> None:
    path = release / "data" / "annotations" / f"Okonkwo_task{task}.jsonl"
    _edit_line(path, 1, change)
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, f"Okonkwo_task{task}.jsonl:1: {field}: ", " for ")


def test_duplicate_annotator_files(release: Path, capsys) -> None:
    folder = release / "data" / "annotations"
    shutil.copy(folder / "Okonkwo_task5.jsonl", folder / "okonkwo_task5.jsonl")
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, "_task5.jsonl: annotator: duplicate annotator file")


def test_id_clash_between_items(release: Path, capsys) -> None:
    path = release / "data" / "extracted" / "task5_items.jsonl"
    records = _lines(path)
    clone = dict(records[0], item_index=999)
    _write(path, [*records, clone])
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, f"task5_items.jsonl:{len(records) + 1}: ", "ID clash", "pair")


def test_duplicate_item_index(release: Path, capsys) -> None:
    path = release / "data" / "extracted" / "task6_items.jsonl"
    _edit_line(path, 3, lambda r: r.update(item_index=0))
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, "task6_items.jsonl:3: item_index: ID clash")


def test_annotation_for_unknown_item(release: Path, capsys) -> None:
    path = release / "data" / "annotations" / "Ingeborg_task5.jsonl"
    _edit_line(path, 1, lambda r: r.update(index=404))
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, "Ingeborg_task5.jsonl:1: index: no task5 item has index 404")


def test_evidence_out_of_range(release: Path, capsys) -> None:
    path = release / "data" / "attr_evidence_cache.jsonl"
    _edit_line(path, 1, lambda r: r["evidence"][0].update(conv_idx=50))
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, "attr_evidence_cache.jsonl:1: evidence[0].conv_idx: 50")


def _refused(argv: list[str], capsys, *expected: str) -> str:
    """`recenter build` refused `--out` in one line, exit 1."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and err.startswith("error: "), err
    for part in expected:
        assert part in err, err
    return err


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_existing_folder_that_is_not_a_build_is_refused(release: Path, capsys) -> None:
    out = release.parent / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    _refused(["build", "--release", str(release), "--out", str(out)], capsys, "refusing", "--out")
    assert [p.name for p in out.iterdir()] == ["notes.txt"]


def test_a_folder_shaped_like_a_build_is_not_replaced(release: Path, capsys) -> None:
    """Issue 15, item 1: `myproject` holding README.md and data/thesis-results.csv was deleted
    because its entries had the names of a build's."""
    out = release.parent / "myproject"
    (out / "data").mkdir(parents=True)
    (out / "README.md").write_text("# my thesis")
    (out / "data" / "thesis-results.csv").write_text("a,b\n1,2\n")
    before = _snapshot(out)
    err = _refused(["build", "--release", str(release), "--out", str(out)], capsys, "refusing")
    assert ".recenter-build.json" in err
    assert _snapshot(out) == before


def test_a_copy_of_the_release_is_not_replaced(release: Path, capsys) -> None:
    """Issue 15, item 1: `--out` = a copy of the authors' release replaced its files."""
    copy = release.parent / "copy"
    shutil.copytree(release, copy)
    before = _snapshot(copy)
    _refused(["build", "--release", str(release), "--out", str(copy)], capsys, "refusing")
    assert _snapshot(copy) == before


@pytest.mark.parametrize(
    ("out_of", "why"),
    [
        (lambda release: release, "inside --release"),
        (lambda release: release / "data" / "built", "inside --release"),
        (lambda release: release.parent, "holds --release"),
    ],
    ids=["the-release", "inside-the-release", "holding-the-release"],
)
def test_out_and_release_may_not_overlap(release: Path, capsys, out_of, why) -> None:
    before = _snapshot(release.parent)
    _refused(["build", "--release", str(release), "--out", str(out_of(release))], capsys, why)
    assert _snapshot(release.parent) == before


@pytest.mark.parametrize("out", [".", "..", "{cwd}"])
def test_the_current_folder_is_refused(
    release: Path, capsys, monkeypatch: pytest.MonkeyPatch, out: str
) -> None:
    """Issue 15, item 1: `--out .` swapped the current folder out from under the shell."""
    here = release.parent / "work"
    here.mkdir()
    (here / "notes.txt").write_text("mine")
    monkeypatch.chdir(here)
    before = _snapshot(release.parent)
    argv = ["build", "--release", str(release), "--out", out.format(cwd=here)]
    _refused(argv, capsys, "current folder")
    assert _snapshot(release.parent) == before and Path.cwd() == here


def test_an_unchanged_build_is_replaced_and_a_changed_one_is_not(release: Path, capsys) -> None:
    out = release.parent / "out"
    assert main(["build", "--release", str(release), "--out", str(out)]) == 0
    assert (out / ".recenter-build.json").is_file()
    assert main(["build", "--release", str(release), "--out", str(out)]) == 0  # unchanged
    capsys.readouterr()
    (out / "README.md").write_text("my own notes on the card")
    err = _refused(["build", "--release", str(release), "--out", str(out)], capsys, "refusing")
    assert "README.md changed since the build" in err
    assert (out / "README.md").read_text() == "my own notes on the card"
    (out / "README.md").unlink()
    _refused(["build", "--release", str(release), "--out", str(out)], capsys, "missing")
    assert sorted(p.name for p in out.iterdir()) == [".recenter-build.json", "data", "eval.yaml"]


def test_a_file_added_to_a_build_is_kept(release: Path, capsys) -> None:
    out = release.parent / "out"
    assert main(["build", "--release", str(release), "--out", str(out)]) == 0
    (out / "data" / "my-analysis.csv").write_text("x\n")
    err = _refused(["build", "--release", str(release), "--out", str(out)], capsys, "refusing")
    assert "data/my-analysis.csv is not one of the build's files" in err
    assert (out / "data" / "my-analysis.csv").read_text() == "x\n"


def test_an_empty_folder_is_built_into(release: Path, capsys) -> None:
    out = release.parent / "out"
    out.mkdir()
    assert main(["build", "--release", str(release), "--out", str(out)]) == 0
    assert (out / "README.md").is_file()


def test_expect_paper_counts_lists_every_count(release: Path, capsys) -> None:
    code, err, out = _run_build(release, capsys, "--expect-paper-counts")
    assert code == 1 and not out.exists()
    lines = err.strip().splitlines()
    assert len(lines) == 4
    assert "paper count conversations: found 18, expected 550 (differs)" in lines[0]
    assert "paper count extraction judgments: found 70, expected 5,949" in lines[1]
    assert "paper count pairing judgments: found 111, expected 11,919" in lines[2]
    assert "paper count response_quality judgments: found 48, expected 1,101" in lines[3]


def test_expect_paper_counts_passes_when_counts_match(release, capsys, monkeypatch) -> None:
    counts = {
        "conversations": 18,
        "extraction judgments": 70,
        "pairing judgments": 111,
        "response_quality judgments": 48,
    }
    monkeypatch.setattr(build_module, "PAPER_COUNTS", counts)
    code, _, out = _run_build(release, capsys, "--expect-paper-counts")
    printed = capsys.readouterr()
    assert code == 0 and (out / "README.md").is_file(), printed


def test_unknown_published_majority_value(release: Path, capsys) -> None:
    path = release / "data" / "task6" / "eval_results_task5_gt_attributes_gpt-5.4.jsonl"
    _edit_line(path, 4, lambda r: r["profile_attributes"][1].update(ground_truth="yes"))
    code, err, out = _run_build(release, capsys)
    _assert_failed(
        code,
        err,
        out,
        "eval_results_task5_gt_attributes_gpt-5.4.jsonl:4: profile_attributes[1].ground_truth: ",
        "unknown label value 'yes'",
    )


def test_published_majorities_must_agree(release: Path, capsys) -> None:
    path = release / "data" / "task6" / "eval_results_task5_gt_attributes_gpt-5.4.jsonl"
    _edit_line(
        path,
        2,
        lambda r: r["profile_attributes"][0].update(
            ground_truth=not r["profile_attributes"][0]["ground_truth"]
        ),
    )
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, "gt_attributes_gpt-5.4.jsonl:2: ", "disagrees with")


def test_unknown_generator(release: Path, capsys) -> None:
    for export in (release / "data" / "annotations").glob("*_task6.jsonl"):
        export.unlink()
    path = release / "data" / "extracted" / "task6_items.jsonl"
    _edit_line(path, 1, lambda r: r.update(model_tag="llama-3.3-70b"))
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, "task6_items.jsonl:1: model_tag: unknown generator")


def test_rows_are_validated_against_the_schemas(release: Path, capsys) -> None:
    # The last line of defence: every row is checked against dataset_card/schemas/ before
    # anything is written (here an out-of-range confidence, which the reader lets through).
    path = release / "data" / "extracted" / "task4_items.jsonl"
    _edit_line(path, 1, lambda r: r["merged_attributes"][0].update(confidence=1.5))
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, "(extraction/", "confidence: 1.5 is greater than the maximum")


def test_console_script_exit_codes(release: Path) -> None:
    recenter = Path(sys.executable).parent / "recenter"
    out = release.parent / "out"
    ok = subprocess.run(
        [recenter, "build", "--release", release, "--out", out], capture_output=True, text=True
    )
    assert ok.returncode == 0, ok.stderr
    assert "pairing: 39 rows (train 23, validation 9, test 7)" in ok.stdout
    (release / "data" / "extracted" / "task4_items.jsonl").write_text("{not json\n")
    bad = subprocess.run(
        [recenter, "build", "--release", release, "--out", release.parent / "out2"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.startswith("error: ") and "task4_items.jsonl:1: json:" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    assert not (release.parent / "out2").exists()


# Issue 11, item 7: mutated release files gave tracebacks (UnicodeDecodeError, RecursionError,
# ValueError); item 8: a non-finite confidence was published into the Parquet.
def _replace_in_line(path: Path, number: int, old: bytes, new: bytes) -> None:
    lines = path.read_bytes().split(b"\n")
    assert old in lines[number - 1]
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    path.write_bytes(b"\n".join(lines))


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        (
            "extracted/task5_items.jsonl",
            b'"prompt_text": "',
            b'"prompt_text": "\xff\xfe',
            "task5_items.jsonl:2: json: not UTF-8 text (bad byte at column",
        ),
        (
            "extracted/task6_items.jsonl",
            b'"user_id": ',
            b'"deep": ' + b"[" * 100_000 + b"]" * 100_000 + b', "user_id": ',
            "task6_items.jsonl:2: json: values nested more than 32 levels deep",
        ),
        (
            "extracted/task6_items.jsonl",
            b'"user_id": ',
            b'"deep": ' + b"[" * 40 + b"]" * 40 + b', "user_id": ',
            "task6_items.jsonl:2: json: values nested more than 32 levels deep",
        ),
        (
            "extracted/task4_items.jsonl",
            b'"item_index": ',
            b'"item_index": ' + b"9" * 5000,
            "task4_items.jsonl:2: json: malformed JSONL line (Exceeds the limit (4300 digits)",
        ),
        (
            "extracted/task4_items.jsonl",
            b'"item_index": ',
            b'"item_index": ' + b"9" * 30,
            "task4_items.jsonl:2: item_index: integer out of the 64-bit range",
        ),
        (
            "extracted/task5_items.jsonl",
            b'"confidence": ',
            b'"confidence": NaN, "was": ',
            "task5_items.jsonl:2: profile_attributes[0].confidence: expected a finite number, "
            "got nan",
        ),
        (
            "extracted/task4_items.jsonl",
            b'"confidence": ',
            b'"confidence": -Infinity, "was": ',
            "task4_items.jsonl:2: merged_attributes[0].confidence: expected a finite number, "
            "got -inf",
        ),
        (
            "extracted/task4_items.jsonl",
            b'"confidence": ',
            b'"confidence": 1e999, "was": ',
            "task4_items.jsonl:2: merged_attributes[0].confidence: expected a finite number",
        ),
        (
            "attr_evidence_cache.jsonl",
            b'"conv_idx": ',
            b'"conv_idx": 1' + b"0" * 400 + b', "was": ',
            "attr_evidence_cache.jsonl:2: evidence[0].conv_idx: integer out of the 64-bit range",
        ),
    ],
)
def test_hostile_values_are_one_line(release, capsys, file, old, new, expected) -> None:
    _replace_in_line(release / "data" / file, 2, old, new)
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, expected)


def test_hostile_hash_list_in_the_index(release: Path, capsys) -> None:
    db = release / "data" / "indexes" / "convs_index.db"
    with closing(sqlite3.connect(db)) as connection, connection:
        connection.execute("UPDATE convs_index SET conversation_hash = ?", ("[" * 100_000,))
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, "convs_index.db:", "conversation_hash: expected a JSON list")


def test_oversized_release_file_is_refused_before_reading(release, capsys, monkeypatch) -> None:
    monkeypatch.setattr(release_module, "MAX_FILE_BYTES", 1000)
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, "task4_items.jsonl: ", "bytes; a release file may have at most")


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


def test_build_writes_nothing_into_the_release(release: Path, capsys) -> None:
    # Issue 11, item 5: opening the index (a WAL-mode database, like the preview's) created
    # `-wal` and `-shm` files in the release.
    db = release / "data" / "indexes" / "convs_index.db"
    with closing(sqlite3.connect(db)) as connection:
        assert connection.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
    before = _listing(release)
    assert "data/indexes/convs_index.db" in before and len(before) > 10
    code, err, out = _run_build(release, capsys)
    assert code == 0 and (out / "README.md").is_file(), err
    assert _listing(release) == before


def test_index_with_unfolded_changes_is_refused(release: Path, capsys) -> None:
    # The index is read as an immutable snapshot, which would not see what a `-wal` file holds.
    db = release / "data" / "indexes" / "convs_index.db"
    (db.parent / "convs_index.db-wal").write_bytes(b"\0" * 100)
    code, err, out = _run_build(release, capsys)
    _assert_failed(code, err, out, "convs_index.db-wal: holds changes not yet in convs_index.db")


def test_sqlite_side_files_do_not_change_the_preview_cache_key(release: Path) -> None:
    # Issue 11, item 5: the `-wal` / `-shm` files a build created changed the key of the
    # default dataset's cache, so the preview was built twice.
    from recenter_bench.review.dataset import _release_key

    key = _release_key(release)
    (release / "data" / "indexes" / "convs_index.db-shm").write_bytes(b"\1" * 32768)
    (release / "data" / "indexes" / "convs_index.db-wal").write_bytes(b"")
    assert _release_key(release) == key
    (release / "data" / "extracted" / "task5_items.jsonl").write_text("")
    assert _release_key(release) != key


def test_error_lines_escape_control_characters(tmp_path: Path, capsys) -> None:
    """Issue 15, item 9: a path (or any text) with ESC, BEL or CR in it is printed escaped, so
    it cannot clear, recolour or retitle the terminal, or overwrite the line."""
    release = tmp_path / "release\x1b[2J\x07\r"
    code = main(["build", "--release", str(release), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1, repr(err)
    assert not any(ch in err for ch in "\x1b\x07\r") and "release\\x1b[2J\\x07" in err
