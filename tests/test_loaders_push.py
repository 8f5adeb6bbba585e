"""`recenter push` against the local Hub stand-in (no network), and the stand-in itself."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from huggingface_hub import CommitOperationAdd, HfApi

from recenter_bench.cli import main
from recenter_bench.loaders.build import MANIFEST, build_dataset
from tests.fixture_release import make_fixture_release
from tests.hub_standin import hub_standin


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("push")
    out = root / "dataset"
    build_dataset(make_fixture_release(root / "release"), out)
    return out


def test_push_uploads_the_build(dataset: Path, monkeypatch, capsys) -> None:
    with hub_standin() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_TOKEN", "fake")
        (dataset.parent / "stray.txt").write_text("not part of the build")
        code = main(["push", str(dataset), "--repo", "recenter-bench/test-data"])
        printed = capsys.readouterr().out
        files = hub.files("recenter-bench/test-data")
    assert code == 0 and "pushed" in printed and hub.endpoint in printed
    local = {
        p.relative_to(dataset).as_posix(): p.read_bytes() for p in dataset.rglob("*") if p.is_file()
    }
    assert local.pop(MANIFEST)  # the local record of the build's files stays local
    assert files == local
    assert "data/pairing/test.parquet" in files and files["README.md"].startswith(b"---\n")


def test_push_twice_reuses_the_repository(dataset: Path, monkeypatch, capsys) -> None:
    with hub_standin() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_TOKEN", "fake")
        assert main(["push", str(dataset), "--repo", "org/data"]) == 0
        assert main(["push", str(dataset), "--repo", "org/data"]) == 0
        assert len(hub.repo("org/data").commits) == 2
    capsys.readouterr()


def test_push_refuses_a_folder_that_is_not_a_build(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "README.md").write_text("hello")
    with hub_standin() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        code = main(["push", str(tmp_path), "--repo", "org/data"])
        assert hub.requests == []
    err = capsys.readouterr().err
    assert code == 1 and f"{tmp_path / 'eval.yaml'}: missing file" in err


def test_push_without_credentials_is_a_user_error(dataset: Path, monkeypatch, capsys) -> None:
    with hub_standin() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.delenv("HF_TOKEN", raising=False)
        monkeypatch.setenv("HF_HOME", str(dataset.parent / "no-token-home"))
        code = main(["push", str(dataset), "--repo", "org/data"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("error: --repo org/data: the Hub refused the upload")
    assert "401" in err and len(err.splitlines()) == 1


def test_push_to_a_malformed_repo_id_is_one_line(dataset: Path, monkeypatch, capsys) -> None:
    with hub_standin() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_TOKEN", "fake")
        code = main(["push", str(dataset), "--repo", "not a repo id"])
        assert hub.requests == []
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: --repo not a repo id: not a Hub repository ID")
    assert err.count("\n") == 1


def test_push_to_an_unreachable_hub_is_one_line(dataset: Path, monkeypatch, capsys) -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with hub_standin():  # only for the session's HF_HUB_OFFLINE, lifted while it runs
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("HF_TOKEN", "fake")
        code = main(["push", str(dataset), "--repo", "org/data"])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith(
        f"error: --repo org/data: cannot reach the Hub at http://127.0.0.1:{port}"
    )
    assert err.count("\n") == 1


def test_standin_records_pull_requests() -> None:
    with hub_standin() as hub:
        api = HfApi(endpoint=hub.endpoint, token="fake")
        api.create_repo("org/board", repo_type="space", space_sdk="gradio")
        api.create_commit(
            repo_id="org/board",
            repo_type="space",
            operations=[CommitOperationAdd("app.py", b"print(1)\n")],
            commit_message="base",
        )
        info = api.create_commit(
            repo_id="org/board",
            repo_type="space",
            operations=[CommitOperationAdd("submissions/a__b/run/metadata.yaml", b"model: b\n")],
            commit_message="Add a/b",
            create_pr=True,
        )
        assert info.pr_url.endswith("/spaces/org/board/discussions/1") and info.pr_num == 1
        (pr,) = hub.pull_requests("org/board", "space")
        assert pr.title == "Add a/b"
        assert pr.files == {
            "app.py": b"print(1)\n",
            "submissions/a__b/run/metadata.yaml": b"model: b\n",
        }
        # The PR does not touch the main branch.
        assert hub.files("org/board", "space") == {"app.py": b"print(1)\n"}
        assert api.space_info("org/board").id == "org/board"
