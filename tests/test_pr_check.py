"""Hub pull requests checked by the review side (recenter_bench/review/pr_check.py, webhook.py):
the same checks as CI, on pull requests opened with `recenter submit`'s function against the
local Hub stand-in, with the outcome posted as a comment; through the function, the CLI and the
webhook route of the real Gradio app."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import pytest
from huggingface_hub import CommitOperationAdd, HfApi
from leaderboard_harness import serve
from leaderboard_synthetic import write_fixture_tree
from markdown_it import MarkdownIt

from recenter_bench.cli import main
from recenter_bench.errors import escape_markdown
from recenter_bench.leaderboard.app import build_app
from recenter_bench.leaderboard.limits import PreviewRunner
from recenter_bench.leaderboard.preview_worker import preview_job, warm_worker
from recenter_bench.paths import HUB_LEADERBOARD_ID
from recenter_bench.review import (
    MAX_STAGE_FILE_BYTES,
    Reference,
    open_pull_request,
    validate_submission,
)
from recenter_bench.review.pr_check import VALID, check_pull_request, post_check
from recenter_bench.review.webhook import PullRequestWebhook
from tests.hub_standin import HubStandIn, hub_standin
from tests.test_submissions_bad import make_base

REPO = HUB_LEADERBOARD_ID
RUN = "submissions/acme__Tiny-Model/run-1"
SECRET = "s3cret-for-tests"


@pytest.fixture
def hub() -> Iterator[tuple[HubStandIn, HfApi]]:
    """The stand-in with the leaderboard Space on it; main holds a README and an accepted
    submission (never re-checked: pull requests do not change it)."""
    with hub_standin() as stand_in:
        api = HfApi(endpoint=stand_in.endpoint, token="fake")
        api.create_repo(REPO, repo_type="space", space_sdk="gradio")
        api.create_commit(
            REPO,
            repo_type="space",
            operations=[
                CommitOperationAdd("README.md", b"---\nsdk: gradio\n---\n"),
                CommitOperationAdd("submissions/README.md", b"# Submitting\n"),
            ],
            commit_message="Initial commit",
        )
        yield stand_in, api


@pytest.fixture
def submission(tmp_path: Path, reference: Reference) -> Path:
    """A valid pairing submission with its results.json (the base of the bad-input corpus)."""
    ctx, _ = make_base(tmp_path / "valid", reference)
    return ctx.dir


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def open_pr(api: HfApi, folder: Path, files: dict[str, bytes] | None = None) -> int:
    """Open a pull request as `recenter submit` does; returns its number."""
    url = open_pull_request(folder, files or files_of(folder), REPO, api=api)
    return int(url.rsplit("/", 1)[1])


def push_to_pr(api: HfApi, number: int, files: dict[str, bytes]) -> None:
    api.create_commit(
        REPO,
        repo_type="space",
        operations=[CommitOperationAdd(path, data) for path, data in files.items()],
        commit_message="Update",
        revision=f"refs/pr/{number}",
    )


def ci_problems(folder: Path, reference: Reference) -> list[str]:
    """What CI's `recenter validate --require-results` says about a local copy of the folder,
    with paths as in the repository."""
    root = str(folder.parent.parent.parent) + "/"
    problems = validate_submission(folder, require_results=True, reference=reference)
    return [p.removeprefix(root) for p in problems]


def rendered_text(markdown: str) -> str:
    """The comment as a reader sees it, asserting that nothing in it became markup."""
    html = MarkdownIt("commonmark").render(markdown)
    for tag in ("<a ", "<img", "<script"):
        assert tag not in html, html
    return html


def tampered(folder: Path) -> dict[str, bytes]:
    """The submission with a results.json that claims a better test F1 than it earns."""
    files = files_of(folder)
    results = json.loads(files["results.json"])
    results["scores"]["pairing"]["test"]["f1"] = 0.99
    files["results.json"] = (json.dumps(results, indent=2) + "\n").encode()
    return files


# -- the function ------------------------------------------------------------------------------


def test_valid_pull_request_is_reported_valid_with_its_headline(hub, submission, reference):
    stand_in, api = hub
    number = open_pr(api, submission)
    comment = check_pull_request(REPO, number, api=api, dataset_source=reference.source)
    results = json.loads((submission / "results.json").read_text())
    test = results["scores"]["pairing"]["test"]
    headline = (
        f"pairing test f1 {test['f1']:.3f} [{test['f1_ci_low']:.3f}, {test['f1_ci_high']:.3f}] "
        f"(n={int(test['n'])})"
    )
    assert comment.startswith("## recenter-bench check: passed\n")
    assert f"**{escape_markdown(RUN + '/')}**: {VALID}\n- {escape_markdown(headline)}\n" in comment
    assert f"dataset revision `{reference.revision}`" in comment
    # Only the changed folder is checked: main's files are not mentioned.
    assert "README" not in comment
    assert stand_in.pull_requests(REPO, "space")[0].comments == [], "the function posts nothing"


def test_tampered_results_are_reported_as_ci_reports_them(
    hub, submission, reference, tmp_path: Path
):
    stand_in, api = hub
    files = tampered(submission)
    number = open_pr(api, submission, files)
    comment = post_check(REPO, number, api=api, dataset_source=reference.source)

    copy = tmp_path / "copy" / RUN
    shutil.copytree(submission, copy)
    (copy / "results.json").write_bytes(files["results.json"])
    expected = ci_problems(copy, reference)
    assert len(expected) == 1 and "scores.pairing.test.f1: says 0.99" in expected[0]
    assert comment.startswith("## recenter-bench check: found problems\n")
    assert f"**{escape_markdown(RUN + '/')}**: 1 problem\n- {escape_markdown(expected[0])}\n" in (
        comment
    )
    assert VALID not in comment
    assert stand_in.pull_requests(REPO, "space")[0].comments == [comment]
    assert expected[0] in rendered_text(comment).replace("&quot;", '"')


def test_bad_files_are_refused_without_being_downloaded(hub, submission, reference):
    stand_in, api = hub
    big = b"x" * (MAX_STAGE_FILE_BYTES + 1)
    hostile = "[x](javascript:alert(1))<img src=x onerror=alert(1)>.md"
    files = {
        **files_of(submission),
        "evil.sh": b"#!/bin/sh\nrm -rf /\n",
        hostile: b"hi",
        "extraction.jsonl": big,
        "back\\slash": b"a name no local file may have",
    }
    number = open_pr(api, submission, files)
    push_to_pr(api, number, {f"{RUN}/nested/pairing.jsonl": b"{}\n", "leaderboard/app.py": b"1"})

    comment = check_pull_request(REPO, number, api=api, dataset_source=reference.source)
    lines = [line for line in comment.splitlines() if line.startswith("- ")]
    allowed = (
        "metadata.yaml, extraction.jsonl, pairing.jsonl, response_quality.jsonl, "
        "raw_answers.jsonl, results.json"
    )
    expected = [
        "leaderboard/app.py: outside submissions/; a submission pull request changes only "
        "submissions/<org>__<model>/<run>/ (a maintainer reviews other changes)",
        f"{RUN}/back\\\\slash: not a file name allowed here",
        f"{RUN}/[x](javascript:alert(1))<img src=x onerror=alert(1)>.md: unexpected file; "
        f"a submission holds only {allowed}",
        f"{RUN}/evil.sh: unexpected file; a submission holds only {allowed}",
        f"{RUN}/extraction.jsonl: file is {len(big):,} bytes; the limit is "
        f"{MAX_STAGE_FILE_BYTES:,}",
        f"{RUN}/nested: folders are not allowed inside a submission",
    ]
    assert lines == [f"- {escape_markdown(line)}" for line in expected]
    html = rendered_text(comment)
    assert "javascript:" in html and 'href="javascript' not in html
    # Refused files are judged by name and listed size, never fetched.
    fetched = {path for method, path in stand_in.requests if "/resolve/" in path}
    refused = ("evil.sh", "extraction", "nested", "img", "slash")
    assert fetched and not any(name in path for path in fetched for name in refused)


def test_a_pull_request_without_a_submission_says_so(hub, reference):
    stand_in, api = hub
    info = api.create_commit(
        REPO,
        repo_type="space",
        operations=[CommitOperationAdd("README.md", b"---\nsdk: static\n---\n")],
        commit_message="Change the Space",
        create_pr=True,
    )
    comment = check_pull_request(REPO, info.pr_num, api=api, dataset_source=reference.source)
    outside = "README.md: outside submissions/; a submission pull request changes only"
    assert f"- {escape_markdown(outside)}" in comment
    assert f"- {escape_markdown('changes no submission folder under submissions/')}" in comment


def test_a_pull_request_may_not_change_the_projects_reference_rows(hub, submission, reference):
    """The human line and the no-skill rows are the project's: a Hub pull request that adds or
    changes one of its folders (here a `type: human` row with a model's scores) is refused."""
    stand_in, api = hub
    folder = "submissions/Zhang-et-al-2026__Human-annotators/paper"
    files = {f"{folder}/{name}": data for name, data in files_of(submission).items()}
    info = api.create_commit(
        REPO,
        repo_type="space",
        operations=[CommitOperationAdd(path, data) for path, data in files.items()],
        commit_message="Better humans",
        create_pr=True,
    )
    comment = check_pull_request(REPO, info.pr_num, api=api, dataset_source=reference.source)
    assert escape_markdown(f"{folder}/metadata.yaml: a folder of the project's own rows") in comment
    assert VALID not in comment


# -- the CLI -----------------------------------------------------------------------------------


def test_cli_prints_and_posts_the_comment(hub, submission, reference, monkeypatch, capsys):
    stand_in, api = hub
    monkeypatch.setenv("HF_ENDPOINT", stand_in.endpoint)
    monkeypatch.setenv("HF_TOKEN", "fake")
    good = open_pr(api, submission)
    bad = open_pr(api, submission, tampered(submission))

    assert main(["check-pr", str(good), "--dataset", reference.source]) == 0
    printed = capsys.readouterr().out
    assert f"{VALID}\n" in printed
    assert stand_in.pull_requests(REPO, "space")[0].comments == [], "no --comment: nothing posted"

    assert main(["check-pr", str(bad), "--dataset", reference.source, "--comment"]) == 1
    captured = capsys.readouterr()
    assert escape_markdown("scores.pairing.test.f1: says 0.99") in captured.out
    assert stand_in.pull_requests(REPO, "space")[1].comments == [captured.out]
    assert captured.err == f"commented on pull request #{bad} of {REPO}\n"


def test_cli_on_a_missing_pull_request_is_one_error_line(hub, reference, monkeypatch, capsys):
    stand_in, _ = hub
    monkeypatch.setenv("HF_ENDPOINT", stand_in.endpoint)
    monkeypatch.setenv("HF_TOKEN", "fake")
    assert main(["check-pr", "7", "--dataset", reference.source]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: --repo: could not read pull request #7 of {REPO}: ")
    assert len(err.splitlines()) == 1


# -- the webhook route of the Space ------------------------------------------------------------


def event(scope: str, action: str, number: int, repo: str = REPO, **extra: object) -> dict:
    """A Hub webhook payload (version 3) on the Space repository."""
    payload: dict = {
        "event": {"action": action, "scope": scope},
        "repo": {
            "type": "space",
            "name": repo,
            "id": "r1",
            "private": False,
            "url": {"web": f"https://huggingface.co/spaces/{repo}"},
            "owner": {"id": "o1"},
        },
        "webhook": {"id": "w1", "version": 3},
        **extra,
    }
    if scope == "discussion":
        payload["discussion"] = {
            "id": "d1",
            "num": number,
            "title": "Add submission",
            "url": {"web": f"https://huggingface.co/spaces/{repo}/discussions/{number}"},
            "status": "open",
            "author": {"id": "a1"},
            "isPullRequest": True,
            "changes": {"base": "refs/heads/main"},
        }
    return payload


@pytest.fixture
def workers(reference, monkeypatch) -> Iterator[PreviewRunner]:
    """The webhook's time-limited worker processes, allowed to reach the Hub stand-in (the
    session runs with HF_HUB_OFFLINE=1, which spawned processes read from the environment)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    runner = PreviewRunner(preview_job, partial(warm_worker, reference.source), workers=1)
    yield runner
    runner.close()


def test_webhook_route_checks_opened_and_updated_pull_requests(
    hub, submission, reference, tmp_path: Path, workers
):
    stand_in, api = hub
    number = open_pr(api, submission, tampered(submission))
    webhook = PullRequestWebhook(
        SECRET, repo_id=REPO, dataset=reference.source, api=api, runner=workers
    )
    write_fixture_tree(tmp_path / "accepted")
    demo = build_app(tmp_path / "accepted")
    with serve(demo, webhook=webhook) as url:
        route = f"{url}webhooks/pull_request"

        def post(payload: dict, secret: str | None = SECRET) -> httpx.Response:
            headers = {"X-Webhook-Secret": secret} if secret is not None else {}
            return httpx.post(route, json=payload, headers=headers, timeout=120)

        opened = event("discussion", "create", number)
        assert post(opened, secret="wrong").status_code == 401
        assert post(opened, secret=None).status_code == 401
        # A bad body without the secret: 401, the body never read (main: 422 echoing it).
        bad = httpx.post(route, content=b'{"event": "<script>x</script>"}', timeout=30)
        assert bad.status_code == 401 and "script" not in bad.text
        bad = httpx.post(
            route, content=b'{"event": "<script>x</script>"}', headers={"X-Webhook-Secret": SECRET}
        )
        assert bad.status_code == 400 and "script" not in bad.text and len(bad.text) < 100
        huge = event("discussion", "create", 10**30)
        assert post(huge).json() == {"checked": None}  # main: 500
        assert stand_in.pull_requests(REPO, "space")[0].comments == [], "refused: no check"

        reply = post(opened)
        assert reply.status_code == 200
        comments = stand_in.pull_requests(REPO, "space")[0].comments
        assert reply.json() == {"checked": number, "comment": comments[0]}
        assert len(comments) == 1
        assert escape_markdown("scores.pairing.test.f1: says 0.99") in comments[0]
        # A replayed event (same head commit) is not checked again: one comment (main: 6).
        for _ in range(5):
            assert "duplicate" in post(opened).json()
        assert len(stand_in.pull_requests(REPO, "space")[0].comments) == 1

        # Events that do not open or update a pull request of this Space are ignored.
        for ignored in (
            event("discussion", "update", number),
            event("discussion", "create", number, repo="someone/else"),
            event("repo.content", "update", 0, updatedRefs=[{"ref": "refs/heads/main"}]),
        ):
            assert post(ignored).json() == {"checked": None}

        # The submitter fixes results.json; the new commit on refs/pr/N is checked again.
        push_to_pr(api, number, {f"{RUN}/results.json": (submission / "results.json").read_bytes()})
        moved = {"ref": f"refs/pr/{number}", "oldSha": "a" * 40, "newSha": "b" * 40}
        assert post(event("repo.content", "update", 0, updatedRefs=[moved])).status_code == 200
        comments = stand_in.pull_requests(REPO, "space")[0].comments
    assert len(comments) == 2
    assert f"{VALID}\n" in comments[1]


def test_the_examples_in_the_docstrings_hold():
    # pytest's --doctest-modules covers tests/ and metric/ only; run these modules' here.
    import doctest

    import recenter_bench.review.pr_check
    import recenter_bench.review.webhook

    for module in (recenter_bench.review.pr_check, recenter_bench.review.webhook):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_cli_escapes_control_characters_of_pull_request_paths(
    hub, submission, reference, monkeypatch, capsys
):
    """Issue 15, item 9: `check-pr` printed raw ESC and BEL from the pull request's path names,
    which a terminal obeys (clear the screen, retitle the window, ring)."""
    stand_in, api = hub
    monkeypatch.setenv("HF_ENDPOINT", stand_in.endpoint)
    monkeypatch.setenv("HF_TOKEN", "fake")
    number = open_pr(api, submission)
    hostile = {
        "NOTES\x1b]0;pwned\x07\x1b[2J.md": b"outside",
        "submissions/acme__Evil\x1b[31m/run\x07/pairing.jsonl": b"{}\n",
        f"{RUN}/note\x1b[2J\r.txt": b"x",
    }
    push_to_pr(api, number, hostile)
    assert main(["check-pr", str(number), "--dataset", reference.source]) == 1
    printed = capsys.readouterr().out
    assert not any(ch in printed for ch in "\x1b\x07\r"), repr(printed)
    # the folder's heading (it came straight from the path) and the file names, escaped
    assert "**submissions/acme\\_\\_Evil\\x1b\\[31m/run\\x07/**: 5 problems" in printed
    assert "NOTES\\\\x1b\\]0;pwned\\\\x07" in printed
