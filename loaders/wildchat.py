"""Join WildChat's conversation text into the `conversations` rows by `conversation_hash`.

The export carries only hashes for WildChat users (the text is WildChat's, under its own
licence). A user who holds WildChat passes it with `--wildchat`: a local Parquet or JSONL file,
a folder of them, or a Hub dataset ID read with `datasets` streaming. The source is read in
batches and only the wanted conversations are kept, so memory does not grow with its size.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from recenter_bench.errors import UserError, first_line, where
from recenter_bench.loaders.release import read_jsonl

BATCH_SIZE = 1_000
COLUMNS = ["conversation_hash", "conversation"]
LOCAL_SUFFIXES = (".parquet", ".jsonl", ".json")


def _turns(conversation: Any, origin: str) -> list[dict[str, str]]:
    if not isinstance(conversation, list):
        raise UserError(f"{origin}: conversation: expected a list of turns")
    turns = []
    for i, turn in enumerate(conversation):
        if not isinstance(turn, dict) or "role" not in turn or "content" not in turn:
            raise UserError(f"{origin}: conversation[{i}]: expected {{role, content, ...}}")
        # WildChat stores an empty turn as null content; the dataset's content is a string.
        turns.append({"role": str(turn["role"]), "content": turn["content"] or ""})
    return turns


# (origin, record) pairs: the origin names the file and line (or the Hub ID) of the record, for
# the one-line error on a malformed conversation.
Records = Iterator[tuple[str, dict[str, Any]]]


def _parquet_records(path: Path) -> Records:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        # pyarrow pre-buffers every row group it will read by default, which makes memory grow
        # with the file (about 2x its size); streamed reads with a fixed buffer keep it flat.
        parquet = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
        missing = [c for c in COLUMNS if c not in parquet.schema_arrow.names]
        if missing:
            raise UserError(
                f"{where(path, None, missing[0])}: missing column (not WildChat's schema)"
            )
        for batch in parquet.iter_batches(batch_size=BATCH_SIZE, columns=COLUMNS):
            for record in batch.to_pylist():
                yield str(path), record
    except (pa.ArrowException, OSError) as error:  # a corrupt or truncated file
        raise UserError(
            f"{path}: --wildchat: not a readable Parquet file ({first_line(error)})"
        ) from None


def _jsonl_records(path: Path) -> Records:
    for number, record in read_jsonl(path):
        if "conversation_hash" not in record:
            raise UserError(f"{where(path, number, 'conversation_hash')}: missing field")
        yield where(path, number), record


def _local_files(path: Path) -> list[Path]:
    if path.is_file():
        if path.suffix not in LOCAL_SUFFIXES:
            raise UserError(
                f"{path}: --wildchat: expected a .parquet or .jsonl file, a folder, or a Hub ID"
            )
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in LOCAL_SUFFIXES)
    if not files:
        raise UserError(f"{path}: --wildchat: no .parquet or .jsonl files in the folder")
    return files


def _hub_records(dataset_id: str) -> Records:
    import datasets

    try:
        stream = datasets.load_dataset(dataset_id, split="train", streaming=True)
    except Exception as error:  # datasets raises many types for a bad ID or no network
        raise UserError(
            f"--wildchat {dataset_id}: cannot stream the dataset: {first_line(error)}"
        ) from None
    try:
        for record in stream.select_columns(COLUMNS):
            yield dataset_id, record
    except Exception as error:  # a missing column, a corrupt shard, the network going away
        raise UserError(
            f"--wildchat {dataset_id}: cannot read the dataset: {first_line(error)}"
        ) from None


def _records(source: str) -> Records:
    path = Path(source)
    if path.exists():
        for file in _local_files(path):
            yield from (_parquet_records if file.suffix == ".parquet" else _jsonl_records)(file)
        return
    looks_local = source.startswith((".", "/", "~")) or path.suffix in LOCAL_SUFFIXES
    if looks_local or source.count("/") != 1:
        raise UserError(f"{source}: --wildchat: no such file or folder (nor a Hub dataset ID)")
    yield from _hub_records(source)


def iter_batches(source: str) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Lists of at most BATCH_SIZE (origin, record) pairs of a WildChat source: a file, a folder
    or a Hub dataset ID. Nothing past the batch being handed out is read."""
    batch: list[tuple[str, dict[str, Any]]] = []
    for pair in _records(source):
        batch.append(pair)
        if len(batch) == BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def hydrate(rows: list[dict[str, Any]], source: str) -> int:
    """Fill `turns` of the WildChat rows whose text is missing; returns how many were filled.

    Stops reading as soon as every wanted conversation was found.
    """
    wanted = {
        row["conversation_id"]: row
        for row in rows
        if row["source"] == "wildchat" and not row["text_included"]
    }
    found = 0
    # disable=None: a bar on a terminal, silence in logs and pipes (stderr keeps errors only).
    with tqdm(desc="WildChat", unit=" conversations", leave=False, disable=None) as bar:
        for batch in iter_batches(source):
            bar.update(len(batch))
            for origin, record in batch:
                row = wanted.pop(str(record.get("conversation_hash")), None)
                if row is None:
                    continue
                row["turns"] = _turns(record.get("conversation"), origin)
                row["text_included"] = True
                found += 1
            bar.set_postfix(joined=found)
            if not wanted:
                break
    return found
