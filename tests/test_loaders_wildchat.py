"""WildChat hydration: joining conversation text in by `conversation_hash` (text invented here)."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from recenter_bench.cli import main
from recenter_bench.loaders import wildchat
from recenter_bench.loaders.build import build_dataset
from recenter_bench.loaders.load import load_rows
from tests.fixture_release import make_fixture_release, read_only_index


def _wildchat_records(hashes: list[str], decoys: int = 0) -> list[dict]:
    """Records in WildChat's own schema (extra fields included) with invented text."""
    records = [
        {
            "conversation_hash": h,
            "model": "gpt-4",
            "turn": 1,
            "language": "English",
            "conversation": [
                {"role": "user", "content": f"invented question {h[:6]}", "language": "English"},
                {"role": "assistant", "content": None if i % 5 == 0 else f"invented answer {i}"},
            ],
        }
        for i, h in enumerate(hashes)
    ]
    records += [
        {
            "conversation_hash": f"decoy{i:027d}",
            "model": "gpt-4",
            "turn": 1,
            "language": "English",
            "conversation": [{"role": "user", "content": "not wanted"}],
        }
        for i in range(decoys)
    ]
    return records


def _write_parquet(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(records), path)
    return path


def _write_jsonl(path: Path, records: list[dict], tail: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + tail)
    return path


@pytest.fixture(scope="module")
def preview_hashes(preview_release: Path) -> list[str]:
    """The WildChat hashes of the preview's Stage-1 users, from its convs_index.db."""
    users = {
        json.loads(line)["user_id"]
        for line in (preview_release / "data/extracted/task4_items.jsonl").open()
        if json.loads(line)["source"] == "wildchat"
    }
    with closing(read_only_index(preview_release / "data/indexes/convs_index.db")) as db:
        rows = db.execute("SELECT hashed_ip, conversation_hash FROM convs_index").fetchall()
    return sorted({h for ip, hashes in rows if ip in users for h in json.loads(hashes)})


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return make_fixture_release(tmp_path_factory.mktemp("wildchat") / "release")


@pytest.fixture(scope="module")
def fixture_hashes(release: Path, tmp_path_factory) -> list[str]:
    out = tmp_path_factory.mktemp("plain") / "dataset"
    build_dataset(release, out)
    rows = load_rows("conversations", out)["train"]
    return sorted(r["conversation_id"] for r in rows if r["source"] == "wildchat")


def test_preview_build_joins_wildchat_parquet(preview_release, preview_hashes, tmp_path) -> None:
    assert len(preview_hashes) == 286
    source = _write_parquet(tmp_path / "wildchat.parquet", _wildchat_records(preview_hashes, 500))
    out = tmp_path / "dataset"
    summary = build_dataset(preview_release, out, wildchat=str(source))
    assert summary.wildchat_hydrated == 286
    assert summary.conversations_with_text == summary.total("conversations") == 471
    rows = load_rows("conversations", out)["train"]
    by_id = {r["conversation_id"]: r for r in rows}
    first = by_id[preview_hashes[0]]
    assert first["text_included"] is True
    assert first["turns"][0] == {
        "role": "user",
        "content": f"invented question {preview_hashes[0][:6]}",
    }
    assert first["turns"][1] == {"role": "assistant", "content": ""}  # null content -> ""
    assert "not wanted" not in json.dumps(rows)


def test_jsonl_source_with_some_hashes(release, fixture_hashes, tmp_path) -> None:
    half = fixture_hashes[::2]
    source = _write_jsonl(tmp_path / "wc.jsonl", _wildchat_records(half, decoys=10))
    out = tmp_path / "dataset"
    summary = build_dataset(release, out, wildchat=str(source))
    assert summary.wildchat_hydrated == len(half)
    rows = load_rows("conversations", out)["train"]
    joined = {
        r["conversation_id"] for r in rows if r["source"] == "wildchat" and r["text_included"]
    }
    assert joined == set(half)
    assert all(r["turns"] == [] for r in rows if not r["text_included"])


def test_folder_of_parquet_and_jsonl(release, fixture_hashes, tmp_path) -> None:
    folder = tmp_path / "wildchat"
    _write_parquet(folder / "part-0.parquet", _wildchat_records(fixture_hashes[:3], decoys=5))
    _write_jsonl(folder / "more" / "part-1.jsonl", _wildchat_records(fixture_hashes[3:]))
    summary = build_dataset(release, tmp_path / "dataset", wildchat=str(folder))
    assert summary.wildchat_hydrated == len(fixture_hashes)


def test_reading_stops_once_every_hash_is_found(release, fixture_hashes, tmp_path) -> None:
    # The source is read batch by batch; a broken line in a batch after the one holding the
    # last wanted conversation is never reached.
    filler = wildchat.BATCH_SIZE - len(fixture_hashes)
    records = _wildchat_records(fixture_hashes, decoys=filler)
    source = _write_jsonl(tmp_path / "wc.jsonl", records, "{broken\n")
    summary = build_dataset(release, tmp_path / "dataset", wildchat=str(source))
    assert summary.wildchat_hydrated == len(fixture_hashes)


def test_batches_are_bounded(tmp_path) -> None:
    source = _write_jsonl(tmp_path / "big.jsonl", _wildchat_records([], decoys=2500))
    sizes = [len(batch) for batch in wildchat.iter_batches(str(source))]
    assert sizes == [wildchat.BATCH_SIZE, wildchat.BATCH_SIZE, 500]


def test_hub_id_is_streamed_with_datasets(release, fixture_hashes, tmp_path, monkeypatch) -> None:
    # No Hub access in tests: the ID is served from a local Parquet folder by the same
    # `datasets.load_dataset(..., streaming=True)` call the loader makes for a real ID.
    local = tmp_path / "hub-copy"
    _write_parquet(local / "data" / "train-00000.parquet", _wildchat_records(fixture_hashes, 20))
    real = datasets.load_dataset
    calls = []

    def fake(path, *args, **kwargs):
        calls.append((path, kwargs))
        return real(str(local), *args, **kwargs)

    monkeypatch.setattr(datasets, "load_dataset", fake)
    summary = build_dataset(release, tmp_path / "dataset", wildchat="allenai/WildChat-1M")
    assert summary.wildchat_hydrated == len(fixture_hashes)
    assert calls == [("allenai/WildChat-1M", {"split": "train", "streaming": True})]


def test_malformed_wildchat_line_is_a_user_error(release, fixture_hashes, tmp_path, capsys) -> None:
    source = _write_jsonl(tmp_path / "wc.jsonl", _wildchat_records(fixture_hashes[:1]), "{oops\n")
    out = tmp_path / "out"
    code = main(["build", "--release", str(release), "--out", str(out), "--wildchat", str(source)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and not out.exists()
    message = "malformed JSONL line (Expecting property name enclosed in double quotes)"
    assert err == f"error: {source}:2: json: {message}"


def test_bad_conversation_error_names_its_own_line(release, fixture_hashes, tmp_path, capsys):
    # The bad record is the 2nd line of a batch: the error must name that line, not the batch's.
    records = _wildchat_records(fixture_hashes[:3])
    records[1]["conversation"] = "not a list of turns"
    source = _write_jsonl(tmp_path / "wc.jsonl", records)
    out = tmp_path / "out"
    code = main(["build", "--release", str(release), "--out", str(out), "--wildchat", str(source)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and not out.exists()
    assert err == f"error: {source}:2: conversation: expected a list of turns"


def test_missing_wildchat_source(release, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    missing = tmp_path / "nowhere.parquet"
    code = main(["build", "--release", str(release), "--out", str(out), "--wildchat", str(missing)])
    err = capsys.readouterr().err
    assert code == 1 and "no such file or folder" in err and not out.exists()


def test_parquet_without_wildchat_columns(release, tmp_path, capsys) -> None:
    source = _write_parquet(tmp_path / "other.parquet", [{"id": 1, "text": "x"}])
    out = tmp_path / "out"
    code = main(["build", "--release", str(release), "--out", str(out), "--wildchat", str(source)])
    err = capsys.readouterr().err
    assert code == 1 and f"{source}: conversation_hash: missing column" in err


@pytest.mark.parametrize("damage", ["random bytes", "truncated", "empty"])
def test_corrupt_parquet_is_one_line(release, fixture_hashes, tmp_path, capsys, damage) -> None:
    # Issue 11, item 7: a corrupt --wildchat Parquet raised pyarrow's ArrowInvalid.
    source = _write_parquet(tmp_path / "wc.parquet", _wildchat_records(fixture_hashes, 50))
    data = source.read_bytes()
    source.write_bytes(
        {"random bytes": b"PAR1" + bytes(range(256)) * 4, "truncated": data[: len(data) // 2]}.get(
            damage, b""
        )
    )
    out = tmp_path / "out"
    code = main(["build", "--release", str(release), "--out", str(out), "--wildchat", str(source)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and not out.exists()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"error: {source}: --wildchat: not a readable Parquet file ("), err


def test_unreachable_hub_id_is_a_user_error(release, tmp_path, capsys) -> None:
    # Tests run offline: streaming a Hub ID fails, and the user gets one line, not a traceback.
    out = tmp_path / "out"
    code = main(["build", "--release", str(release), "--out", str(out), "--wildchat", "org/nope"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and not out.exists()
    assert err.startswith("error: --wildchat org/nope: cannot stream the dataset")
    assert len(err.splitlines()) == 1
