"""Leaderboard speed: time to a painted table in headless Chromium, and filter round trips.

Generates N synthetic submissions (default 1,000; every stage, every split) in a temporary
folder, starts the Space on 127.0.0.1, then prints:

- start-up: reading the results.json files and building the app;
- page load: from the page request to the first table painted (default tab), in headless
  Chromium (Debian's /usr/bin/chromium), over several fresh browser contexts;
- filter round trip: median and p95 over 100 `gradio_client` requests to /filter_pairing,
  each with a different search query (see `client_latencies` for the client's settings), next
  to the same requests with the client's defaults, over plain HTTP, and to a no-op endpoint.

Targets (from the issue): table painted within 3 s, filter round trip p95 under 150 ms.
Not a test: run `python benchmarks/bench_leaderboard.py [--submissions N] [--requests R]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
# The synthetic submissions and the Space harness are test fixtures, kept in tests/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

PAINT_TARGET_S = 3.0
FILTER_P95_TARGET_MS = 150.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank), as for latency reports."""
    ordered = sorted(values)
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def time_to_painted_table(url: str, loads: int) -> list[float]:
    """Seconds from page request to the first table's cells painted, per fresh context."""
    from leaderboard_harness import VIEWPORT, headless_chromium

    times = []
    with headless_chromium() as browser:
        for _ in range(loads):
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            start = time.perf_counter()
            page.goto(url, wait_until="commit")
            page.wait_for_selector("#table-overview [role=gridcell]", state="visible")
            # Two animation frames after the cells exist: the frame holding them was painted.
            page.evaluate(
                "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
            )
            times.append(time.perf_counter() - start)
            context.close()
    return times


def filter_arguments(i: int) -> list:
    from recenter_bench.leaderboard.app import opening_filters

    filters = opening_filters("pairing")
    filters["query"] = f"model-{i % 100:02d}"  # matches about 10 of the 1,000 rows
    return ["all", *filters.values()]


def client_latencies(
    url: str, requests: int, api_name: str, arguments, ssl_verify: bool = False
) -> list[float]:
    """Milliseconds per round trip through gradio_client (after 5 warm-up calls).

    `url` is plain HTTP, so there is no certificate to verify; but with `ssl_verify=True` (the
    client's default) httpx builds a verifying TLS context, parsing certifi's CA bundle (about
    25-35 ms here with OpenSSL 3.0), for each of the two HTTP clients gradio_client opens per
    call (the POST to queue/join and the event stream). That is the measuring client's cost,
    not the app's, so the headline figure turns it off; `main` also reports the defaults.
    """
    from gradio_client import Client

    client = Client(url, verbose=False, ssl_verify=ssl_verify)
    try:
        for i in range(5):
            client.predict(*arguments(i), api_name=api_name)
        latencies = []
        for i in range(requests):
            args = arguments(i)
            start = time.perf_counter()
            client.predict(*args, api_name=api_name)
            latencies.append((time.perf_counter() - start) * 1000)
    finally:
        client.close()
    return latencies


def http_latencies(url: str, requests: int) -> list[float]:
    """Milliseconds per /filter_pairing round trip over Gradio's plain HTTP API (POST the call,
    then read its event stream to the end): the server's share of the round trip."""
    import httpx

    latencies = []
    with httpx.Client(base_url=url) as http:
        for i in range(requests + 5):
            start = time.perf_counter()
            posted = http.post("gradio_api/call/filter_pairing", json={"data": filter_arguments(i)})
            event = posted.json()["event_id"]
            stream = http.get(f"gradio_api/call/filter_pairing/{event}").text
            assert "event: complete" in stream, stream[:200]
            if i >= 5:
                latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def noop_floor(requests: int) -> list[float]:
    """gradio_client's own round trip on this machine: an identity endpoint, same settings."""
    import gradio as gr
    from leaderboard_harness import serve

    with gr.Blocks() as demo:
        text, out = gr.Textbox(), gr.Textbox()
        text.change(lambda value: value, text, out, api_name="noop")
    with serve(demo) as url:
        return client_latencies(url, requests, "/noop", lambda i: [f"x{i}"])


def summary(latencies: list[float]) -> str:
    return f"median {statistics.median(latencies):.1f} ms, p95 {percentile(latencies, 95):.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--loads", type=int, default=5, help="page loads to time")
    args = parser.parse_args()

    from leaderboard_harness import serve
    from leaderboard_synthetic import synthetic_submissions

    from recenter_bench.leaderboard.app import build_app

    with tempfile.TemporaryDirectory(prefix="bench-leaderboard-") as tmp:
        root = Path(tmp) / "submissions"
        synthetic_submissions(root, args.submissions)
        start = time.perf_counter()
        demo = build_app(root)
        build_s = time.perf_counter() - start
        with serve(demo) as url:
            paint = time_to_painted_table(url, args.loads)
            latencies = client_latencies(url, args.requests, "/filter_pairing", filter_arguments)
            defaults = client_latencies(
                url, args.requests, "/filter_pairing", filter_arguments, ssl_verify=True
            )
            raw = http_latencies(url, args.requests)
    floor = noop_floor(args.requests)

    cores = os.cpu_count()
    p95_ms = percentile(latencies, 95)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"machine: {cores} cores, load average {load} (other jobs share the cores: "
        f"figures are noisy); {args.submissions} submissions (3 stages x 4 splits each)"
    )
    print(f"start-up (read results.json + build app): {build_s:.2f} s")
    print(
        "time to painted table (first load / median of "
        f"{len(paint)}): {paint[0]:.2f} s / {statistics.median(paint):.2f} s "
        f"(max {max(paint):.2f} s); target {PAINT_TARGET_S:.0f} s: "
        f"{'met' if max(paint) <= PAINT_TARGET_S else 'NOT met'}"
    )
    print(
        f"filter round trip, gradio_client, {len(latencies)} requests: {summary(latencies)}; "
        f"target p95 < {FILTER_P95_TARGET_MS:.0f} ms: "
        f"{'met' if p95_ms < FILTER_P95_TARGET_MS else 'NOT met'}"
    )
    print(f"  same, gradio_client defaults (TLS context/call): {summary(defaults)}")
    print(f"  same filter over plain HTTP (server share):      {summary(raw)}")
    print(f"  gradio_client floor (no-op endpoint, same host): {summary(floor)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
