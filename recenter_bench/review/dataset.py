"""The dataset a submission is checked and scored against: `--dataset` -> a `Reference`."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path

from recenter_bench.errors import UserError
from recenter_bench.hub import download_dataset
from recenter_bench.paths import (
    DATASET_CARD_DIR,
    HUB_DATASET_ID,
    LOADERS_DIR,
    METRIC_DIR,
    PREVIEW_RELEASE_DIR,
    cache_root,
)
from recenter_bench.review.files import stages
from recenter_bench.review.reference import Reference

HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


def _release_key(release: Path) -> str:
    """Content hash of a release and of the builder's code: a rebuilt cache is never stale."""
    from recenter_bench.loaders.release import holds_no_data

    digest = hashlib.sha256()
    # Files another reader of the SQLite index may leave behind would change the key, and the
    # preview would be built again for nothing.
    files = [
        (release, p) for p in sorted(release.rglob("*")) if p.is_file() and not holds_no_data(p)
    ]
    # The builder: loaders, the schemas and card, and the metric it takes labels and agreement from.
    files += [(LOADERS_DIR, p) for p in sorted(LOADERS_DIR.glob("*.py"))]
    files += [(DATASET_CARD_DIR, p) for p in sorted(DATASET_CARD_DIR.rglob("*.*"))]
    files += [(METRIC_DIR, p) for p in sorted(METRIC_DIR.glob("*.py"))]
    for root, path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


# What to pass when no dataset is at hand; said in every error about a missing dataset.
DATASET_HINT = (
    "pass --dataset FOLDER (a folder made by `recenter build --release DIR --out FOLDER`) or "
    "--dataset ORG/NAME (a Hub dataset ID)"
)


def default_dataset() -> str:
    """The dataset used when `--dataset` is omitted: the preview release beside the checkout,
    built once into a cache folder keyed by its content, else the published Hub dataset."""
    if PREVIEW_RELEASE_DIR is not None and (PREVIEW_RELEASE_DIR / "data").is_dir():
        from recenter_bench.loaders.build import build_dataset

        out = cache_root() / f"preview-{_release_key(PREVIEW_RELEASE_DIR)}"
        if not (out / "data").is_dir():
            # The build is atomic: a concurrent run sees no folder or a whole one.
            build_dataset(PREVIEW_RELEASE_DIR, out)
        return str(out)
    return HUB_DATASET_ID


def resolve_dataset(source: str | Path | None) -> str:
    """`--dataset` -> a local dataset folder (built or downloaded when needed). Without one, a
    failed download of the default Hub dataset says so and what to pass instead."""
    if source is None:
        source = default_dataset()
        if source == HUB_DATASET_ID:
            try:
                return download_dataset(source)
            except UserError as error:
                raise UserError(
                    f"--dataset: none given, and the default, the published dataset "
                    f"{source}, is not available ({error}); {DATASET_HINT}"
                ) from None
    text = str(source)
    if Path(text).is_dir():
        if not (Path(text) / "data").is_dir():
            raise UserError(f"--dataset: {text}: not a dataset folder (no data/ inside)")
        return text
    if HUB_ID.match(text) and not Path(text).exists():
        # A snapshot folder, so a local path and the Hub give one revision.
        try:
            return download_dataset(text)
        except UserError as error:
            raise UserError(f"--dataset: {error}") from None
    raise UserError(f"--dataset: {text}: no such dataset folder or Hub dataset ID")


def load_reference(source: str | Path | None) -> Reference:
    """Load (once per folder and revision) the rows a submission is checked and scored on."""
    from recenter_bench.loaders.load import dataset_revision

    folder = resolve_dataset(source)
    return _load_reference(folder, dataset_revision(folder))


@cache
def _load_reference(folder: str, revision: str) -> Reference:
    from recenter_bench.loaders.load import load_rows

    return Reference.from_rows(folder, revision, {s: load_rows(s, folder) for s in stages()})
