"""`recenter space build OUT` and `recenter space push OUT --repo ORG/NAME`: the leaderboard as a
folder the Hub serves as a Gradio Space, and its upload.

The folder holds a root `README.md` whose front matter configures the Space (the installed
Gradio's version as `sdk_version`, this Python's as `python_version`), `app.py` (three lines that
call `serve_space`), `requirements.txt` pinning this package's exact version with its `space`
extra, a copy of the committed submissions tree (only the files a submission may hold), and a
manifest, `MANIFEST_NAME`, listing every file with its SHA-256.

The manifest is how the tool knows a folder is its own: `build` replaces an existing OUT only when
it is a previous build whose files are all unchanged (or an empty folder), so it never deletes a
file it did not make or one edited since; `push` uploads exactly the files the manifest lists.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from importlib import metadata
from pathlib import Path
from string import Template

from recenter_bench.atomic import replacing_folder
from recenter_bench.errors import UserError, ValidationFailed
from recenter_bench.hub import hub_api, hub_upload_errors
from recenter_bench.paths import HUB_DATASET_ID, SUBMISSIONS_DIR, package_dir

MANIFEST_NAME = ".recenter-space.json"
MADE_BY = "recenter space build"
APP_FILE = "app.py"
SUBMISSIONS = "submissions"
# Spaces give the app its address in these variables; these are the Hub's defaults.
DEFAULT_HOST, DEFAULT_PORT = "0.0.0.0", 7860
# More files than a Space folder holds (about 60 today): a walk stops here instead of hashing
# a large folder the user pointed OUT at by mistake.
MAX_FILES = 100_000
MAX_MANIFEST_BYTES = 16 * 1024 * 1024

# The call is guarded: the Submit tab's preview workers are spawned processes, and a spawned
# process runs the main module's unguarded code again (it would start a second board and die).
APP_SOURCE = '''"""The leaderboard Space's entry (made by `recenter space build`): the board of
`recenter leaderboard` over the submissions/ folder beside this file."""

from pathlib import Path

from recenter_bench.space import serve_space

if __name__ == "__main__":
    serve_space(Path(__file__).resolve().parent)
'''


def front_matter(version: str, gradio_version: str, python_version: str) -> dict[str, object]:
    """The Space's configuration (the Hub's Spaces configuration reference), in card order."""
    return {
        "title": "recenter-bench leaderboard",
        "emoji": "🧭",
        "colorFrom": "indigo",
        "colorTo": "red",
        "sdk": "gradio",
        "sdk_version": gradio_version,
        "python_version": python_version,
        "app_file": APP_FILE,
        "pinned": False,
        "license": "apache-2.0",
        "short_description": "Systems ranked against human judgments of LLM personalization",
        "datasets": [HUB_DATASET_ID],
        "tags": ["leaderboard", f"recenter-bench-{version}"],
    }


def _installed_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        raise UserError(
            f"`recenter space build` needs {distribution}, which is not installed: "
            "pip install 'recenter-bench[space]'"
        ) from None


def space_files(submissions: Path = SUBMISSIONS_DIR) -> dict[str, bytes]:
    """{path in the Space: bytes} of the Space folder over a submissions tree (no manifest).

    Raises `ValidationFailed` when the tree has files a submission may not hold (links, stray
    files, oversized files): the Space serves exactly what the tree's checks accept."""
    import yaml

    version = _installed_version("recenter-bench")
    gradio_version = _installed_version("gradio")
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    card = Template(package_dir("recenter_bench").joinpath("space_card.md").read_text("utf-8"))
    matter = yaml.safe_dump(
        front_matter(version, gradio_version, python_version),
        sort_keys=False,
        allow_unicode=True,
    ).strip()
    readme = card.substitute(
        front_matter=matter,
        version=version,
        gradio_version=gradio_version,
        python_version=python_version,
        dataset_id=HUB_DATASET_ID,
    )
    files = {
        "README.md": readme.encode("utf-8"),
        APP_FILE: APP_SOURCE.encode("utf-8"),
        "requirements.txt": (
            "# The leaderboard and its Gradio, at the version this folder was built with.\n"
            f"recenter-bench[space]=={version}\n"
        ).encode(),
    }
    for name, data in submission_tree_files(submissions).items():
        files[f"{SUBMISSIONS}/{name}"] = data
    return files


def submission_tree_files(root: Path) -> dict[str, bytes]:
    """{path under the tree: bytes} of a submissions tree's committed files: its README.md and
    each run's metadata.yaml, stage files, raw answers and results.json."""
    from recenter_bench.review.check_tree import tree_problems
    from recenter_bench.review.read import find_submissions, read_folder

    if not root.is_dir():
        raise UserError(f"{root}: --submissions: not a folder")
    problems = tree_problems(root)
    files: dict[str, bytes] = {}
    readme = root / "README.md"
    if readme.is_file() and not readme.is_symlink():
        files["README.md"] = readme.read_bytes()
    for run in find_submissions(root):
        read = read_folder(run)
        problems += read.problems
        for name, data in read.files.items():
            files[f"{run.parent.name}/{run.name}/{name}"] = data
    if problems:
        raise ValidationFailed(problems[:20])
    return files


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_bytes(files: Mapping[str, bytes]) -> bytes:
    """The manifest of a build: who made it and every file's SHA-256."""
    listing = {"made_by": MADE_BY, "files": {p: _digest(d) for p, d in sorted(files.items())}}
    return (json.dumps(listing, indent=1) + "\n").encode()


def _walk(folder: Path) -> Iterator[Path]:
    """Every entry below `folder` (links not followed), at most MAX_FILES of them."""
    count = 0
    for root, dirs, names in os.walk(folder):
        for name in dirs + names:
            count += 1
            if count > MAX_FILES:
                raise UserError(f"{folder}: more than {MAX_FILES} files: not a Space build")
            yield Path(root, name)


def read_manifest(folder: Path) -> dict[str, str]:
    """{path: SHA-256} of the files a Space build in `folder` wrote; a UserError when `folder`
    was not made by `recenter space build`."""
    path = folder / MANIFEST_NAME
    try:
        if path.is_symlink() or path.stat().st_size > MAX_MANIFEST_BYTES:
            raise ValueError(path)
        listing = json.loads(path.read_bytes())
    except (OSError, ValueError):
        message = f"not made by `{MADE_BY}` (no readable {MANIFEST_NAME})"
        raise UserError(f"{folder}: {message}") from None
    files = listing.get("files") if isinstance(listing, dict) else None
    if not isinstance(files, dict) or listing.get("made_by") != MADE_BY:
        raise UserError(f"{path}: not a manifest of `{MADE_BY}`")
    return files


def check_replaceable(out: Path) -> None:
    """Refuse to replace `out` unless it is absent, an empty folder, or a previous build whose
    files are exactly the ones its manifest lists, unchanged."""
    if not os.path.lexists(out):
        return
    if out.is_symlink() or not out.is_dir():
        raise UserError(f"{out}: exists and is not a folder; choose another OUT")
    entries = list(_walk(out))
    if not entries:
        return
    listed = read_manifest(out)
    for entry in entries:
        relative = entry.relative_to(out).as_posix()
        if entry.is_symlink() or not (entry.is_dir() or entry.is_file()):
            raise UserError(f"{entry}: not made by `{MADE_BY}`; refusing to replace {out}")
        if entry.is_dir() or relative == MANIFEST_NAME:
            continue
        if relative not in listed:
            raise UserError(f"{entry}: not made by `{MADE_BY}`; refusing to replace {out}")
        if _digest(entry.read_bytes()) != listed[relative]:
            raise UserError(f"{entry}: changed since `{MADE_BY}`; refusing to replace {out}")


def build_space(out: Path, submissions: Path = SUBMISSIONS_DIR) -> dict[str, bytes]:
    """Write the Space folder at `out` in one step (atomically replacing a previous build of the
    tool); returns its files. Nothing is written when the folder or the tree is refused."""
    out = Path(out)
    check_replaceable(out)
    files = space_files(Path(submissions))
    with replacing_folder(out) as scratch:
        for name, data in files.items():
            path = scratch / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        (scratch / MANIFEST_NAME).write_bytes(manifest_bytes(files))
    return files


def push_space(
    folder: Path, repo_id: str, *, token: str | None = None, endpoint: str | None = None
) -> str:
    """Create the Space repository if needed (Gradio SDK) and upload the build's files in one
    commit; files already on the Space and not in the build are left alone. Returns the commit
    URL. `endpoint` and `token` default to HF_ENDPOINT and HF_TOKEN."""
    folder = Path(folder)
    listed = read_manifest(folder)
    for name in listed:
        if not (folder / name).is_file():
            raise UserError(f"{folder / name}: missing; run `{MADE_BY} {folder}` again")
    api = hub_api(endpoint, token)
    with hub_upload_errors(repo_id, api.endpoint):
        api.create_repo(repo_id, repo_type="space", space_sdk="gradio", exist_ok=True)
        info = api.upload_folder(
            repo_id=repo_id,
            repo_type="space",
            folder_path=folder,
            commit_message=f"Update the leaderboard Space ({MADE_BY})",
            allow_patterns=sorted(listed),
        )
    return str(info.commit_url)


def serve_space(folder: Path) -> None:
    """Start the board of `recenter leaderboard` over `folder/submissions`, as a Space runs it:
    address from GRADIO_SERVER_NAME / GRADIO_SERVER_PORT (0.0.0.0:7860 by default), labels from
    RECENTER_DATASET, and the pull-request webhook when WEBHOOK_SECRET is set, watching this
    Space's own repository (SPACE_ID, set by the Hub)."""
    from recenter_bench.leaderboard.app import build_app, launch, space_webhook

    dataset = os.environ.get("RECENTER_DATASET") or None
    webhook = space_webhook(dataset)
    if webhook is not None and os.environ.get("SPACE_ID"):
        webhook.repo_id = os.environ["SPACE_ID"]
    host = os.environ.get("GRADIO_SERVER_NAME") or DEFAULT_HOST
    port = int(os.environ.get("GRADIO_SERVER_PORT") or DEFAULT_PORT)
    launch(build_app(folder / SUBMISSIONS, dataset=dataset), host, port, webhook=webhook)


def space_command(args: argparse.Namespace) -> int:
    """`recenter space build OUT [--submissions DIR]` and `recenter space push OUT --repo ID`."""
    if args.space_command == "build":
        submissions = Path(args.submissions) if args.submissions else SUBMISSIONS_DIR
        files = build_space(Path(args.out), submissions)
        runs = {name.rsplit("/", 1)[0] for name in files if name.endswith("/metadata.yaml")}
        print(f"wrote {args.out}: {len(files)} files, {len(runs)} submissions")
        return 0
    url = push_space(Path(args.out), args.repo)
    print(f"pushed {args.out} to {url}")
    return 0
