"""The Space deployed as the Hub deploys it: the wheel built here is installed into a fresh venv,
its `recenter space build` writes the folder, the folder's requirements.txt is installed (the
pinned package resolved to that wheel), and the app file is started from inside the folder with
the venv's Python. The board must answer over HTTP with the folder's submissions, and its
webhook must watch the Space's own repository (SPACE_ID).

Slow (a wheel build and a venv install, about one to three minutes with pip's cache; the
requirements other than the package itself come from the package index), and part of the
default test run, so CI runs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from recenter_bench.paths import REPO_ROOT
from tests.leaderboard_harness import free_port, preview_answer

pytestmark = pytest.mark.slow

# A model name that no card or help text of the app mentions: it is on the page only as a row.
DROPPED = "Qwen__Qwen3.5-27B-optimized-prompt"
# A committed run whose pairing.jsonl the Space previews.
KEPT = "recenter-bench__BM25/v2"
WEBHOOK_SECRET = "a-test-secret"
SPACE_ID = "someone/their-board"
# Scratch of a checkout that is not source (copying it would only slow the build down).
NOT_SOURCE = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "out")


def run(command: list[str], timeout: float, **kwargs) -> None:
    """Run a setup step; on failure the assertion shows its output's tail."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    assert done.returncode == 0, f"{command[:4]} failed:\n{(done.stdout + done.stderr)[-3000:]}"


def build_wheel(scratch: Path) -> Path:
    """The package's wheel, built from a copy of the checkout (the build's own scratch files
    never land in the checkout)."""
    source = scratch / "source"
    shutil.copytree(REPO_ROOT, source, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    dist = scratch / "dist"
    # An isolated build: it installs the build backend pyproject names (a fresh venv's
    # setuptools is older than that).
    command = [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist)]
    run([*command, str(source)], timeout=300)
    (wheel,) = dist.glob("recenter_bench-*.whl")
    return wheel


def get(url: str, timeout: float = 30) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as reply:
        return reply.read()


def post_webhook(base: str, payload: dict, secret: str | None) -> tuple[int, bytes]:
    """(status, body) of a webhook call, with `secret` in its header (None: no header)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Webhook-Secret"] = secret
    request = urllib.request.Request(
        f"{base}/webhooks/pull_request", data=json.dumps(payload).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def pull_request_opened(repo_id: str, number: int) -> dict:
    """A Hub webhook payload: pull request `number` opened on the Space `repo_id`."""
    return {
        "event": {"action": "create", "scope": "discussion"},
        "repo": {
            "id": "1",
            "owner": {"id": "2"},
            "name": repo_id,
            "private": False,
            "type": "space",
            "url": {"web": f"https://huggingface.co/spaces/{repo_id}"},
        },
        "discussion": {
            "id": "3",
            "num": number,
            "author": {"id": "4"},
            "title": "Add a submission",
            "url": {"web": "https://huggingface.co/x"},
            "isPullRequest": True,
            "status": "open",
        },
        "webhook": {"id": "5", "version": 3},
    }


def wait_for_page(url: str, server: subprocess.Popen, log: Path, limit: float = 240) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the Space exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            get(url, timeout=5)
            return
        except OSError:
            time.sleep(1)
    pytest.fail(f"the Space did not answer within {limit:.0f} s:\n{log.read_text()[-3000:]}")


def test_space_folder_installs_in_a_fresh_venv_and_serves_the_board(
    tmp_path: Path, preview_dataset: Path
) -> None:
    # The committed tree less one submission: the rows on the page can then only have come
    # from the Space folder, not from the submissions the wheel also ships.
    tree = tmp_path / "submissions"
    shutil.copytree(REPO_ROOT / "submissions", tree, ignore=shutil.ignore_patterns(DROPPED))

    # The installed wheel, in a fresh venv, builds the Space folder from an empty folder.
    wheel = build_wheel(tmp_path)
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], timeout=120)
    python, recenter = venv / "bin" / "python", venv / "bin" / "recenter"
    run([str(python), "-m", "pip", "install", "-q", f"{wheel}[space]"], timeout=900)
    empty = tmp_path / "empty"
    empty.mkdir()
    build = [str(recenter), "space", "build", "space", "--submissions", str(tree)]
    run(build, timeout=120, cwd=empty)
    space = empty / "space"
    # Its requirements.txt as written, the pinned package resolved to the local wheel: pip
    # refuses the pair unless the pin names exactly the wheel's version and extra.
    local = f"recenter-bench[space] @ {wheel.as_uri()}"
    install = [str(python), "-m", "pip", "install", "-q", "-r", "requirements.txt", local]
    run(install, timeout=900, cwd=space)
    where = [str(python), "-c", "import recenter_bench; print(recenter_bench.__file__)"]
    imported = subprocess.run(where, cwd=space, capture_output=True, text=True, timeout=60)
    assert Path(imported.stdout.strip()).is_relative_to(venv), imported

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        RECENTER_DATASET=str(preview_dataset),
        WEBHOOK_SECRET=WEBHOOK_SECRET,
        SPACE_ID=SPACE_ID,
    )
    log = tmp_path / "space.log"
    app_file = yaml.safe_load((space / "README.md").read_text().split("---\n")[1])["app_file"]
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [str(python), app_file], cwd=space, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            wait_for_page(f"{base}/", server, log)
            page = get(f"{base}/").decode()
            config = get(f"{base}/config").decode()
            # The Space's webhook: a wrong secret is refused, a pull request on another
            # repository is ignored, one on this Space (SPACE_ID) is checked (offline here, so
            # the check reports that it could not reach the Hub).
            wrong = post_webhook(base, pull_request_opened(SPACE_ID, 7), "wrong")
            missing = post_webhook(base, pull_request_opened(SPACE_ID, 7), None)
            other = post_webhook(
                base, pull_request_opened("recenter-bench/leaderboard", 7), WEBHOOK_SECRET
            )
            mine = post_webhook(base, pull_request_opened(SPACE_ID, 7), WEBHOOK_SECRET)
            # The Submit tab's preview runs in a spawned worker process, which imports the
            # Space's app.py again: a preview answers only if that import starts nothing.
            answer = preview_answer(base, REPO_ROOT / "submissions" / KEPT / "pairing.jsonl")
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)

    assert "recenter-bench leaderboard" in page
    # Markdown escapes of the model cells undone, every name of the folder's tree is served.
    plain = re.sub(r"\\\\(.)", r"\1", config)
    served = {yaml.safe_load(p.read_text())["model"] for p in tree.glob("*/*/metadata.yaml")}
    assert len(served) >= 15 and {name for name in served if name not in plain} == set()
    (dropped,) = (REPO_ROOT / "submissions" / DROPPED).glob("*/metadata.yaml")
    assert yaml.safe_load(dropped.read_text())["model"] not in plain

    assert json.loads(answer)[0] == "No problems found.", answer[:300]
    assert wrong[0] == 401 and missing[0] == 401  # no secret and a wrong one: both 401
    assert other == (200, other[1]) and json.loads(other[1]) == {"checked": None}
    assert mine[0] == 200 and json.loads(mine[1])["checked"] == 7, mine
