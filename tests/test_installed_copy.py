"""An installed wheel in an empty folder, with no checkout and no network: no default points
into a checkout, and a command that needs a dataset and has none says in one line what to pass.

The wheel is built from this checkout and installed (`pip install --no-deps --target`) into a
tmp folder that is put first on the path; the libraries come from the test's environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment variables that run the installed copy, offline, from an empty folder."""
    root = tmp_path_factory.mktemp("installed")
    wheels, site, source = root / "wheels", root / "site", root / "source"
    # setuptools builds in the source tree (build/, *.egg-info): build a copy, not the checkout
    skip = shutil.ignore_patterns(".git", "build", "dist", "*.egg-info", "__pycache__", ".*cache")
    shutil.copytree(ROOT, source, ignore=skip)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(wheels),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    [wheel] = wheels.glob("recenter_bench-*.whl")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (root / "empty").mkdir()
    return {
        **os.environ,
        "PYTHONPATH": str(site),
        "HF_HUB_OFFLINE": "1",
        "HF_HOME": str(root / "hf-home"),
        "RECENTER_CACHE": str(root / "cache"),
        "CWD": str(root / "empty"),
        "SITE": str(site),
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        env=env,
        cwd=env["CWD"],
        capture_output=True,
        text=True,
        timeout=300,
    )


def recenter(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return run(env, "-m", "recenter_bench.cli", *args)


def test_installed_copy_has_no_checkout_default(installed: dict[str, str]) -> None:
    done = run(
        installed,
        "-c",
        "import recenter_bench.paths as p; print(p.__file__); print(p.IN_CHECKOUT); "
        "print(p.PREVIEW_RELEASE_DIR); print(p.SUBMISSIONS_DIR)",
    )
    where, in_checkout, preview, submissions = done.stdout.split("\n")[:4]
    assert where.startswith(installed["SITE"])  # the installed copy, not the checkout's
    assert (in_checkout, preview) == ("False", "None")
    assert submissions.startswith(installed["SITE"])


def test_missing_submission_folder_is_the_error(installed: dict[str, str]) -> None:
    done = recenter(installed, "validate", "submissions/recenter-bench__BM25/v2")
    assert done.returncode == 1
    assert done.stderr == "error: submissions/recenter-bench__BM25/v2: no such submission folder\n"


def test_no_dataset_says_what_to_pass(installed: dict[str, str]) -> None:
    submission = f"{installed['SITE']}/recenter_bench/data/submissions/recenter-bench__BM25/v2"
    done = recenter(installed, "validate", submission)
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1
    line = done.stderr
    assert line.startswith("error: --dataset: none given, and the default, the published dataset")
    assert "--dataset FOLDER" in line and "recenter build" in line and "Hub dataset ID" in line


def test_a_given_hub_id_reports_the_hub_error(installed: dict[str, str]) -> None:
    submission = f"{installed['SITE']}/recenter_bench/data/submissions/recenter-bench__BM25/v2"
    done = recenter(installed, "validate", submission, "--dataset", "someone/some-dataset")
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("error: --dataset: could not download 'someone/some-dataset'")


def test_leaderboard_help_says_what_dataset_feeds(installed: dict[str, str]) -> None:
    done = recenter(installed, "leaderboard", "--help")
    text = " ".join(done.stdout.split())
    assert "rank intervals and tie groups" in text and "recenter build" in text
