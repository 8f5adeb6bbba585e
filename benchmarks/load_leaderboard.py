"""Load on the leaderboard Space: many concurrent loopback clients, bounded rounds.

Starts `recenter leaderboard` (a separate process, as on a Space) over a submissions folder on
127.0.0.1, then runs `--rounds` rounds of `--seconds` each with `--clients` concurrent clients
(asyncio + httpx, one connection each). A client loops over a fixed mix, as a visitor clicking
around: 8 in 10 requests are a filter of a stage table (the unqueued `/filter_<tab>` endpoints,
with one of 40 search strings), 1 in 10 a stage plot (`/plot_pairing`), 1 in 10 the page itself.
Each round prints throughput, errors, filter latency p50/p95 and the server's RSS, so a leak shows
as RSS growing round after round.

With `--hostile N` (default 20), one more client, from its own address, runs N previews of a
heavy 4 MiB `pairing.jsonl` in parallel at full rate (upload, preview, again) (`--hostile 0`:
none, the peer to compare with). 1 in 20 of the visitors' requests is a preview of a committed
stage file (each visitor has its own
loopback address, so the Space tells them apart as it tells visitors apart). Before the first
round, one call per tab builds the tables and one preview per worker starts the workers.

Targets (issue 11): at 50 clients, at least 3x the ~12 requests/s measured before the Space
bounded and cached its work, filter p95 under 1.5 s, 0 errors, RSS flat across four rounds.
Issue 15: with the hostile client in the mix, the visitors' filter p95 under 1.5 s and their
preview p95 under 5 s.
Not a test: `python benchmarks/load_leaderboard.py [--clients 50] [--seconds 60] [--rounds 4]
[--hostile 20] [--submissions DIR] [--server-python PYTHON]`. `--server-python` runs the
server with another interpreter, e.g. a virtual environment with an older checkout installed,
for a before/after.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_SPEEDUP = 3.0
BEFORE_RPS = 12.0  # issue 11: "about 12 requests/s in all on 2 cores" at 50 clients
FILTER_P95_TARGET_S = 1.5
PREVIEW_P95_TARGET_S = 5.0
PREVIEW_SHARE = 0.05  # of a visitor's requests
HEAVY_BYTES = 4 * 1024 * 1024 - 4096  # just under the validator's stage-file limit
TABS = ("overview", "extraction", "pairing", "response_quality")
QUERIES = [
    "",
    *(f"{c}" for c in "abcdefghijklmnopqrstuvwxyz"),
    "gpt",
    "bm25",
    "qwen",
    "claude",
    "gemma",
    "llama",
    "paper",
    "recenter",
    "minilm",
    "human",
    "always",
    "random",
    "zz",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, round(q / 100 * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def filter_payloads() -> dict[str, list]:
    """Per tab, the arguments the browser sends to /filter_<tab> after the split and search
    string: every type and provenance, weights and training "any", reference rows shown, and
    columns every version of the Space offers (so a before/after runs the same requests)."""
    types = ["zero-shot LLM", "prompted LLM", "fine-tuned", "retrieval"]
    common = ["type", "open_weights", "provenance"]
    headline = {"extraction": "f1", "pairing": "f1", "response_quality": "spearman"}
    out = {}
    for tab in TABS:
        if tab == "overview":
            metrics = [f"{stage}_{name}" for stage, name in headline.items()]
        else:
            metrics = [headline[tab], f"{headline[tab]}_ci_low", f"{headline[tab]}_ci_high"]
        columns = [*common, *metrics, "date"]
        out[tab] = [types, "any", ["rescored", "reported"], "any", True, columns]
    return out


PAYLOADS: dict[str, list] = {}


def filter_payload(tab: str, query: str) -> dict:
    return {"data": ["all", query, *PAYLOADS[tab]]}


class Tally:
    def __init__(self) -> None:
        self.done = 0
        self.errors: list[str] = []
        self.filter_seconds: list[float] = []
        self.preview_seconds: list[float] = []
        # A visitor's preview in two parts: the upload, then the call until its answer.
        self.upload_seconds: list[float] = []
        self.answer_seconds: list[float] = []
        self.hostile: collections.Counter[str] = collections.Counter()


def heavy_stage_file() -> bytes:
    """A 4 MiB pairing.jsonl the validator must read line by line (every ID unknown)."""
    lines, size, i = [], 0, 0
    while size < HEAVY_BYTES - 100:
        line = json.dumps({"pair_id": f"pair-{i:016x}", "relevant": i % 2 == 0}) + "\n"
        lines.append(line)
        size += len(line)
        i += 1
    return "".join(lines).encode()


async def preview(
    http, name: str, data: bytes, parts: list[float] | None = None
) -> tuple[bool, str]:
    """Upload one stage file and preview it as the Submit tab does: (previewed, what came
    back); `parts` gets the upload's seconds and the call's until its answer."""
    start = time.perf_counter()
    uploaded = await http.post("gradio_api/upload", files=[("files", (name, data))])
    uploaded_at = time.perf_counter()
    if uploaded.status_code != 200:
        return False, f"upload {uploaded.status_code} {uploaded.text[:80]}"
    (path,) = uploaded.json()
    file_data = {"path": path, "meta": {"_type": "gradio.FileData"}, "orig_name": name}
    posted = await http.post("gradio_api/call/preview", json={"data": [[file_data]]})
    if posted.status_code != 200:
        return False, f"preview {posted.status_code} {posted.text[:80]}"
    events = await http.get(f"gradio_api/call/preview/{posted.json()['event_id']}")
    last = [line for line in events.text.splitlines() if line.startswith("data:")][-1]
    message = str(json.loads(last[5:])[0] if last[5:].strip().startswith("[") else last)
    if parts is not None:
        parts[:] = [uploaded_at - start, time.perf_counter() - uploaded_at]
    return message.startswith("No problems found"), message[:100]


async def hostile(http, deadline: float, tally: Tally, data: bytes) -> None:
    """One of the hostile client's parallel loops: heavy previews, back to back."""
    while time.monotonic() < deadline:
        try:
            _, message = await preview(http, "pairing.jsonl", data)
        except Exception as error:  # a refused or dropped request is the point
            message = f"failed: {type(error).__name__}"
        # What came back, as a kind: "upload 429", "No preview: ...", "pairing.jsonl:..."
        kind = message.split(":")[0] if message.startswith("No preview") else message
        tally.hostile[kind[:40]] += 1
        if not message.startswith("pairing.jsonl"):
            await asyncio.sleep(0.05)


async def client(
    http, deadline: float, tally: Tally, number: int, seed: int, light: bytes | None
) -> None:
    rng = random.Random(seed)
    # One session per client, kept across rounds, as a browser tab (and gradio_client) sends
    # it: Gradio builds a session's state once (without one it builds it for every request).
    session = {"session_hash": f"load{number}"}
    kind = "page"
    while time.monotonic() < deadline:
        roll = rng.random()
        start = time.perf_counter()
        try:
            kind = "filter" if roll < 0.8 else "plot" if roll < 0.9 else "page"
            if light is not None and rng.random() < PREVIEW_SHARE:
                kind = "preview"
                parts: list[float] = []
                ok, message = await preview(http, "pairing.jsonl", light, parts)
                if not ok:
                    tally.errors.append(f"preview: {message}")
                    continue
                tally.preview_seconds.append(time.perf_counter() - start)
                tally.upload_seconds.append(parts[0])
                tally.answer_seconds.append(parts[1])
                tally.done += 1
                continue
            if roll < 0.8:
                tab = rng.choice(TABS)
                payload = {**filter_payload(tab, rng.choice(QUERIES)), **session}
                response = await http.post(f"gradio_api/run/filter_{tab}", json=payload)
            elif roll < 0.9:
                payload = {**filter_payload("pairing", rng.choice(QUERIES)), **session}
                response = await http.post("gradio_api/run/plot_pairing", json=payload)
            else:
                response = await http.get("")
            elapsed = time.perf_counter() - start
            if response.status_code != 200:
                tally.errors.append(f"{response.status_code} {response.text[:120]}")
                continue
            if roll < 0.8:
                tally.filter_seconds.append(elapsed)
            tally.done += 1
        except Exception as error:  # counted, not raised: the round goes on
            tally.errors.append(f"{kind}: {type(error).__name__}: {error!r}")


async def one_round(
    url: str,
    clients: int,
    seconds: float,
    seed: int,
    light: bytes | None,
    heavy: bytes | None,
    hostile_tasks: int,
) -> tuple[Tally, float]:
    """One round: `clients` visitors, each from its own loopback address (127.0.1.x), and the
    hostile client's `hostile_tasks` loops from 127.0.2.1."""
    import httpx

    def session(address: str, connections: int) -> httpx.AsyncClient:
        transport = httpx.AsyncHTTPTransport(
            local_address=address,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )
        return httpx.AsyncClient(base_url=url, timeout=120, transport=transport)

    tally = Tally()
    visitors = [session(f"127.0.1.{1 + i % 250}", 2) for i in range(clients)]
    attacker = session("127.0.2.1", max(1, hostile_tasks))
    try:
        start = time.monotonic()
        deadline = start + seconds
        tasks = [
            # Blank lines (ignored by the validator) make each visitor's bytes its own: Gradio
            # stores identical uploads once, and a preview deletes the upload it read.
            client(visitors[i], deadline, tally, i, seed * 1000 + i, light and light + b"\n" * i)
            for i in range(clients)
        ]
        if heavy is not None:
            tasks += [hostile(attacker, deadline, tally, heavy) for _ in range(hostile_tasks)]
        await asyncio.gather(*tasks)
        return tally, time.monotonic() - start
    finally:
        for http in [*visitors, attacker]:
            await http.aclose()


async def warm_previews(url: str, data: bytes, workers: int = 2) -> None:
    """One preview per preview worker, from as many addresses (the fair queue gives each
    client one worker), so no round waits for a worker process to start and load the
    dataset, as no round waits for a table to be built."""
    import httpx

    async def one(number: int) -> None:
        transport = httpx.AsyncHTTPTransport(local_address=f"127.0.3.{number}")
        async with httpx.AsyncClient(base_url=url, timeout=300, transport=transport) as http:
            await preview(http, "pairing.jsonl", data + b"\n" * (1000 + number))

    await asyncio.gather(*(one(number) for number in range(1, workers + 1)))


def start_server(python: str, submissions: Path, port: int) -> subprocess.Popen:
    code = (
        "import sys; from recenter_bench.cli import main; "
        f"sys.exit(main(['leaderboard', '--submissions', {str(submissions)!r}, "
        f"'--host', '127.0.0.1', '--port', '{port}']))"
    )
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    server = subprocess.Popen([python, "-c", code], env=env, stdout=subprocess.DEVNULL)
    for _ in range(600):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            if server.poll() is not None:
                raise SystemExit(f"the server exited with code {server.returncode}") from None
            time.sleep(0.5)
    server.kill()
    raise SystemExit("the server did not start within 300 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--submissions", type=Path, default=Path(__file__).resolve().parent.parent / "submissions"
    )
    parser.add_argument("--server-python", default=sys.executable)
    parser.add_argument(
        "--hostile", type=int, default=20, help="parallel heavy previews of one client (0: none)"
    )
    args = parser.parse_args()
    heavy = heavy_stage_file() if args.hostile else None
    committed = sorted(args.submissions.glob("recenter-bench__BM25/*/pairing.jsonl"))
    light = committed[-1].read_bytes() if committed else None  # visitors' previews

    PAYLOADS.update(filter_payloads())
    port = free_port()
    server = start_server(args.server_python, args.submissions, port)
    url = f"http://127.0.0.1:{port}/"
    import httpx

    for tab in TABS:  # one call per tab first: tables are built on first use
        httpx.post(f"{url}gradio_api/run/filter_{tab}", json=filter_payload(tab, ""), timeout=120)
    if light is not None:
        asyncio.run(warm_previews(url, light))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"{args.clients} clients x {args.seconds:g} s x {args.rounds} rounds against {url} "
        f"({os.cpu_count()} cores, load average {load}; server: {args.server_python})"
    )
    results = []
    try:
        for number in range(1, args.rounds + 1):
            cpu = cpu_seconds(server.pid)
            tally, elapsed = asyncio.run(
                one_round(url, args.clients, args.seconds, number, light, heavy, args.hostile)
            )
            cpu_ms = (cpu_seconds(server.pid) - cpu) * 1000 / max(1, tally.done)
            rps = tally.done / elapsed
            p50 = percentile(tally.filter_seconds, 50)
            p95 = percentile(tally.filter_seconds, 95)
            rss = rss_mib(server.pid)
            preview_p95 = percentile(tally.preview_seconds, 95)
            results.append((rps, p95, rss, len(tally.errors), preview_p95))
            print(
                f"round {number}: {tally.done} requests in {elapsed:.1f} s = {rps:.1f} req/s, "
                f"{len(tally.errors)} errors; filter p50 {p50 * 1000:.0f} ms, "
                f"p95 {p95 * 1000:.0f} ms; server RSS {rss:.0f} MiB, CPU {cpu_ms:.1f} ms/request"
            )
            if light is not None:
                print(
                    f"  visitors' previews: {len(tally.preview_seconds)}, p50 "
                    f"{percentile(tally.preview_seconds, 50):.2f} s, p95 {preview_p95:.2f} s "
                    f"(upload p95 {percentile(tally.upload_seconds, 95):.2f} s, call until "
                    f"answered p95 {percentile(tally.answer_seconds, 95):.2f} s); "
                    f"hostile client's answers: {dict(tally.hostile.most_common(4))}"
                )
            for error in tally.errors[:3]:
                print(f"  error: {error}")
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    rps = statistics.median(r[0] for r in results)
    p95 = max(r[1] for r in results)
    rss = [r[2] for r in results]
    errors = sum(r[3] for r in results)
    met = "met" if rps >= TARGET_SPEEDUP * BEFORE_RPS else "NOT met"
    print(
        f"median throughput {rps:.1f} req/s = {rps / BEFORE_RPS:.1f}x the {BEFORE_RPS:g} req/s "
        f"before (target {TARGET_SPEEDUP:g}x: {met}); "
        f"worst filter p95 {p95:.2f} s (target < {FILTER_P95_TARGET_S} s: "
        f"{'met' if p95 < FILTER_P95_TARGET_S else 'NOT met'}); errors {errors}; "
        f"RSS by round {', '.join(f'{r:.0f}' for r in rss)} MiB "
        f"(last - second {rss[-1] - rss[min(1, len(rss) - 1)]:+.0f} MiB)"
    )
    preview_p95 = max(r[4] for r in results)
    if light is not None:
        print(
            f"with {args.hostile} parallel heavy previews of a hostile client: visitors' worst "
            f"filter p95 {p95:.2f} s (target < {FILTER_P95_TARGET_S} s: "
            f"{'met' if p95 < FILTER_P95_TARGET_S else 'NOT met'}), worst preview p95 "
            f"{preview_p95:.2f} s (target < {PREVIEW_P95_TARGET_S} s: "
            f"{'met' if preview_p95 < PREVIEW_P95_TARGET_S else 'NOT met'})"
        )
    print(
        json.dumps(
            {
                "rps": rps,
                "filter_p95_s": p95,
                "preview_p95_s": preview_p95,
                "errors": errors,
                "rss_mib": rss,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
