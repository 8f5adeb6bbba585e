"""`recenter space build` and `recenter space push`: the Space folder's contents, the refusal
to replace a folder the command did not make, and the upload against the local Hub stand-in."""

from __future__ import annotations

import json
import re
import shutil
import socket
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from recenter_bench.cli import main
from recenter_bench.paths import REPO_ROOT
from recenter_bench.space import MANIFEST_NAME
from tests.hub_standin import hub_standin

COMMITTED = REPO_ROOT / "submissions"


def committed_files() -> dict[str, bytes]:
    """Every file of the repository's submissions tree, read directly from the checkout."""
    return {
        p.relative_to(COMMITTED).as_posix(): p.read_bytes()
        for p in sorted(COMMITTED.rglob("*"))
        if p.is_file()
    }


def folder_files(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def front_matter(readme: str) -> dict:
    assert readme.startswith("---\n")
    return yaml.safe_load(readme.split("---\n")[1])


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("space") / "board"
    assert main(["space", "build", str(out)]) == 0
    return out


def test_build_writes_a_gradio_space(built: Path) -> None:
    matter = front_matter((built / "README.md").read_text(encoding="utf-8"))
    assert matter["sdk"] == "gradio"
    assert matter["sdk_version"] == metadata.version("gradio")
    assert (built / matter["app_file"]).is_file() and matter["app_file"] == "app.py"
    assert isinstance(matter["python_version"], str) and matter["python_version"].startswith("3.")
    assert matter["license"] == "apache-2.0" and matter["title"] and matter["emoji"]
    # huggingface_hub reads it as a Space card with these settings.
    from huggingface_hub import SpaceCard

    card = SpaceCard.load(built / "README.md").data
    assert (card.sdk, card.app_file, card.sdk_version) == (
        "gradio",
        "app.py",
        matter["sdk_version"],
    )
    requirements = [
        line
        for line in (built / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert requirements == [f"recenter-bench[space]=={metadata.version('recenter-bench')}"]
    # The app file compiles, and starts the board from the folder it sits in.
    source = (built / "app.py").read_text()
    compile(source, "app.py", "exec")
    assert "serve_space(Path(__file__).resolve().parent)" in source


def test_build_copies_exactly_the_committed_submissions(built: Path) -> None:
    copied = {
        name.removeprefix("submissions/"): data
        for name, data in folder_files(built).items()
        if name.startswith("submissions/")
    }
    assert copied == committed_files()
    assert len(copied) > 40 and "README.md" in copied


def test_build_manifest_lists_every_file_with_its_digest(built: Path) -> None:
    import hashlib

    listing = json.loads((built / MANIFEST_NAME).read_text())
    on_disk = folder_files(built)
    del on_disk[MANIFEST_NAME]
    assert listing["files"] == {
        name: hashlib.sha256(data).hexdigest() for name, data in on_disk.items()
    }


def test_card_says_how_submissions_arrive_and_the_webhook_settings(built: Path) -> None:
    card = (built / "README.md").read_text(encoding="utf-8")
    for needle in (
        "recenter submit",
        "/webhooks/pull_request",
        "WEBHOOK_SECRET",
        "HF_TOKEN",
        '"Community"',
        '"Repo update"',
        "recenter space push",
    ):
        assert needle in card, needle


def test_rebuild_replaces_an_unchanged_build(tmp_path: Path, capsys) -> None:
    out = tmp_path / "board"
    assert main(["space", "build", str(out)]) == 0
    first = folder_files(out)
    assert main(["space", "build", str(out)]) == 0
    assert folder_files(out) == first
    runs = len(list(COMMITTED.glob("*/*/metadata.yaml")))
    assert capsys.readouterr().out.splitlines()[-1].endswith(f" {runs} submissions")
    # An empty folder holds nothing to lose: it is filled.
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["space", "build", str(empty)]) == 0 and (empty / "app.py").is_file()


@pytest.mark.parametrize("change", ["edited", "added", "foreign", "file"])
def test_build_never_replaces_what_it_did_not_make(tmp_path: Path, change: str, capsys) -> None:
    out = tmp_path / "board"
    if change == "foreign":
        out.mkdir()
        (out / "notes.txt").write_text("mine")
    elif change == "file":
        out.write_text("a file")
    else:
        assert main(["space", "build", str(out)]) == 0
        if change == "edited":
            (out / "app.py").write_text("# my own app\n")
        else:
            (out / "submissions" / "extra.txt").write_text("mine")
    before = folder_files(out) if out.is_dir() else {"": out.read_bytes()}
    capsys.readouterr()
    assert main(["space", "build", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert (folder_files(out) if out.is_dir() else {"": out.read_bytes()}) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board"]  # no temporaries left


def test_build_refuses_a_tree_with_a_stray_file(tmp_path: Path, capsys) -> None:
    tree = tmp_path / "submissions"
    shutil.copytree(COMMITTED / "recenter-bench__BM25", tree / "recenter-bench__BM25")
    (tree / "recenter-bench__BM25" / "v2" / "notes.txt").write_text("not a submission file")
    out = tmp_path / "board"
    assert main(["space", "build", str(out), "--submissions", str(tree)]) == 1
    err = capsys.readouterr().err
    assert "notes.txt" in err and not out.exists()


def test_push_uploads_the_build_to_a_gradio_space(built: Path, monkeypatch, capsys) -> None:
    with hub_standin() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_TOKEN", "fake")
        assert main(["space", "push", str(built), "--repo", "org/board"]) == 0
        uploaded = hub.files("org/board", "space")
        # A submission merged on the Hub since is kept by the next push (nothing is deleted).
        merged = "submissions/a__b/run/metadata.yaml"
        hub.repo("org/board", "space").branches["main"][merged] = b"model: b\n"
        assert main(["space", "push", str(built), "--repo", "org/board"]) == 0
        after = hub.files("org/board", "space")
    printed = capsys.readouterr().out
    expected = folder_files(built)
    del expected[MANIFEST_NAME]
    assert uploaded == expected
    assert after == {**expected, merged: b"model: b\n"}
    assert "pushed" in printed and hub.endpoint in printed


def test_push_refuses_a_folder_that_is_not_a_build(tmp_path: Path, monkeypatch, capsys) -> None:
    (tmp_path / "app.py").write_text("print(1)\n")
    with hub_standin() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_TOKEN", "fake")
        assert main(["space", "push", str(tmp_path), "--repo", "org/board"]) == 1
        assert hub.requests == []
    err = capsys.readouterr().err
    assert f"{tmp_path}: not made by `recenter space build`" in err and err.count("\n") == 1


def test_push_to_a_malformed_repo_id_is_one_line(built: Path, monkeypatch, capsys) -> None:
    with hub_standin() as hub:
        monkeypatch.setenv("HF_ENDPOINT", hub.endpoint)
        monkeypatch.setenv("HF_TOKEN", "fake")
        assert main(["space", "push", str(built), "--repo", "not a repo id"]) == 1
        assert hub.requests == []
    err = capsys.readouterr().err
    assert err.startswith("error: --repo not a repo id: not a Hub repository ID")
    assert err.count("\n") == 1


def test_push_to_an_unreachable_hub_is_one_line(built: Path, monkeypatch, capsys) -> None:
    with socket.socket() as probe:  # a port nothing listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with hub_standin():  # only for the session's HF_HUB_OFFLINE, lifted while it runs
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("HF_TOKEN", "fake")
        assert main(["space", "push", str(built), "--repo", "org/board"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        f"error: --repo org/board: cannot reach the Hub at http://127.0.0.1:{port}"
    )
    assert err.count("\n") == 1


def test_the_documented_commands_are_the_cli_and_the_build(built: Path) -> None:
    """The README's three deploy commands and every `recenter ...` the Space card and the
    README's deploy section name are real commands, and the block installs the requirements
    file the build writes and starts its app file."""
    from recenter_bench.cli import build_parser
    from tests.test_workflows import commands, shell_words

    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Deploy the Space\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
    build, *rest = commands(block, "recenter")
    assert build[:2] == ["space", "build"] and rest == []
    out = build[2]
    assert f"-r {out}/requirements.txt" in block
    app_file = front_matter((built / "README.md").read_text(encoding="utf-8"))["app_file"]
    assert re.search(rf"cd {out} && .*python {re.escape(app_file)}\b", block)
    card = (built / "README.md").read_text(encoding="utf-8")
    inline = re.findall(r"`recenter ([^`]+)`", section + card)
    assert len(inline) >= 4
    parser = build_parser()
    for args in [build, *map(shell_words, inline)]:
        assert parses(parser, args) == 0, f"`recenter {' '.join(args)}` is not a valid command"


def parses(parser, args: list[str]) -> int:
    """0 when `recenter ARGS` is a valid command line, or names a command in prose (only
    command words, such as `recenter space build`: valid when its help is)."""
    import contextlib
    import io

    attempts = [args] if any(a.startswith("-") for a in args) else [args, [*args, "-h"]]
    for attempt in attempts:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                parser.parse_args(attempt)
                return 0
            except SystemExit as exit:
                if exit.code == 0:
                    return 0
    return 1
