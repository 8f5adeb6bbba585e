"""Load the published dataset (Hub ID or a built folder): with `datasets`, the way users do
(`load`), or as plain rows read straight from its Parquet files (`load_rows`, what submissions
are checked and scored on: pyarrow only, so the command line never imports `datasets`)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recenter_bench.errors import UserError, first_line
from recenter_bench.hub import download_dataset, hub_api
from recenter_bench.loaders.ids import SPLITS
from recenter_bench.loaders.schemas import CONFIGS, schema
from recenter_bench.paths import HUB_DATASET_ID

if TYPE_CHECKING:
    import datasets


def _local(source: str | Path) -> Path | None:
    path = Path(source)
    return path if path.is_dir() else None


def _check_source(config: str, source: str | Path) -> Path | None:
    """The local folder `source` names, or None for a Hub ID; a UserError for anything else."""
    if config not in CONFIGS:
        raise UserError(f"config: unknown config {config!r} (expected one of {', '.join(CONFIGS)})")
    local = _local(source)
    # A Hub ID is "owner/name"; anything else that is not a folder is a mistyped local path.
    if local is None and (str(source).startswith((".", "/", "~")) or str(source).count("/") != 1):
        raise UserError(f"{source}: dataset folder not found")
    if local is not None and not (local / "README.md").is_file():
        raise UserError(f"{local}: not a dataset folder (no README.md); run `recenter build`")
    return local


def load(
    config: str, split: str | None = None, source: str | Path = HUB_DATASET_ID
) -> datasets.Dataset | datasets.DatasetDict:
    """`datasets.load_dataset(source, config, split=split)`; `source` is a Hub ID or a folder.

    A local folder is read offline through its card's `configs:`, with the declared features.
    """
    import datasets

    local = _check_source(config, source)
    if local is None:
        return datasets.load_dataset(str(source), config, split=split)
    # `datasets` keys its cache of a local folder on the folder's name and card metadata only,
    # so two builds named alike with equal counts (say, before and after a label fix) would share
    # a cache entry and the second load would return the first build's rows. A cache directory
    # per content revision makes that impossible.
    cache_dir = Path(datasets.config.HF_DATASETS_CACHE) / "recenter-local" / dataset_revision(local)
    return datasets.load_dataset(str(local), config, split=split, cache_dir=str(cache_dir))


def load_rows(config: str, source: str | Path = HUB_DATASET_ID) -> dict[str, list[dict[str, Any]]]:
    """split -> the config's rows as plain Python dicts (lists and None, no Arrow types), read
    from `data/<config>/<split>.parquet` (the layout `recenter build` writes and the card's
    `configs:` declare) with pyarrow; a Hub ID is downloaded to the Hub cache first. The rows
    equal `load(config, split, source).to_list()` (a test compares them)."""
    folder = _check_source(config, source) or Path(download_dataset(str(source)))
    files = {split: folder / "data" / config / f"{split}.parquet" for split in SPLITS}
    return {split: _read_split(path, config) for split, path in files.items() if path.exists()}


def _read_split(path: Path, config: str) -> list[dict[str, Any]]:
    """One split's rows; a file that is not the config's table as `recenter build` writes it
    (damaged, or another table) is a UserError, not a pyarrow error."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = list(schema(config)["properties"])
    try:
        # ParquetFile, not read_table: one file needs no pyarrow.dataset (which imports pandas).
        parquet = pq.ParquetFile(path)
        if parquet.schema_arrow.names != columns:
            raise UserError(
                f"{path}: not the {config} table of `recenter build` (columns "
                f"{', '.join(parquet.schema_arrow.names)[:200]}); build the dataset again"
            )
        return parquet.read().to_pylist()
    except (pa.ArrowException, OSError) as error:
        reason = getattr(error, "strerror", None) or first_line(error)
        raise UserError(f"{path}: not a readable Parquet file ({reason})") from None


def dataset_revision(source: str | Path = HUB_DATASET_ID) -> str:
    """The revision a score refers to.

    For a local folder: the first 12 hex digits of a sha256 over the Parquet files (relative
    path and bytes, in path order), so two byte-identical builds share a revision. For a Hub ID:
    the commit sha of the dataset repository's main branch.
    """
    local = _local(source)
    if local is None:
        return hub_api().dataset_info(str(source)).sha or ""
    files = sorted(local.glob("data/*/*.parquet"))
    if not files:
        raise UserError(f"{local}: not a dataset folder (no data/<config>/<split>.parquet)")
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(local).as_posix().encode("utf-8") + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError as error:  # a folder or an unreadable file where a split should be
            raise UserError(f"{path}: cannot read ({error.strerror})") from None
    return digest.hexdigest()[:12]
