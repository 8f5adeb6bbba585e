"""A local stand-in for the Hugging Face Hub HTTP API, for tests that upload without a network.

It speaks the endpoints that `huggingface_hub.HfApi` (1.x) calls for `create_repo`,
`upload_folder`, `create_commit` (including `create_pr=True`), `create_pull_request`,
`repo_info` / `dataset_info`, `get_discussion_details`, `comment_discussion`, `list_repo_tree`
and `hf_hub_download`, at any branch or `refs/pr/N`:

    POST /api/repos/create                                   {name, organization, type}
    POST /api/validate-yaml                                  README.md front matter check
    POST /api/{type}s/{repo_id}/preupload/{revision}         -> uploadMode "regular" for all
    POST /api/{type}s/{repo_id}/commit/{revision}[?create_pr=1]   NDJSON: header, file, deletedFile
    POST /api/{type}s/{repo_id}/discussions                  {title, description, pullRequest}
    GET  /api/{type}s/{repo_id}/discussions/{num}
    POST /api/{type}s/{repo_id}/discussions/{num}/comment    {comment}
    GET  /api/{type}s/{repo_id}/tree/{revision}[/{path}][?recursive=true]
    GET  /api/{type}s/{repo_id}[/revision/{revision}]
    HEAD|GET /[{type}s/]{repo_id}/resolve/{revision}/{path}   the file's bytes

Every file is answered "regular" at preupload, so content arrives base64-encoded inside the
commit and no LFS or Xet transfer is involved. The stand-in records what arrived: the files of
every branch and pull-request ref (path -> bytes), the commits, the pull requests and the
comments posted on them.

    with hub_standin() as hub:
        api = HfApi(endpoint=hub.endpoint, token="fake")
        api.create_repo("org/data", repo_type="dataset")
        api.upload_folder(repo_id="org/data", repo_type="dataset", folder_path=folder)
        assert hub.files("org/data")["README.md"].startswith(b"---")

Requests without an `Authorization` header get 401, like the Hub's write endpoints. A revision
or file that does not exist gets 404 with the Hub's `X-Error-Code` (`RevisionNotFound`,
`EntryNotFound`), so `huggingface_hub` raises the errors it raises against the Hub.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

_REPO = r"(?P<type>model|dataset|space)s/(?P<repo>[^/]+/[^/]+)"
# File downloads: models have no type prefix (`/org/name/resolve/...`).
_RESOLVE = (
    r"^/(?:(?P<type>dataset|space)s/)?(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$"
)
_ROUTES = [
    ("POST", re.compile(r"^/api/repos/create$"), "create_repo"),
    ("POST", re.compile(r"^/api/validate-yaml$"), "validate_yaml"),
    ("POST", re.compile(rf"^/api/{_REPO}/preupload/(?P<rev>.+)$"), "preupload"),
    ("POST", re.compile(rf"^/api/{_REPO}/commit/(?P<rev>.+)$"), "commit"),
    ("POST", re.compile(rf"^/api/{_REPO}/discussions$"), "open_discussion"),
    ("GET", re.compile(rf"^/api/{_REPO}/discussions/(?P<num>\d+)$"), "discussion"),
    ("POST", re.compile(rf"^/api/{_REPO}/discussions/(?P<num>\d+)/comment$"), "comment"),
    ("GET", re.compile(rf"^/api/{_REPO}/tree/(?P<rev>[^/]+)(?:/(?P<path>.+))?$"), "tree"),
    ("GET", re.compile(_RESOLVE), "resolve"),
    ("HEAD", re.compile(_RESOLVE), "resolve"),
    ("GET", re.compile(rf"^/api/{_REPO}(?:/revision/(?P<rev>.+))?$"), "repo_info"),
]
_DATE = "2026-01-01T00:00:00.000Z"


@dataclass
class PullRequest:
    num: int
    title: str
    description: str
    files: dict[str, bytes]  # the PR ref's files (the base branch's files plus the changes)
    commits: list[str] = field(default_factory=list)  # commit messages pushed to the PR
    comments: list[str] = field(default_factory=list)  # comments posted on the PR, in order

    @property
    def ref(self) -> str:
        return f"refs/pr/{self.num}"


@dataclass
class Repo:
    repo_id: str
    repo_type: str
    private: bool = False
    branches: dict[str, dict[str, bytes]] = field(default_factory=lambda: {"main": {}})
    commits: list[dict[str, Any]] = field(default_factory=list)
    pull_requests: dict[int, PullRequest] = field(default_factory=dict)

    def sha(self, revision: str = "main") -> str:
        files = self.ref_files(revision)
        digest = hashlib.sha1(
            repr(sorted(files.items())).encode() + str(len(self.commits)).encode()
        )
        return digest.hexdigest()

    def ref_files(self, revision: str) -> dict[str, bytes]:
        match = re.fullmatch(r"refs/pr/(\d+)", revision)
        if match:
            return self.pull_requests[int(match[1])].files
        return self.branches.setdefault(revision.removeprefix("refs/heads/"), {})

    def has_revision(self, revision: str) -> bool:
        """A branch (`main` or `refs/heads/main`) or an open `refs/pr/N`."""
        match = re.fullmatch(r"refs/pr/(\d+)", revision)
        if match:
            return int(match[1]) in self.pull_requests
        return revision.removeprefix("refs/heads/") in self.branches


def git_blob_id(data: bytes) -> str:
    """The git object id of a file's bytes, as the Hub's tree listing gives it (`oid`)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class HubStandIn:
    """The recorded state of the stand-in; `endpoint` is the URL to give `HfApi`."""

    def __init__(self) -> None:
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request
        self.endpoint = ""
        self.lock = threading.Lock()

    def repo(self, repo_id: str, repo_type: str = "dataset") -> Repo:
        return self.repos[(repo_type, repo_id)]

    def files(
        self, repo_id: str, repo_type: str = "dataset", revision: str = "main"
    ) -> dict[str, bytes]:
        """path -> bytes of a branch or `refs/pr/N` of a repository."""
        return dict(self.repo(repo_id, repo_type).ref_files(revision))

    def pull_requests(self, repo_id: str, repo_type: str = "dataset") -> list[PullRequest]:
        return [pr for _, pr in sorted(self.repo(repo_id, repo_type).pull_requests.items())]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hub: HubStandIn  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the log
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch("HEAD")

    # -- plumbing -------------------------------------------------------------------------------

    def _reply(self, status: int, payload: Any, error_code: str | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if status >= 400:
            self.send_header("X-Error-Message", str(payload.get("error", "")))
        if error_code:
            self.send_header("X-Error-Code", error_code)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        body = self._body() if method == "POST" else b""
        with self.hub.lock:
            self.hub.requests.append((method, url.path))
            for route_method, pattern, name in _ROUTES:
                match = pattern.match(url.path)
                if route_method == method and match:
                    if method == "POST" and not self.headers.get("Authorization"):
                        self._reply(401, {"error": "Invalid credentials in Authorization header"})
                        return
                    params = {k: v[-1] for k, v in parse_qs(url.query).items()}
                    getattr(self, f"_{name}")(match.groupdict(), params, body)
                    return
        self._reply(404, {"error": f"stand-in has no route {method} {url.path}"})

    def _find(self, groups: dict[str, str]) -> Repo | None:
        repo = self.hub.repos.get((groups["type"], groups["repo"]))
        if repo is None:
            self._reply(404, {"error": "Repository not found"})
        return repo

    def _revision(self, repo: Repo, groups: dict[str, str]) -> str | None:
        """The (URL-decoded) revision of a read request, or None after a 404 reply."""
        revision = unquote(groups.get("rev") or "main")
        if not repo.has_revision(revision):
            self._reply(404, {"error": f"Invalid rev id: {revision}"}, "RevisionNotFound")
            return None
        return revision

    def _url(self, repo: Repo) -> str:
        prefix = "" if repo.repo_type == "model" else f"{repo.repo_type}s/"
        return f"{self.hub.endpoint}/{prefix}{repo.repo_id}"

    # -- endpoints ------------------------------------------------------------------------------

    def _create_repo(self, groups: dict, params: dict, body: bytes) -> None:
        payload = json.loads(body or b"{}")
        name, organization = payload.get("name"), payload.get("organization")
        repo_id = f"{organization}/{name}" if organization else f"user/{name}"
        repo_type = payload.get("type") or "model"
        if (repo_type, repo_id) in self.hub.repos:
            existing = self.hub.repos[(repo_type, repo_id)]
            self._reply(409, {"error": "You already created this repo", "url": self._url(existing)})
            return
        repo = Repo(repo_id, repo_type, private=payload.get("visibility") == "private")
        self.hub.repos[(repo_type, repo_id)] = repo
        self._reply(200, {"url": self._url(repo), "name": repo_id, "id": repo_id})

    def _validate_yaml(self, groups: dict, params: dict, body: bytes) -> None:
        # The Hub checks the card's front matter before an upload; a stand-in check that it is a
        # YAML mapping catches a broken card the same way (HTTP 400 with `errors`).
        content = json.loads(body).get("content", "")
        match = re.match(r"^---\n(.*?)\n---\n", content, re.DOTALL)
        try:
            metadata = yaml.safe_load(match[1]) if match else {}
        except yaml.YAMLError as error:
            self._reply(400, {"errors": [{"message": f"invalid YAML: {error}"}]})
            return
        if not isinstance(metadata, dict):
            self._reply(400, {"errors": [{"message": "metadata must be a YAML mapping"}]})
            return
        self._reply(200, {"warnings": []})

    def _preupload(self, groups: dict, params: dict, body: bytes) -> None:
        if self._find(groups) is None:
            return
        files = json.loads(body)["files"]
        self._reply(
            200,
            {
                "files": [
                    {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None}
                    for f in files
                ]
            },
        )

    def _open_pr(self, repo: Repo, title: str, description: str, base: str) -> PullRequest:
        num = max([0, *repo.pull_requests]) + 1
        pr = PullRequest(num, title, description, dict(repo.ref_files(base)))
        repo.pull_requests[num] = pr
        return pr

    def _commit(self, groups: dict, params: dict, body: bytes) -> None:
        repo = self._find(groups)
        if repo is None:
            return
        revision = unquote(groups["rev"])
        header: dict[str, Any] = {}
        changes: list[tuple[str, str, bytes | None]] = []
        for line in body.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                header = value
            elif key == "file":
                content = value["content"]
                data = base64.b64decode(content) if value.get("encoding") == "base64" else content
                changes.append(
                    ("add", value["path"], data if isinstance(data, bytes) else data.encode())
                )
            elif key in ("deletedFile", "deletedFolder"):
                changes.append(("delete", value["path"], None))
            else:
                self._reply(400, {"error": f"stand-in does not support commit item {key!r}"})
                return
        pr = None
        if params.get("create_pr") in ("1", "true", "True"):
            pr = self._open_pr(
                repo, header.get("summary", ""), header.get("description", ""), revision
            )
            target = pr.files
        else:
            if re.fullmatch(r"refs/pr/(\d+)", revision):
                pr = repo.pull_requests.get(int(revision.rsplit("/", 1)[1]))
                if pr is None:
                    self._reply(404, {"error": "Pull request not found"})
                    return
            target = repo.ref_files(revision)
        for action, path, data in changes:
            if action == "add":
                target[path] = data  # type: ignore[assignment]
            else:
                for existing in [
                    p for p in target if p == path or p.startswith(path.rstrip("/") + "/")
                ]:
                    del target[existing]
        repo.commits.append(
            {
                "revision": pr.ref if pr else revision,
                "summary": header.get("summary", ""),
                "description": header.get("description", ""),
                "paths": [path for _, path, _ in changes],
            }
        )
        if pr is not None:
            pr.commits.append(header.get("summary", ""))
        oid = repo.sha(pr.ref if pr else revision)
        reply = {"commitUrl": f"{self._url(repo)}/commit/{oid}", "commitOid": oid}
        if pr is not None:
            reply["pullRequestUrl"] = f"{self._url(repo)}/discussions/{pr.num}"
        self._reply(200, reply)

    def _open_discussion(self, groups: dict, params: dict, body: bytes) -> None:
        repo = self._find(groups)
        if repo is None:
            return
        payload = json.loads(body)
        if not payload.get("pullRequest"):
            self._reply(400, {"error": "stand-in only supports pull requests"})
            return
        pr = self._open_pr(repo, payload.get("title", ""), payload.get("description", ""), "main")
        self._reply(200, {"num": pr.num, "url": f"{self._url(repo)}/discussions/{pr.num}"})

    def _find_pr(self, groups: dict[str, str]) -> tuple[Repo, PullRequest] | None:
        repo = self._find(groups)
        pr = repo and repo.pull_requests.get(int(groups["num"]))
        if repo is not None and pr is None:
            self._reply(404, {"error": "Discussion not found"})
        return (repo, pr) if pr else None

    def _discussion(self, groups: dict, params: dict, body: bytes) -> None:
        found = self._find_pr(groups)
        if found is None:
            return
        repo, pr = found
        self._reply(
            200,
            {
                "num": pr.num,
                "title": pr.title,
                "status": "draft",
                "isPullRequest": True,
                "createdAt": _DATE,
                "author": {"name": "stand-in"},
                "repo": {"name": repo.repo_id, "type": repo.repo_type},
                "events": [self._comment_event(pr, i) for i in range(len(pr.comments))],
                "changes": {"base": "refs/heads/main"},
                "filesWithConflicts": [],
                "diff": "",
            },
        )

    def _comment_event(self, pr: PullRequest, index: int) -> dict[str, Any]:
        return {
            "id": f"comment-{pr.num}-{index}",
            "type": "comment",
            "createdAt": _DATE,
            "author": {"name": "stand-in"},
            "data": {"edited": False, "hidden": False, "latest": {"raw": pr.comments[index]}},
        }

    def _comment(self, groups: dict, params: dict, body: bytes) -> None:
        found = self._find_pr(groups)
        if found is None:
            return
        _, pr = found
        pr.comments.append(json.loads(body)["comment"])
        self._reply(200, {"newMessage": self._comment_event(pr, len(pr.comments) - 1)})

    def _tree(self, groups: dict, params: dict, body: bytes) -> None:
        repo = self._find(groups)
        revision = repo and self._revision(repo, groups)
        if revision is None:
            return
        files = repo.ref_files(revision)
        base = unquote(groups.get("path") or "").strip("/")
        prefix = f"{base}/" if base else ""
        under = {p: b for p, b in files.items() if p.startswith(prefix)}
        if base and not under:
            self._reply(404, {"error": f"{base} does not exist"}, "EntryNotFound")
            return
        recursive = params.get("recursive") in ("1", "true", "True")
        entries: dict[str, dict[str, Any]] = {}
        for path, data in sorted(under.items()):
            parts = path[len(prefix) :].split("/")
            folders = parts[:-1] if recursive else parts[: min(1, len(parts) - 1)]
            for depth in range(1, len(folders) + 1):
                folder = prefix + "/".join(parts[:depth])
                entries.setdefault(folder, {"type": "directory", "oid": "0" * 40, "path": folder})
            if recursive or len(parts) == 1:
                entries[path] = {
                    "type": "file",
                    "oid": git_blob_id(data),
                    "size": len(data),
                    "path": path,
                }
        self._reply(200, list(entries.values()))

    def _resolve(self, groups: dict, params: dict, body: bytes) -> None:
        repo = self.hub.repos.get((groups.get("type") or "model", groups["repo"]))
        if repo is None:
            self._reply(404, {"error": "Repository not found"}, "RepoNotFound")
            return
        revision = self._revision(repo, groups)
        if revision is None:
            return
        data = repo.ref_files(revision).get(unquote(groups["path"]))
        if data is None:
            self._reply(404, {"error": "Entry not found"}, "EntryNotFound")
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", f'"{git_blob_id(data)}"')
        self.send_header("X-Repo-Commit", repo.sha(revision))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(data)

    def _repo_info(self, groups: dict, params: dict, body: bytes) -> None:
        repo = self._find(groups)
        if repo is None:
            return
        revision = unquote(groups.get("rev") or "main")
        files = repo.ref_files(revision)
        self._reply(
            200,
            {
                "id": repo.repo_id,
                "sha": repo.sha(revision),
                "private": repo.private,
                "lastModified": _DATE,
                "siblings": [{"rfilename": p, "size": len(b)} for p, b in sorted(files.items())],
                "tags": [],
                "downloads": 0,
                "likes": 0,
            },
        )


@contextmanager
def hub_standin() -> Iterator[HubStandIn]:
    """Serve a fresh stand-in on 127.0.0.1 (random port) for the duration of the block.

    The test session runs with `HF_HUB_OFFLINE=1` (see the root conftest), which makes
    `huggingface_hub` refuse every request. The stand-in is on the loopback interface, so its
    block lifts that switch and puts it back afterwards.
    """
    from huggingface_hub import constants

    hub = HubStandIn()
    handler = type("Handler", (_Handler,), {"hub": hub})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    hub.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="hub-standin", daemon=True)
    thread.start()
    offline = constants.HF_HUB_OFFLINE
    constants.HF_HUB_OFFLINE = False
    try:
        yield hub
    finally:
        constants.HF_HUB_OFFLINE = offline
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
