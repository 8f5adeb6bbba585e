"""Run the Space locally for the tests and the benchmark: in-process on a free port of 127.0.0.1,
and looked at through headless Chromium.

Chromium is Debian's `/usr/bin/chromium` (installed by `.ci/run`), driven by Playwright's Python
package, which is imported only when a browser is asked for: the Space itself never needs it.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import httpx

from recenter_bench.leaderboard.app import launch

CHROMIUM = "/usr/bin/chromium"
# No sandbox (CI containers have no user namespaces) and nothing that talks to Google: the
# browser test fails on any request that leaves the page's own server.
CHROMIUM_ARGS: tuple[str, ...] = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)
# Wide enough that every tab's controls sit in one row, as on a desktop.
VIEWPORT = {"width": 1400, "height": 1000}


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(demo: gr.Blocks, **launch_kwargs: Any) -> Iterator[str]:
    """Serve `demo` in this process on 127.0.0.1 with the Space's launch settings (theme, CSS, no
    run history, upload cap, and `launch`'s other keywords, e.g. `webhook`); yields its URL and
    closes the server afterwards."""
    port = free_port()
    launch(demo, "127.0.0.1", port, prevent_thread_lock=True, quiet=True, **launch_kwargs)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@contextlib.contextmanager
def headless_chromium() -> Iterator[Any]:
    """A Playwright `Browser` on Debian's headless Chromium, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


def preview_answer(base_url: str, stage_file: Path) -> str:
    """The Submit tab's preview of `stage_file` over the served HTTP API (upload, call, event
    stream): the JSON text of its answer, for the caller to parse as strictly as it needs."""
    with httpx.Client(base_url=base_url, timeout=300) as http:
        upload = [("files", ("pairing.jsonl", stage_file.read_bytes()))]
        (path,) = http.post("gradio_api/upload", files=upload).json()
        file_data = {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": "p.jsonl"}
        posted = http.post("gradio_api/call/preview", json={"data": [[file_data]]})
        events = http.get(f"gradio_api/call/preview/{posted.json()['event_id']}").text
    lines = [line[5:].strip() for line in events.splitlines() if line.startswith("data:")]
    return lines[-1]
