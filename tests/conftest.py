"""Shared fixtures: the real preview release, built once per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from recenter_bench.paths import PREVIEW_RELEASE_DIR


@pytest.fixture(scope="session")
def preview_release() -> Path:
    """The authors' public pre-release files, read in place from ../shared (never copied)."""
    assert (PREVIEW_RELEASE_DIR / "data").is_dir(), f"missing {PREVIEW_RELEASE_DIR}"
    return PREVIEW_RELEASE_DIR


@pytest.fixture(scope="session")
def preview_dataset(preview_release: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Hub-ready dataset folder that `recenter build` makes from the preview release."""
    from recenter_bench.loaders.build import build_dataset

    out = tmp_path_factory.mktemp("preview") / "dataset"
    build_dataset(preview_release, out)
    return out


@pytest.fixture(scope="session")
def reference(preview_dataset: Path):
    """The preview dataset's rows as submissions are checked against them (a module that
    checks against another dataset overrides this fixture)."""
    from recenter_bench.review import load_reference

    return load_reference(preview_dataset)
