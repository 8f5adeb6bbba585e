"""The Space in headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Serves the committed submissions plus one hostile fixture row (markup in the model name and org,
a `javascript:` link), then checks what a visitor sees: the committed and reference rows, filters
that change the rows, markup shown as inert text, and no console or page errors. A failing test
leaves a screenshot (its path is in the failure message).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from leaderboard_harness import VIEWPORT, headless_chromium, serve
from leaderboard_synthetic import (
    MARKUP_MODEL,
    MARKUP_ORG,
    SCRIPT_LINK,
    committed_run,
    fixture_metadata,
    stage_scores,
    write_fixture_tree,
    write_submission,
)

from recenter_bench.leaderboard.app import OVERVIEW, LeaderboardData, build_app
from recenter_bench.leaderboard.table import SPLITS, STAGE_TITLES, STAGES, load_submissions
from recenter_bench.paths import SUBMISSIONS_DIR

# Skip, not fail, where Playwright's Python package is not installed (the harness imports it).
pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.browser
# Where the views' screenshots go, to be looked at (RECENTER_SCREENSHOTS, else a temp folder).
SCREENSHOTS = Path(os.environ.get("RECENTER_SCREENSHOTS") or tempfile.mkdtemp(prefix="shots-"))

TAB_NAMES = {OVERVIEW: "Overview", **STAGE_TITLES}
MARKUP_FOLDER = "zz-fixture__markup"
MARKUP_SHOWN = f"{MARKUP_MODEL} ({MARKUP_ORG})"  # names carry their provenance
COMMITTED_BM25 = committed_run()  # re-scored, trained on train and validation
UNSCORED_RUN = "newcomer__my-judge/v1"
GEMMA = "google__Gemma-4-31B/authors-votes"  # re-scored from the authors' votes
# The window the issue asks the tables to fit without a sideways scroll.
SMALL_WINDOW = {"width": 1280, "height": 800}


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
    # A run folder that is there but not scored yet: metadata, no results.json.
    unscored = root / UNSCORED_RUN
    unscored.mkdir(parents=True)
    (unscored / "metadata.yaml").write_text(
        yaml.safe_dump(fixture_metadata("Newcomer", "newcomer", "prompted LLM")), encoding="utf-8"
    )
    return root


@pytest.fixture(scope="module")
def server(tree: Path, preview_dataset: Path) -> Iterator[tuple[str, LeaderboardData]]:
    demo = build_app(tree, dataset=str(preview_dataset))
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
    yield from _visit(browser, server, tmp_path, request, VIEWPORT)


@pytest.fixture
def small_visit(browser, server, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Visit]:
    """A visit in a 1280 x 800 window."""
    yield from _visit(browser, server, tmp_path, request, SMALL_WINDOW)


def _visit(browser, server, tmp_path, request, viewport) -> Iterator[Visit]:
    base, data = server
    context = browser.new_context(viewport=viewport)
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
            split_radio(page, OVERVIEW, split).check()
            wait_rows(page, OVERVIEW, len(data.table(OVERVIEW, split)))
            seen |= set(column_texts(page, OVERVIEW, "Model"))
        assert {data.names[s.id] for s in committed} <= seen
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
            assert MARKUP_SHOWN in column_texts(page, key, "Model")
            cell = page.locator(f"#table-{key} [role=gridcell]", has_text=MARKUP_MODEL).first
            assert cell.locator("img, script").count() == 0
            # The one link is the row's own Submission view.
            hrefs = cell.locator("a").evaluate_all("els => els.map(el => el.getAttribute('href'))")
            assert hrefs == [f"?submission={MARKUP_FOLDER}%2Frun1"]
        # Nothing a submitter wrote became an element or a script link anywhere on the page.
        assert page.locator("img[src='x'], a[href^='javascript' i]").count() == 0
        page.get_by_role("tab", name="Submission", exact=True).click()
        page.get_by_label("Submission").first.click()
        page.get_by_role("option", name=f"{MARKUP_SHOWN} · {MARKUP_FOLDER}/run1").click()
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


def split_radio(page, key: str, split: str):
    """A tab's split radio button (labelled "<split> (<n> rows)")."""
    return panel(page, key).get_by_role("radio", name=re.compile(rf"^{split} \(\d+ rows?\)$"))


def select_split(page, key: str, split: str) -> None:
    split_radio(page, key, split).check()
    wait_rows(page, key, len(page_data(page).table(key, split)))


def page_data(page) -> LeaderboardData:
    return page._leaderboard_data


def test_stage_2_opens_on_test_and_trained_rows_have_no_rank_where_they_trained(visit):
    page, data = visit.page, visit.data
    page._leaderboard_data = data
    name = data.names[COMMITTED_BM25]
    with visit.screenshot_on_failure():
        open_default_tab(page, data, "pairing")
        checked = panel(page, "pairing").locator("input[type=radio]:checked").first
        assert checked.get_attribute("value") == "test" or "test" in (
            checked.evaluate("el => el.parentElement.innerText") or ""
        )
        models = column_texts(page, "pairing", "Model")
        ranks = column_texts(page, "pairing", "Rank")
        assert ranks[models.index(name)] != ""  # held out on test: ranked
        intervals = column_texts(page, "pairing", "Rank 95% interval")
        assert intervals[models.index(name)] not in ("", "no interval")
        for split in ("all", "train"):
            select_split(page, "pairing", split)
            models = column_texts(page, "pairing", "Model")
            ranks = column_texts(page, "pairing", "Rank")
            reasons = column_texts(page, "pairing", "Not ranked because")
            assert ranks[models.index(name)] == "", split
            assert reasons[models.index(name)].startswith("not held out: trained or tuned on")
        # Two rows named BM25, told apart by their provenance.
        select_split(page, "pairing", "all")
        models = column_texts(page, "pairing", "Model")
        assert "BM25 (paper)" in models and "BM25 (recenter-bench)" in models
        page.screenshot(path=str(SCREENSHOTS / "stage2-all.png"), full_page=True)
        assert visit.problems == [] and visit.dialogs == []


def test_overview_says_who_leads_with_a_chart_per_stage(visit):
    page = visit.page
    with visit.screenshot_on_failure():
        leaders = page.locator("#leaders")
        leaders.get_by_text("Who leads").wait_for()
        text = leaders.inner_text()
        assert "Stage 2" in text and "on test" in text
        page.locator("#leaders-pairing .vega-embed").first.wait_for()
        page.screenshot(path=str(SCREENSHOTS / "overview.png"), full_page=True)
        assert visit.problems == [] and visit.dialogs == []


def test_error_analysis_and_agreement_render_for_a_committed_rescored_row(visit):
    page, data = visit.page, visit.data
    name = data.names[COMMITTED_BM25]
    with visit.screenshot_on_failure():
        page.get_by_role("tab", name="Submission", exact=True).click()
        page.get_by_label("Submission").first.click()
        page.get_by_role("option", name=f"{name} · {COMMITTED_BM25}").click()
        page.locator("#inspect-summary").get_by_text("rank interval").wait_for()
        page.wait_for_selector("#pairwise [role=gridcell]")
        page.wait_for_selector("#disagreements [role=gridcell]")
        page.locator("#cluster-plot .vega-embed").first.wait_for()
        page.locator("#inspect-plot .vega-embed").first.wait_for()
        summary = page.locator("#inspect-summary").inner_text()
        assert "disagrees with the human reference on" in summary
        page.screenshot(path=str(SCREENSHOTS / "submission.png"), full_page=True)
        page.get_by_role("tab", name="Agreement", exact=True).click()
        page.locator("#agreement-plot .vega-embed").first.wait_for()
        page.wait_for_selector("#agreement-table [role=gridcell]")
        assert page.locator("#agreement-table").get_by_text("Human majority").count() >= 1
        page.screenshot(path=str(SCREENSHOTS / "agreement.png"), full_page=True)
        assert visit.problems == [] and visit.dialogs == []


# --- a visitor's first look in a 1280 x 800 window ---------------------------------------------


def test_stage_2_ranked_score_is_in_view_without_a_sideways_scroll(small_visit):
    page, data = small_visit.page, small_visit.data
    with small_visit.screenshot_on_failure():
        assert data.default_split("pairing") == "test"
        open_default_tab(page, data, "pairing")
        for header in ("Rank", "Model", "F1", "F1 95% CI low", "F1 95% CI high"):
            box = page.locator(f'#table-pairing th[title="{header}"]').bounding_box()
            assert box is not None and box["x"] >= 0, header
            assert box["x"] + box["width"] <= SMALL_WINDOW["width"], header
        # Neither the table nor the page scrolls sideways.
        overflow = page.evaluate(
            """() => Array.from(document.querySelectorAll('#table-pairing *'))
                .filter(el => el.scrollWidth > el.clientWidth + 1
                    && getComputedStyle(el).overflowX !== 'visible'
                    && getComputedStyle(el).overflowX !== 'hidden')
                .map(el => el.className)"""
        )
        assert overflow == []
        assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_WINDOW["width"]
        page.screenshot(path=str(SCREENSHOTS / "stage2-1280.png"))
        assert small_visit.problems == [] and small_visit.dialogs == []


def test_a_model_name_opens_its_submission_view_at_a_shareable_url(small_visit):
    page, data = small_visit.page, small_visit.data
    name = data.names[GEMMA]
    assert name == "Gemma-4-31B (google)"
    with small_visit.screenshot_on_failure():
        open_default_tab(page, data, "pairing")
        page.locator("#table-pairing a", has_text=name).click()
        page.locator("#inspect-summary").get_by_text(name).wait_for()
        page.locator("#inspect-summary").get_by_text("rank interval").wait_for()
        selected = page.get_by_role("tab", name="Submission", exact=True)
        assert selected.get_attribute("aria-selected") == "true"
        assert page.url.endswith("?submission=google__Gemma-4-31B%2Fauthors-votes")
        page.screenshot(path=str(SCREENSHOTS / "gemma-from-click.png"))
        # The URL opens the same view in a fresh page.
        fresh = page.context.new_page()
        fresh.goto(page.url)
        fresh.locator("#inspect-summary").get_by_text(name).wait_for()
        fresh.close()
        assert small_visit.problems == [] and small_visit.dialogs == []


def test_the_submission_tab_opens_on_the_leading_rescored_run(small_visit):
    page, data = small_visit.page, small_visit.data
    ranked = data.table("pairing", "test")
    leader = ranked[ranked["rank"].notna() & (ranked["provenance"] == "rescored")].iloc[0]
    with small_visit.screenshot_on_failure():
        open_default_tab(page, data, "pairing")
        calls: list[str] = []
        page.on("request", lambda r: calls.append(r.url) if "/gradio_api/" in r.url else None)
        page.get_by_role("tab", name="Submission", exact=True).click()
        page.locator("#submission-hint").get_by_text("leading re-scored run").wait_for()
        page.locator("#inspect-summary").get_by_text(leader["model"]).wait_for()
        page.wait_for_selector("#disagreements [role=gridcell]")
        page.locator("#inspect-plot .vega-embed").first.wait_for()
        # The whole view (picker, scores, comparison, error analysis) came in one answer, not
        # a chain of events (each a round trip and a redraw).
        page.wait_for_timeout(500)
        assert len(calls) == 1 and "/gradio_api/run/predict" in calls[0], calls
        # A stage the run did not enter says so under its heading, instead of an empty table.
        submission = data.snapshot.by_id[leader["submission"]]
        not_entered = [s for s in STAGES if not submission.splits(s)]
        assert not_entered  # the committed leader entered Stage 2 only
        notes = page.locator("[role=tabpanel]:has(#inspect-summary)").get_by_text(
            "Not entered by this submission."
        )
        assert notes.count() == len(not_entered)
        assert small_visit.problems == [] and small_visit.dialogs == []


def test_the_overview_names_one_split_for_its_table_charts_and_leaders(small_visit):
    page, data = small_visit.page, small_visit.data
    with small_visit.screenshot_on_failure():
        for split in (data.default_split(OVERVIEW), "all"):
            if split != data.default_split(OVERVIEW):
                select_split_of(page, data, OVERVIEW, split)
            leaders = page.locator("#leaders")
            leaders.get_by_text(f"Who leads, on the {split} split").wait_for()
            named = set(re.findall(r"on (test|all|validation|train)\b", leaders.inner_text()))
            chart_titles = page.locator("[id^=leaders-]:visible svg .role-title-text")
            # The charts are redrawn after the leaders' text: wait for one naming this split.
            chart_titles.filter(has_text=f"({split})").first.wait_for()
            titles = chart_titles.evaluate_all("els => els.map(el => el.textContent)")
            assert titles, split
            named |= {m for t in titles for m in re.findall(r"\((\w+)\)$", t.strip())}
            caption = page.locator(f"[role=tabpanel]:has(#table-{OVERVIEW}) .caption").first
            named |= set(re.findall(r"On the (\w+) split", caption.inner_text()))
            # "on all" after a human-agreement figure names where that reference comes from.
            assert named - {"all"} <= {split} and split in named, (split, named)
        assert data.default_split(OVERVIEW) == "test"
        assert small_visit.problems == [] and small_visit.dialogs == []


def select_split_of(page, data: LeaderboardData, key: str, split: str) -> None:
    split_radio(page, key, split).check()
    wait_rows(page, key, len(data.table(key, split)))


def test_unscored_runs_and_stages_without_labels_say_so(small_visit):
    page, data = small_visit.page, small_visit.data
    with small_visit.screenshot_on_failure():
        note = page.locator("#unscored")
        note.get_by_text(f"{UNSCORED_RUN}: not scored", exact=False).wait_for()
        assert f"recenter score {data.folder / UNSCORED_RUN} --write" in note.inner_text()
        assert UNSCORED_RUN not in data.snapshot.by_id
        for stage in ("extraction", "response_quality"):
            if data.public_labels(stage):
                continue
            open_default_tab(page, data, stage)
            text = page.locator(f"#no-labels-{stage}").inner_text()
            assert "not public yet" in text and "Stage 2" in text
        assert small_visit.problems == [] and small_visit.dialogs == []


LABEL_BOXES = """(root) => Array.from(root.querySelectorAll('svg .role-mark text'))
    .filter(t => t.textContent.trim() !== '')
    .map(t => { const b = t.getBoundingClientRect();
                return [t.textContent, b.left, b.top, b.right, b.bottom]; })"""


def overlapping_labels(page, selector: str) -> list[tuple[str, str]]:
    """The pairs of text marks whose drawn boxes intersect, in every plot under `selector`."""
    pairs = []
    for plot in page.locator(selector).all():
        boxes = plot.evaluate(LABEL_BOXES)
        for i, a in enumerate(boxes):
            for b in boxes[i + 1 :]:
                if a[1] < b[3] and b[1] < a[3] and a[2] < b[4] and b[2] < a[4]:
                    pairs.append((a[0], b[0]))
    return pairs


def test_no_two_plot_labels_overlap(small_visit):
    page, data = small_visit.page, small_visit.data
    with small_visit.screenshot_on_failure():
        for split in SPLITS:
            select_split_of(page, data, OVERVIEW, split)
            page.wait_for_timeout(300)
            assert overlapping_labels(page, "[id^=leaders-]:visible") == [], split
        for stage in ("pairing", "response_quality"):
            open_default_tab(page, data, stage)
            for split in SPLITS:
                select_split_of(page, data, stage, split)
                # The plot was redrawn for this split (its title names it).
                page.wait_for_function(
                    "([sel, text]) => Array.from(document.querySelectorAll(sel))"
                    ".some(el => el.textContent.includes(text))",
                    arg=[f"#plot-{stage} svg .role-title-text", f" on {split}:"],
                )
                texts = page.locator(f"#plot-{stage} svg .role-mark text").count()
                assert texts > 0, (stage, split)
                assert overlapping_labels(page, f"#plot-{stage}") == [], (stage, split)
        assert small_visit.problems == [] and small_visit.dialogs == []
