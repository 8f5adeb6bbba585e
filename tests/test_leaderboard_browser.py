"""The Space in headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Serves the committed submissions plus one hostile fixture row (markup in the model name and org,
a `javascript:` link), then checks what a visitor sees: the committed and reference rows, filters
that change the rows, markup shown as inert text, and no console or page errors. A failing test
leaves a screenshot (its path is in the failure message).
"""

from __future__ import annotations

import contextlib
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from recenter_bench.leaderboard.app import OVERVIEW, LeaderboardData, build_app
from recenter_bench.leaderboard.harness import VIEWPORT, headless_chromium, serve
from recenter_bench.leaderboard.synthetic import (
    MARKUP_MODEL,
    MARKUP_ORG,
    SCRIPT_LINK,
    fixture_metadata,
    stage_scores,
    write_fixture_tree,
    write_submission,
)
from recenter_bench.leaderboard.table import SPLITS, STAGE_TITLES, STAGES, load_submissions
from recenter_bench.paths import SUBMISSIONS_DIR

# Skip, not fail, where Playwright's Python package is not installed (the harness imports it).
pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser

TAB_NAMES = {OVERVIEW: "Overview", **STAGE_TITLES}
MARKUP_FOLDER = "zz-fixture__markup"


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed submissions (or, in a checkout without any, the fixture tree) plus the
    hostile row."""
    root = tmp_path_factory.mktemp("submissions")
    committed, problems = load_submissions(SUBMISSIONS_DIR)
    assert problems == [], problems
    if committed:
        shutil.copytree(SUBMISSIONS_DIR, root, dirs_exist_ok=True)
    else:
        write_fixture_tree(root)
    metadata = fixture_metadata(
        MARKUP_MODEL,
        MARKUP_ORG,
        "prompted LLM",
        link=SCRIPT_LINK,
        description="<script>alert(3)</script>",
    )
    rng = random.Random(0)
    scores = {stage: stage_scores(rng, stage) for stage in STAGES}
    write_submission(root, MARKUP_FOLDER, "run1", metadata, scores)
    return root


@pytest.fixture(scope="module")
def server(tree: Path) -> Iterator[tuple[str, LeaderboardData]]:
    demo = build_app(tree)
    with serve(demo) as url:
        yield url, demo.leaderboard_data


class Visit:
    """A page plus everything it reported: console errors, page errors, dialogs, requests.

    `data` is what the server shows; a failure inside `screenshot_on_failure()` leaves a
    screenshot at `screenshot`.
    """

    def __init__(self, page, base: str, data: LeaderboardData, screenshot: Path) -> None:
        self.page = page
        self.base = base
        self.data = data
        self.screenshot = screenshot
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.on(
            "request",
            lambda r: (
                self.problems.append(f"external request: {r.url}")
                if not r.url.startswith((base, "data:", "blob:"))
                else None
            ),
        )
        page.on("requestfailed", self._failed)

    def _failed(self, request) -> None:
        # Gradio closes a finished event's server-sent-event stream; Chromium reports the
        # closed stream as an aborted request. Any other failed request is a problem.
        if request.url.startswith(self.base + "gradio_api/queue/data") and (
            request.failure == "net::ERR_ABORTED"
        ):
            return
        self.problems.append(f"request failed: {request.url} ({request.failure})")

    @contextlib.contextmanager
    def screenshot_on_failure(self) -> Iterator[None]:
        try:
            yield
        except BaseException as error:
            with contextlib.suppress(Exception):
                self.page.screenshot(path=str(self.screenshot), full_page=True)
            raise AssertionError(f"{error}\nscreenshot: {self.screenshot}") from error


@pytest.fixture(scope="module")
def browser():
    with headless_chromium() as chromium:
        yield chromium


@pytest.fixture
def visit(browser, server, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Visit]:
    base, data = server
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(20_000)
    seen = Visit(page, base, data, tmp_path / f"{request.node.name}.png")
    page.goto(base)
    page.wait_for_selector("#table-overview [role=grid]")
    try:
        yield seen
    finally:
        context.close()


def open_tab(page, key: str, rows: int) -> None:
    """Open a tab and wait until its table holds `rows` rows (stage tables load on opening)."""
    page.get_by_role("tab", name=TAB_NAMES[key], exact=True).click()
    page.wait_for_selector(f"#table-{key} [role=grid]", state="visible")
    wait_rows(page, key, rows)


def open_default_tab(page, data: LeaderboardData, key: str) -> pd.DataFrame:
    """Open a tab on the split it opens with and return that split's full table."""
    table = data.table(key, data.default_split(key))
    open_tab(page, key, len(table))
    return table


def panel(page, key: str):
    """The tab panel holding a table, to scope its controls (every tab has a search box)."""
    return page.locator(f"[role=tabpanel]:has(#table-{key})")


def row_count(page, key: str) -> int:
    # The grid is virtualised: aria-rowcount (rows + the header row) counts every row.
    return int(page.get_attribute(f"#table-{key} [role=grid]", "aria-rowcount")) - 1


def column_texts(page, key: str, header: str) -> list[str]:
    """Every cell of one column, scrolling the virtualised grid from top to bottom."""
    table = f"#table-{key}"
    column = page.get_attribute(f'{table} th[title="{header}"]', "data-heading")
    texts: dict[int, str] = {}
    viewport = page.locator(f"{table} .virtual-table-viewport")
    viewport.evaluate("el => { el.scrollTop = 0; }")
    total = row_count(page, key)
    for _ in range(200):
        # Key by the row's position on screen (data-index): after a sort in the browser,
        # a cell's data-row still names its row in the data, not where it is shown.
        shown = page.evaluate(
            """([table, column]) => Array.from(
                document.querySelectorAll(`${table} .virtual-row`),
                row => [Number(row.dataset.index),
                        row.querySelector(`[role=gridcell][data-col="${column}"]`)?.innerText]
            )""",
            [table, column],
        )
        texts.update({index: (text or "").strip() for index, text in shown})
        if len(texts) >= total:
            break
        viewport.evaluate("el => { el.scrollTop += el.clientHeight / 2; }")
        page.wait_for_timeout(50)
    return [texts[i] for i in sorted(texts)]


def wait_rows(page, key: str, expected: int) -> None:
    page.wait_for_function(
        "([sel, n]) => Number(document.querySelector(sel)?.getAttribute('aria-rowcount')) === n",
        arg=[f"#table-{key} [role=grid]", expected + 1],
    )


def test_tables_show_the_committed_submissions_and_reference_rows(visit):
    page, data = visit.page, visit.data
    committed, _ = load_submissions(SUBMISSIONS_DIR)
    with visit.screenshot_on_failure():
        for key in (OVERVIEW, *STAGES):
            table = open_default_tab(page, data, key)
            shown = column_texts(page, key, "Model")
            assert shown == table["model"].tolist(), key
            types = column_texts(page, key, "Type")
            references = table[table["reference"]]
            assert sum(t.startswith("reference: ") for t in types) == len(references), key
        # Every committed run is in the overview on some split, and reference rows are there.
        open_default_tab(page, data, OVERVIEW)
        seen: set[str] = set()
        for split in SPLITS:
            panel(page, OVERVIEW).get_by_label(f"{split} (", exact=False).check()
            wait_rows(page, OVERVIEW, len(data.table(OVERVIEW, split)))
            seen |= set(column_texts(page, OVERVIEW, "Model"))
        assert {s.metadata["model"] for s in committed} <= seen
        assert any(s.reference for s in committed) or not committed
        assert visit.problems == [] and visit.dialogs == []


def test_filters_change_the_visible_rows(visit):
    page, data = visit.page, visit.data
    with visit.screenshot_on_failure():
        full = open_default_tab(page, data, "pairing")
        assert row_count(page, "pairing") == len(full)
        target = full[~full["reference"]]["model"].iloc[0]
        tab = panel(page, "pairing")
        tab.get_by_label("Search model").fill(target.lower())
        matches = full[
            full["reference"]
            | full["model"].str.casefold().str.contains(target.casefold(), regex=False)
        ]
        wait_rows(page, "pairing", len(matches))
        assert set(column_texts(page, "pairing", "Model")) == set(matches["model"])
        tab.get_by_label("Show reference rows (human, no-skill)").uncheck()
        systems = matches[~matches["reference"]]
        wait_rows(page, "pairing", len(systems))
        assert set(column_texts(page, "pairing", "Model")) == set(systems["model"])
        assert len(systems) < len(full)
        assert visit.problems == [] and visit.dialogs == []


def test_markup_from_a_submission_renders_as_inert_text(visit):
    page, data = visit.page, visit.data
    with visit.screenshot_on_failure():
        for key in (OVERVIEW, "pairing"):
            open_default_tab(page, data, key)
            assert MARKUP_MODEL in column_texts(page, key, "Model")
            cell = page.locator(f"#table-{key} [role=gridcell]", has_text=MARKUP_MODEL).first
            assert cell.locator("img, script, a").count() == 0
        # Nothing a submitter wrote became an element or a script link anywhere on the page.
        assert page.locator("img[src='x'], a[href^='javascript' i]").count() == 0
        page.get_by_role("tab", name="Submission", exact=True).click()
        page.get_by_label("Submission").first.click()
        page.get_by_role("option", name=f"{MARKUP_MODEL} · {MARKUP_FOLDER}/run1").click()
        page.get_by_text(MARKUP_ORG, exact=True).wait_for()
        description = page.get_by_label("description", exact=True)
        page.wait_for_function(
            "el => el.value === '<script>alert(3)</script>'", arg=description.element_handle()
        )
        assert page.locator("img[src='x'], a[href^='javascript' i]").count() == 0
        page.wait_for_timeout(300)
        assert visit.dialogs == [] and visit.problems == []


def test_any_column_sorts_from_its_header_menu(visit):
    page, data = visit.page, visit.data
    with visit.screenshot_on_failure():
        full = open_default_tab(page, data, "pairing")
        header = '#table-pairing th[title="Recall"]'
        page.click(f"{header} .header-content")
        page.click(f"{header} button.cell-menu-button")
        page.get_by_text("Sort ascending", exact=True).click()
        expected = sorted(round(v, 3) for v in full["recall"].dropna())
        recall: list[float] = []
        for _ in range(40):  # the sort is applied in the browser, without a server event
            recall = [float(t) for t in column_texts(page, "pairing", "Recall") if t]
            if recall == expected:
                break
            page.wait_for_timeout(250)
        assert recall == expected
        assert recall != [round(v, 3) for v in full["recall"].dropna()]
        assert visit.problems == [] and visit.dialogs == []
