"""Figures for the data side: preview build time, and WildChat hydration time and peak memory.

    /work/venv/bin/python benchmarks/loaders_build.py

Hydration reads a synthetic WildChat-schema Parquet file (invented text) whose wanted hashes are
at the very end, at two sizes, each in a fresh process: the peak memory should stay flat while
the source grows, since only the wanted conversations are kept.
"""

from __future__ import annotations

import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _source(path: Path, rows: int, wanted: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = random.Random(0)
    with pq.ParquetWriter(
        path,
        pa.schema(
            [
                ("conversation_hash", pa.string()),
                (
                    "conversation",
                    pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])),
                ),
            ]
        ),
    ) as writer:
        for start in range(0, rows, 10_000):
            n = min(10_000, rows - start)
            hashes = [f"decoy{start + i:027d}" for i in range(n)]
            if start + n >= rows:
                hashes[-len(wanted) :] = wanted
            # Random text so compression does not hide the size of a real source.
            conversations = [
                [{"role": "user", "content": rng.randbytes(200).hex()}] for _ in range(n)
            ]
            writer.write_table(
                pa.table({"conversation_hash": hashes, "conversation": conversations})
            )


WANTED = [f"{i:032x}" for i in range(300)]


def _peak_rss_mb() -> int:
    # VmHWM is this process's own high-water mark (getrusage's maxrss survives exec on Linux
    # and would report the parent's peak).
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    return -1


def hydrate_once(source: Path) -> None:
    import pyarrow.parquet  # noqa: F401 - count the library itself in the "before" figure

    from recenter_bench.loaders.wildchat import hydrate

    before = _peak_rss_mb()
    conversations = [
        {"conversation_id": h, "source": "wildchat", "text_included": False, "turns": []}
        for h in WANTED
    ]
    start = time.perf_counter()
    found = hydrate(conversations, str(source))
    seconds = time.perf_counter() - start
    peak = _peak_rss_mb()
    size_mb = source.stat().st_size / 1e6
    print(
        f"hydrate {source.name} ({size_mb:.0f} MB): found {found}, {seconds:.2f} s, "
        f"peak RSS {before} MB before -> {peak} MB after"
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--hydrate":
        hydrate_once(Path(sys.argv[2]))
        return
    from recenter_bench.loaders.build import build_dataset
    from recenter_bench.paths import PREVIEW_RELEASE_DIR

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        summary = build_dataset(PREVIEW_RELEASE_DIR, Path(tmp) / "dataset")
        print(f"preview build: {time.perf_counter() - start:.2f} s")
        print("\n".join(summary.lines()[:5]))
        for rows in (50_000, 250_000):
            source = Path(tmp) / f"wildchat-{rows}.parquet"
            _source(source, rows, WANTED)
            # A fresh process per size: its peak RSS is the hydration's alone.
            subprocess.run([sys.executable, __file__, "--hydrate", str(source)], check=True)


if __name__ == "__main__":
    main()
