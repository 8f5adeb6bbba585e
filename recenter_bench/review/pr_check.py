"""Hub pull requests on the leaderboard Space: the checks CI runs on a GitHub pull request, run on
a Hub pull request (`recenter submit` opens them), with the outcome posted as a comment on it.

A submission pull request changes `submissions/<org>__<model>/<run>/` folders. For each folder
the pull request adds or changes, the folder at `refs/pr/N` is copied into a temporary
`submissions/` tree and goes through the checks the GitHub workflow runs: `recenter validate
--require-results` and `recenter score --json` (both are `check_folder`: every file rule, and
results.json equal to what the predictions earn), and the workflow's byte-for-byte diff of the
committed results.json against the recomputed one (`Results.to_json`).

Everything in the pull request is untrusted data. Nothing from it is imported or run: the checks
are the Space's own code (its `main`), fed with bytes. Only the files the validator reads are
downloaded, each only when the listing gives a size within its limit; a file the validator
refuses by name or size alone is stood in for by an empty placeholder of the listed size (never
downloaded), and a sub-folder by an empty folder, so the messages are the ones CI prints. Paths
are built from checked path components only, and every problem echoed into the comment is
escaped as Markdown text.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recenter_bench.errors import UserError, escape_markdown, printable, printable_lines
from recenter_bench.hub import hub_api
from recenter_bench.review.compare import RESCORE_HINT
from recenter_bench.review.dataset import load_reference
from recenter_bench.review.files import (
    HUMAN_FOLDER,
    PROJECT_ORG,
    RESULTS_FILE,
    allowed_files,
    max_bytes,
    problem,
    show_name,
)
from recenter_bench.review.hub import hub_error
from recenter_bench.review.pipeline import check_folder
from recenter_bench.review.write import headline_lines

SUBMISSIONS = "submissions"
# One pull request is one submission, maybe a few runs; a bigger one is split, so a single
# webhook call never downloads more than MAX_FOLDERS x (the per-file limits) bytes.
MAX_FOLDERS = 10
# Lines of one folder shown in the comment (the rest are counted; `recenter validate` lists all).
MAX_LINES = 50
# A path component the checks may turn into a local file or folder name.
_SAFE_COMPONENT = re.compile(r"^(?!\.{1,2}$)[^/\\\x00]{1,255}$")
VALID = "valid; results.json reproduces"
# Folders of the project's own rows (its baselines and other runs, the paper's human annotators):
# changed by maintainers, never by a submission pull request.
PROJECT_FOLDER = re.compile(rf"^(?:{re.escape(PROJECT_ORG)}__.*|{re.escape(HUMAN_FOLDER)})$")


@dataclass
class FolderCheck:
    """One changed submission folder: its problems (file:line: field: what is wrong, with paths
    as in the repository) or, when valid, its headline scores."""

    folder: str  # "submissions/<org>__<model>/<run>"
    problems: list[str] = field(default_factory=list)
    headlines: list[str] = field(default_factory=list)


@dataclass
class PullRequestCheck:
    """What the check of one pull request found."""

    repo_id: str
    pr_number: int
    dataset_revision: str | None
    folders: list[FolderCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # about the pull request as a whole

    @property
    def ok(self) -> bool:
        return not self.problems and all(not f.problems for f in self.folders)


def pull_request_revision(pr_number: int) -> str:
    """The git ref of a Hub pull request.

    >>> pull_request_revision(3)
    'refs/pr/3'
    """
    return f"refs/pr/{pr_number}"


def _tree(api: Any, repo_id: str, revision: str, repo_type: str) -> dict[str, Any]:
    """path -> RepoFile of every file of a revision."""
    entries = api.list_repo_tree(repo_id, recursive=True, revision=revision, repo_type=repo_type)
    return {entry.path: entry for entry in entries if hasattr(entry, "blob_id")}


def changed_files(head: Mapping[str, Any], base: Mapping[str, Any]) -> list[str]:
    """Files of the pull request's revision that its base does not hold with the same content.

    Files only the base holds are left out: they are either deleted by the pull request (which
    breaks no submission) or added to the base after it was opened.
    """
    return sorted(p for p, f in head.items() if p not in base or base[p].blob_id != f.blob_id)


def submission_folders(paths: Iterable[str]) -> tuple[list[str], list[str]]:
    """(the `submissions/<org>__<model>/<run>` folders the paths fall in, problems of the paths
    that are not in such a folder)."""
    folders: set[str] = set()
    problems = []
    for path in paths:
        parts = path.split("/")
        if parts[0] != SUBMISSIONS:
            why = (
                "outside submissions/; a submission pull request changes only "
                "submissions/<org>__<model>/<run>/ (a maintainer reviews other changes)"
            )
        elif len(parts) < 4:
            why = "only <org>__<model>/<run>/ folders belong in submissions/"
        elif not all(_SAFE_COMPONENT.match(part) for part in parts[1:3]):
            why = "not a folder name a submission can have"
        elif PROJECT_FOLDER.match(parts[1]):
            why = (
                "a folder of the project's own rows (its baselines, the human reference); "
                "a submission uses its own <org>__<model>/ folder"
            )
        else:
            folders.add("/".join(parts[:3]))
            continue
        problems.append(problem(show_name(path), None, None, why))
    return sorted(folders), problems


def _materialise(
    api: Any,
    repo_id: str,
    revision: str,
    repo_type: str,
    folder: str,
    files: Mapping[str, Any],
    root: Path,
) -> list[str]:
    """Lay out one submission folder of the pull request under `root`, with only the bytes the
    validator reads downloaded (see the module docstring). Returns the problems of names that
    cannot be laid out as a local file at all."""
    local = root / folder
    local.mkdir(parents=True)
    problems = []
    for path, info in sorted(files.items()):
        inside = path[len(folder) + 1 :].split("/")
        name = inside[0]
        if not _SAFE_COMPONENT.match(name):
            problems.append(problem(show_name(path), None, None, "not a file name allowed here"))
        elif len(inside) > 1:
            (local / name).mkdir(exist_ok=True)  # "folders are not allowed inside a submission"
        elif name not in allowed_files() or info.size > max_bytes(name):
            with open(local / name, "wb") as placeholder:  # refused without being read
                placeholder.truncate(info.size)
        else:
            api.hf_hub_download(
                repo_id, path, repo_type=repo_type, revision=revision, local_dir=root
            )
    return problems


def _check_folder(local_root: Path, folder: str, reference: Any) -> FolderCheck:
    """CI's checks of one folder: validate (results.json required), score, and the committed
    results.json byte-for-byte against the recomputed one."""
    path = local_root / folder
    # One check serves both steps: validating a rescored folder already recomputes its scores.
    checked = check_folder(path, reference, require_results=True)
    problems = checked.problems
    headlines: list[str] = []
    if not problems:
        # A reported folder is never re-scored: its results.json is what `score` prints.
        results = checked.expected or checked.results
        # the bytes the check read (bounded, no links), not a second read from disk
        if checked.files[RESULTS_FILE] != results.to_json().encode("utf-8"):
            message = "differs from `recenter score --json` in its layout" + RESCORE_HINT
            problems.append(problem(str(path / RESULTS_FILE), None, None, message))
        headlines = [" ".join(line.split()) for line in headline_lines(results)]
    # The lines name the temporary copy; the reader knows the folder by its repository path.
    prefix = f"{local_root}{os.sep}"
    return FolderCheck(folder, [p.removeprefix(prefix) for p in problems], headlines)


def inspect_pull_request(
    repo_id: str,
    pr_number: int,
    *,
    api: Any = None,
    dataset_source: str | Path | None = None,
    repo_type: str = "space",
) -> PullRequestCheck:
    """Check every submission folder a Hub pull request adds or changes. Raises UserError when
    the pull request cannot be read."""
    api = api or hub_api()
    revision = pull_request_revision(pr_number)
    try:
        details = api.get_discussion_details(repo_id, pr_number, repo_type=repo_type)
        if not details.is_pull_request:
            raise UserError(f"PR_NUMBER: #{pr_number} of {repo_id} is a discussion, not a PR")
        head = _tree(api, repo_id, revision, repo_type)
        base = _tree(api, repo_id, details.target_branch or "main", repo_type)
    except UserError:
        raise
    except Exception as error:  # HTTP, auth, missing repo or PR
        message = hub_error(error)
        raise UserError(
            f"--repo: could not read pull request #{pr_number} of {repo_id}: {message}"
        ) from None
    folders, problems = submission_folders(changed_files(head, base))
    report = PullRequestCheck(repo_id, pr_number, None, problems=problems)
    if len(folders) > MAX_FOLDERS:
        report.problems.append(
            f"changes {len(folders)} submission folders; one pull request is checked only when "
            f"it changes at most {MAX_FOLDERS}: split it"
        )
        return report
    if not folders:
        report.problems.append("changes no submission folder under submissions/")
        return report
    reference = load_reference(dataset_source)
    report.dataset_revision = reference.revision
    for folder in folders:
        files = {p: f for p, f in head.items() if p.startswith(folder + "/")}
        root = Path(tempfile.mkdtemp(prefix="recenter-pr-"))
        try:
            unsafe = _materialise(api, repo_id, revision, repo_type, folder, files, root)
        except Exception as error:  # a file that cannot be fetched is reported, not a crash
            message = f"could not be downloaded: {hub_error(error)}"
            report.folders.append(FolderCheck(folder, [problem(folder, None, None, message)]))
        else:
            checked = _check_folder(root, folder, reference)
            checked.problems[:0] = unsafe
            if unsafe:
                checked.headlines = []
            report.folders.append(checked)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return report


def comment_markdown(report: PullRequestCheck) -> str:
    """The pull request's comment: one bullet per problem, or the verdict and headline scores.
    Every line that comes from the pull request is escaped (it renders as the text it is)."""

    def bullets(lines: list[str]) -> list[str]:
        shown = [f"- {escape_markdown(line)}" for line in lines[:MAX_LINES]]
        if len(lines) > MAX_LINES:
            more = len(lines) - MAX_LINES
            shown.append(f"- … and {more} more (`recenter validate FOLDER` lists them all)")
        return shown

    verdict = "passed" if report.ok else "found problems"
    revision = (
        f" against dataset revision `{report.dataset_revision}`" if report.dataset_revision else ""
    )
    out = [
        f"## recenter-bench check: {verdict}",
        "",
        f"The leaderboard Space checked pull request #{report.pr_number}{revision} with its own "
        "code, as CI does on GitHub: `recenter validate --require-results`, `recenter score`, "
        "and the committed results.json against the recomputed one.",
    ]
    if report.problems:
        out += ["", "**This pull request**:", *bullets(report.problems)]
    for folder in report.folders:
        name = escape_markdown(f"{folder.folder}/")
        if folder.problems:
            count = len(folder.problems)
            out += ["", f"**{name}**: {count} problem{'s' if count > 1 else ''}"]
            out += bullets(folder.problems)
        else:
            out += ["", f"**{name}**: {VALID}", *bullets(folder.headlines)]
    return "\n".join(out) + "\n"


def check_pull_request(
    repo_id: str, pr_number: int, *, api: Any = None, dataset_source: str | Path | None = None
) -> str:
    """The comment (Markdown) saying what the checks found on a pull request of a Space."""
    return comment_markdown(
        inspect_pull_request(repo_id, pr_number, api=api, dataset_source=dataset_source)
    )


def post_comment(report: PullRequestCheck, *, api: Any = None, repo_type: str = "space") -> str:
    """Post a check's comment on its pull request; returns the comment."""
    api = api or hub_api()
    comment = comment_markdown(report)
    try:
        api.comment_discussion(report.repo_id, report.pr_number, comment, repo_type=repo_type)
    except Exception as error:
        message = hub_error(error)
        raise UserError(
            f"--comment: could not comment on pull request #{report.pr_number} of "
            f"{report.repo_id}: {message}"
        ) from None
    return comment


def post_check(
    repo_id: str, pr_number: int, *, api: Any = None, dataset_source: str | Path | None = None
) -> str:
    """Check a pull request of a Space and post the outcome on it; returns the comment."""
    api = api or hub_api()
    report = inspect_pull_request(repo_id, pr_number, api=api, dataset_source=dataset_source)
    return post_comment(report, api=api)


def check_pr_command(args: argparse.Namespace) -> int:
    """`recenter check-pr PR_NUMBER [--repo ID] [--dataset D] [--comment]`: print the comment
    (and post it with --comment); exit 1 when the pull request has problems."""
    report = inspect_pull_request(args.repo, args.pr_number, dataset_source=args.dataset)
    # Markdown-escaped for the comment; control characters escaped for the terminal too.
    print(printable_lines(comment_markdown(report)), end="")
    if args.comment:
        post_comment(report)
        done = f"commented on pull request #{report.pr_number} of {report.repo_id}"
        print(printable(done), file=sys.stderr)
    return 0 if report.ok else 1
