"""Pure-function tests of the leaderboard: results -> table, the filter, escaping, plots, CSV."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import pytest
from leaderboard_synthetic import (
    MARKUP_MODEL,
    MARKUP_ORG,
    SCRIPT_LINK,
    write_fixture_tree,
    write_submission,
)
from markdown_it import MarkdownIt
from sklearn.metrics import f1_score

from recenter_bench.leaderboard.filters import REQUIRED_COLUMNS, filter_table
from recenter_bench.leaderboard.plots import f1_iso_lines, human_lines, pairing_plot, response_plot
from recenter_bench.leaderboard.render import (
    display_table,
    escape_markdown,
    model_cell,
    safe_url,
    submission_of_cell,
)
from recenter_bench.leaderboard.table import (
    REFERENCE_TYPES,
    STAGE_METRICS,
    STAGES,
    SYSTEM_TYPES,
    TYPES,
    Submission,
    confusion_matrix,
    load_submissions,
    opening_split,
    overview_table,
    split_counts,
    split_scores,
    stage_table,
    to_csv,
)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    root = tmp_path_factory.mktemp("submissions")
    return root, write_fixture_tree(root)


@pytest.fixture(scope="module")
def submissions(tree: tuple[Path, dict[str, str]]) -> list[Submission]:
    loaded, problems = load_submissions(tree[0])
    assert problems == []
    return loaded


def results_of(root: Path, submission_id: str) -> dict:
    return json.loads((root / submission_id / "results.json").read_text())


# --- results -> table ---------------------------------------------------------------------


def test_load_reads_every_run_folder(tree, submissions):
    root, ids = tree
    assert sorted(s.id for s in submissions) == sorted(ids.values())
    markup = next(s for s in submissions if s.id == ids["markup"])
    assert markup.metadata["model"] == MARKUP_MODEL
    assert markup.provenance == "rescored"


def test_load_reports_unreadable_folders_instead_of_failing(tmp_path):
    write_fixture_tree(tmp_path)
    bad_json = tmp_path / "bad__json" / "run1"
    bad_json.mkdir(parents=True)
    (bad_json / "metadata.yaml").write_text("model: x\n")
    (bad_json / "results.json").write_text("{not json")
    no_meta = tmp_path / "no__meta" / "run1"
    no_meta.mkdir(parents=True)
    (no_meta / "results.json").write_text('{"scores": {}}')
    bad_yaml = tmp_path / "bad__yaml" / "run1"
    bad_yaml.mkdir(parents=True)
    (bad_yaml / "metadata.yaml").write_text("model: [unclosed\n")
    (bad_yaml / "results.json").write_text('{"scores": {}}')
    os.symlink(tmp_path / "recenter__bm25", tmp_path / "link__bm25")

    loaded, problems = load_submissions(tmp_path)

    assert len(loaded) == 7
    assert len(problems) == 4
    # The validator's problem lines: file, line, what is wrong.
    assert any(p.startswith("bad__json/run1/results.json:1: not valid JSON") for p in problems)
    assert any(p.startswith("no__meta/run1/metadata.yaml: missing") for p in problems)
    assert any(p.startswith("bad__yaml/run1/metadata.yaml:2: not valid YAML") for p in problems)
    assert any(p.startswith("link__bm25: symbolic link") for p in problems)


def test_stage_table_ranks_one_split_by_the_headline(tree, submissions):
    root, ids = tree
    table = stage_table(submissions, "pairing", "all")

    # Only rows scored on "all": the trained paper row (test only) is not mixed in.
    assert set(table["submission"]) == {
        ids[r] for r in ("reported_zero_shot", "rescored", "rescored_open", "human")
    } | {ids["baseline"], ids["markup"]}
    f1 = table["f1"].tolist()
    assert f1 == sorted(f1, reverse=True)
    systems = table[~table["reference"]]
    assert systems["rank"].tolist() == list(range(1, len(systems) + 1))
    assert table[table["reference"]]["rank"].isna().all()
    assert set(table[table["reference"]]["type"]) == {"human", "baseline"}
    # The numbers are the ones CI wrote, untouched.
    for row in table.to_dict(orient="records"):
        written = results_of(root, row["submission"])["scores"]["pairing"]["all"]
        for metric, value in written.items():
            assert row[metric] == value, (row["submission"], metric)


def test_stage_table_keeps_missing_values_as_nan(tree, submissions):
    _, ids = tree
    table = stage_table(submissions, "pairing", "all").set_index("submission")
    gpt = table.loc[ids["reported_zero_shot"]]
    assert gpt["provenance"] == "reported" and gpt["source"] == "Table 3"
    assert math.isnan(gpt["f1_ci_low"]) and math.isnan(gpt["yes_rate"])


def test_test_split_holds_the_trained_row_and_flags_nothing_held_out(tree, submissions):
    _, ids = tree
    table = stage_table(submissions, "pairing", "test").set_index("submission")
    assert ids["reported_trained"] in table.index
    assert ids["reported_zero_shot"] not in table.index
    roberta = table.loc[ids["reported_trained"]]
    assert roberta["training"] == "trained" and roberta["unranked"] == ""
    assert roberta["rank"] >= 1 and roberta["rank_interval"] == "no interval"
    assert roberta["f1"] == 0.606


def test_saw_split_flags_a_trained_system_on_data_it_trained_on():
    trained = Submission("a__b/r", {"type": "fine-tuned", "trained_on": ["train"]}, {})
    assert trained.saw_split("all") and trained.saw_split("train")
    assert not trained.saw_split("test") and not trained.saw_split("validation")
    zero_shot = Submission("a__c/r", {"type": "zero-shot LLM", "trained_on": []}, {})
    assert not zero_shot.saw_split("all") and zero_shot.training == "zero-shot"


def test_ties_share_a_rank_and_undefined_headlines_are_not_ranked():
    def sub(name: str, f1: float | None, kind: str = "retrieval") -> Submission:
        scores = {"pairing": {"test": {"f1": f1}}}
        return Submission(f"o__{name}/r", {"model": name, "type": kind}, {"scores": scores})

    table = stage_table(
        [sub("a", 0.5), sub("b", 0.7), sub("c", 0.5), sub("h", 0.9, "human"), sub("d", None)],
        "pairing",
        "test",
    )
    assert [base_name(m) for m in table["model"]] == ["h", "b", "a", "c", "d"]
    assert table["rank"].tolist()[1:4] == [1.0, 2.0, 2.0]
    assert math.isnan(table["rank"][0]) and math.isnan(table["rank"][4])


def test_a_stage_opens_on_test_when_a_rescored_system_is_ranked_there(submissions):
    pairing = split_counts(submissions, "pairing")
    assert pairing["all"] == pairing["test"] == 6
    assert opening_split(submissions, "pairing") == "test"
    # Only reported rows (the paper's zero-shot numbers) on "all" and nothing re-scored on test:
    # the stage opens where the rows are.
    reported = [s for s in submissions if not s.rescored and "test" not in s.splits("pairing")]
    assert opening_split(reported, "pairing") == "all"
    # The overview has no rank: it opens on the split with most rows (ties: test).
    assert split_counts(submissions) == {"test": 6, "all": 6, "validation": 5, "train": 5}
    assert opening_split(submissions) == "test"


def test_overview_has_a_headline_per_stage_and_no_rank(tree, submissions):
    _, ids = tree
    table = overview_table(submissions, "all").set_index("submission")
    assert "rank" not in table.columns
    assert ids["reported_trained"] not in table.index
    judge = table.loc[ids["rescored_open"]]
    written = next(s for s in submissions if s.id == ids["rescored_open"])
    assert judge["pairing_f1"] == written.scores("pairing", "all")["f1"]
    rq = written.scores("response_quality", "all")
    assert judge["response_quality_spearman"] == rq["spearman"]
    assert math.isnan(table.loc[ids["rescored"]]["extraction_f1"])
    # Reference rows come after the systems.
    assert table["reference"].tolist() == sorted(table["reference"].tolist())


def test_confusion_matrix_and_split_scores(tree, submissions):
    root, ids = tree
    bm25 = next(s for s in submissions if s.id == ids["rescored"])
    written = results_of(root, ids["rescored"])["scores"]["pairing"]["test"]
    matrix = confusion_matrix(bm25, "pairing", "test")
    assert matrix.iloc[0, 1:].tolist() == [written["tp"], written["fn"]]
    assert matrix.iloc[1, 1:].tolist() == [written["fp"], written["tn"]]
    # F1 from the matrix agrees with the F1 CI wrote (scikit-learn on the expanded labels).
    truth = [1] * (written["tp"] + written["fn"]) + [0] * (written["fp"] + written["tn"])
    pred = [1] * written["tp"] + [0] * written["fn"] + [1] * written["fp"] + [0] * written["tn"]
    assert f1_score(truth, pred) == pytest.approx(written["f1"])
    gpt = next(s for s in submissions if s.id == ids["reported_zero_shot"])
    assert confusion_matrix(gpt, "pairing", "all") is None
    assert confusion_matrix(bm25, "response_quality", "all") is None
    per_split = split_scores(bm25, "pairing")
    assert per_split["split"].tolist() == ["test", "all", "validation", "train"]


HOSTILE_CELLS = [
    "Yes.\r=cmd|' /C calc'!A0",  # issue 15: a bare CR started a new spreadsheet row with =
    "line\n@SUM(1)",
    "\t=1+1",
    "\r+1",
    "@import",
    'quote " and, comma',
    '=HYPERLINK("http://x")',
]


def test_csv_has_no_formula_cell_and_one_row_per_table_row():
    table = pd.DataFrame(
        {"raw_answer": HOSTILE_CELLS, "f1": [0.5, -0.25, math.nan, 1, 0.0, 2.5, -1.0]}
    )
    text = to_csv(table)
    assert text.count("\r\n") == len(table) + 1 and "\r" not in text.replace("\r\n", "")
    assert all(line.startswith('"') for line in text.splitlines())  # every field quoted
    for rows in (
        list(csv.reader(io.StringIO(text, newline="")))[1:],
        pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False).values.tolist(),
    ):
        assert len(rows) == len(table)
        for cell in (cell for row in rows for cell in row):
            # A formula starts with one of these (a negative number is a number, not text).
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not cell.startswith("-") or cell.lstrip("-").replace(".", "").isdigit()
            assert "\n" not in cell and "\r" not in cell
        assert [row[0] for row in rows][0] == "Yes.\\r=cmd|' /C calc'!A0"
        assert [row[1] for row in rows] == ["0.5", "-0.25", "", "1.0", "0.0", "2.5", "-1.0"]


def test_stage_table_rejects_an_unknown_stage(submissions):
    with pytest.raises(ValueError, match="unknown stage"):
        stage_table(submissions, "ranking", "all")


def test_csv_defuses_spreadsheet_formulas_and_keeps_numbers(submissions):
    table = pd.DataFrame(
        {"model": ["=HYPERLINK(1)", "+x", "plain", "-y"], "f1": [0.5, math.nan, -0.25, 1.0]}
    )
    rows = list(csv.reader(io.StringIO(to_csv(table))))
    assert rows[0] == ["model", "f1"]
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(1)", "'+x", "plain", "'-y"]
    assert [r[1] for r in rows[1:]] == ["0.5", "", "-0.25", "1.0"]
    full = stage_table(submissions, "pairing", "all")
    assert len(list(csv.reader(io.StringIO(to_csv(full))))) == len(full) + 1


# --- the filter ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pairing_all(submissions) -> pd.DataFrame:
    return stage_table(submissions, "pairing", "all")


def base_name(shown: str) -> str:
    """A shown name without its provenance suffix: "GPT-5.4 (paper)" -> "GPT-5.4"."""
    return shown.rsplit(" (", 1)[0]


def models(table: pd.DataFrame) -> set[str]:
    return {base_name(m) for m in table["model"]}


REFERENCES = {"Human annotators (each vs the others)", "All relevant"}


def test_filter_without_values_returns_the_table(pairing_all):
    pd.testing.assert_frame_equal(filter_table(pairing_all), pairing_all)


def test_filter_search_is_case_insensitive_plain_text_and_keeps_references(pairing_all):
    assert models(filter_table(pairing_all, query="gPt")) == {"GPT-5.4"} | REFERENCES
    assert models(filter_table(pairing_all, query="ACME")) == {"Judge-7B"} | REFERENCES
    assert models(filter_table(pairing_all, query="<img src")) == {MARKUP_MODEL} | REFERENCES
    # Regex metacharacters are text, not patterns.
    assert models(filter_table(pairing_all, query=".*")) == REFERENCES
    assert models(filter_table(pairing_all, query="gpt", references=False)) == {"GPT-5.4"}


def test_filter_by_type_weights_provenance_training(pairing_all):
    assert models(filter_table(pairing_all, types=["retrieval"], references=False)) == {"BM25"}
    assert models(filter_table(pairing_all, open_weights="open", references=False)) == {
        "BM25",
        "Judge-7B",
    }
    closed = filter_table(pairing_all, open_weights="closed", references=False)
    assert models(closed) == {"GPT-5.4", MARKUP_MODEL}
    reported = filter_table(pairing_all, provenance=["reported"])
    assert models(reported) == {"GPT-5.4"} | REFERENCES
    assert filter_table(pairing_all, training="trained", references=False).empty
    assert len(filter_table(pairing_all, training="zero-shot")) == len(pairing_all)
    assert models(filter_table(pairing_all, types=[], references=True)) == REFERENCES


def test_filter_column_chooser_keeps_required_columns_in_table_order(pairing_all):
    result = filter_table(pairing_all, columns=["f1", "type"])
    wanted = {"f1", "type", *REQUIRED_COLUMNS}
    assert list(result.columns) == [c for c in pairing_all.columns if c in wanted]
    assert len(result) == len(pairing_all)


def test_filter_is_pure_and_rejects_unknown_choices(pairing_all):
    before = pairing_all.copy()
    filter_table(pairing_all, query="x", types=["retrieval"], columns=["f1"])
    pd.testing.assert_frame_equal(pairing_all, before)
    with pytest.raises(ValueError, match="open_weights"):
        filter_table(pairing_all, open_weights="maybe")
    with pytest.raises(ValueError, match="training"):
        filter_table(pairing_all, training="few-shot")


def test_filter_works_on_the_overview(submissions):
    overview = overview_table(submissions, "all")
    assert models(filter_table(overview, query="judge", references=False)) == {"Judge-7B"}


# --- untrusted text -----------------------------------------------------------------------


class _TextAndTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text += data


def rendered(markdown: str) -> _TextAndTags:
    # CommonMark with raw HTML enabled: the worst case for a Markdown cell.
    parser = _TextAndTags()
    parser.feed(MarkdownIt("commonmark").render(markdown))
    return parser


HOSTILE_NAMES = [
    MARKUP_MODEL,
    MARKUP_ORG,
    "[click](javascript:alert(1))",
    "![x](https://evil.example/x.png)",
    "<a href='javascript:alert(1)'>x</a>",
    "*bold* _it_ `code` # h ~~s~~ | a | 1. item - item > quote",
    "&lt;b&gt; &amp; \\<b\\>",
    "http://evil.example www.evil.example a@b.example",
    "$$x$$ {{x}} ${x}",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_escaped_names_render_as_the_typed_text_and_nothing_else(name):
    html = rendered(escape_markdown(name))
    assert [tag for tag, _ in html.tags] == ["p"]
    assert html.text.strip() == name


@pytest.mark.parametrize(
    "link",
    [
        SCRIPT_LINK,
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\nscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:x",
        "//evil.example/x",
        "/relative",
        "http://",
        "ftp://example.org/",
        "",
        None,
        42,
    ],
)
def test_only_absolute_http_links_are_made(link):
    assert safe_url(link) is None
    html = rendered(model_cell("Model", link))
    assert [tag for tag, _ in html.tags] == ["p"]


def test_http_links_are_quoted_so_they_cannot_break_out():
    url = 'https://example.org/a")onmouseover=alert(1)(<b>'
    html = rendered(model_cell("A (b)", url))
    assert html.tags[1][0] == "a"
    href = html.tags[1][1]["href"]
    assert href.startswith("https://example.org/a") and not set(href) & set("\"'<>() ")
    assert html.text.strip() == "A (b)"


def test_display_table_hides_plumbing_and_marks_reference_rows(pairing_all):
    shown, datatypes = display_table(pairing_all)
    assert "reference" not in shown.columns and "Submission" not in shown.columns
    assert len(datatypes) == len(shown.columns)
    assert datatypes[list(shown.columns).index("Model")] == "markdown"
    assert datatypes[list(shown.columns).index("Link")] == "markdown"
    assert datatypes[list(shown.columns).index("F1")] == "number"
    types = shown["Type"].tolist()
    assert "reference: human" in types and "reference: no-skill baseline" in types
    cells = dict(zip(pairing_all["model"], shown["Model"], strict=True))
    links = dict(zip(pairing_all["model"], shown["Link"], strict=True))
    ids = dict(zip(pairing_all["model"], pairing_all["submission"], strict=True))
    markup = f"{MARKUP_MODEL} ({MARKUP_ORG})"
    # The name opens the row's Submission view on this page, whatever the name holds ...
    for model, cell in cells.items():
        html = rendered(cell)
        assert html.text.strip() == model
        assert [t for t, _ in html.tags] == ["p", "a"]
        assert html.tags[1][1] == {"href": "?submission=" + quote(ids[model], safe="")}
        assert submission_of_cell(cell) == ids[model]
    # ... and the submitter's own link is its own column, made only when it is safe.
    assert [t for t, _ in rendered(links[markup]).tags] in ([], ["p"])
    assert rendered(links["GPT-5.4 (paper)"]).tags[1] == ("a", {"href": "https://openai.com/"})
    assert rendered(links["GPT-5.4 (paper)"]).text.strip() == "openai.com"
    # Missing numbers are empty cells, present ones rounded to 3 decimals.
    gpt = shown[pairing_all["model"] == "GPT-5.4 (paper)"].iloc[0]
    assert gpt["F1 95% CI low"] is None or pd.isna(gpt["F1 95% CI low"])
    assert gpt["F1"] == 0.474


# --- plots --------------------------------------------------------------------------------


def test_f1_iso_lines_lie_on_their_f1():
    for point in f1_iso_lines():
        p, r = point["precision"], point["recall"]
        assert 2 * p * r / (p + r) == pytest.approx(float(point["f1"].split("= ")[1]))
        assert 0 < p <= 1 and 0 < r <= 1


def test_pairing_plot_has_every_row_with_precision_and_recall(pairing_all):
    spec = pairing_plot(pairing_all, "all")
    points = next(
        layer
        for layer in spec["layer"]
        if layer["mark"].get("type") == "point" and layer["mark"].get("filled")
    )["data"]["values"]
    finite = pairing_all.dropna(subset=["precision", "recall"])
    assert sorted(p["model"] for p in points) == sorted(finite["model"])
    kinds = {base_name(p["model"]): p["kind"] for p in points}
    assert kinds["Human annotators (each vs the others)"] == "human"
    assert kinds["All relevant"] == "baseline" and kinds["GPT-5.4"] == "system"
    json.dumps(spec)  # serialisable as it is handed to the browser


def test_response_plot_marks_the_human_mean_and_agreement(submissions):
    table = stage_table(submissions, "response_quality", "all")
    spec = response_plot(table, "all")
    layer = next(x for x in spec["layer"] if x["mark"].get("filled"))
    points = {base_name(p["model"]): p for p in layer["data"]["values"]}
    assert points["GPT-5.4"]["mean_rating"] == 3.523 and points["GPT-5.4"]["spearman"] == 0.312
    assert human_lines(table) == {
        "human mean rating": 3.176,
        "human inter-annotator Spearman": 0.325,
    }
    assert spec["layer"][0]["data"]["values"] == [{"mean_rating": 3.176}]
    assert spec["layer"][1]["data"]["values"] == [{"spearman": 0.325}]


def test_stage_columns_cover_every_metric_the_metric_writes():
    from recenter_bench.metric.recenter_personalization.recenter_personalization import (
        HUMAN_METRIC_NAMES,
        METRIC_NAMES,
    )

    for stage in STAGES:
        assert set(METRIC_NAMES[stage]) | set(HUMAN_METRIC_NAMES[stage]) <= set(
            STAGE_METRICS[stage]
        )


def test_reference_types_are_types_the_metadata_schema_allows():
    assert REFERENCE_TYPES < set(TYPES) and set(SYSTEM_TYPES) == set(TYPES) - REFERENCE_TYPES


def test_every_stage_builds_on_every_split(submissions):
    for stage in STAGES:
        for split in ("train", "validation", "test", "all"):
            table = stage_table(submissions, stage, split)
            display_table(filter_table(table, query="a"))


def test_write_submission_round_trips(tmp_path):
    write_submission(tmp_path, "o__m", "r", {"model": "M", "type": "retrieval"}, {})
    loaded, problems = load_submissions(tmp_path)
    assert problems == [] and loaded[0].id == "o__m/r" and loaded[0].splits("pairing") == []


def test_the_examples_in_the_docstrings_hold():
    # pytest's --doctest-modules covers tests/ and metric/ only; run the leaderboard's here.
    import doctest

    import recenter_bench.leaderboard.filters
    import recenter_bench.leaderboard.prompt_blind
    import recenter_bench.leaderboard.render
    import recenter_bench.leaderboard.table

    for module in (
        recenter_bench.leaderboard.filters,
        recenter_bench.leaderboard.prompt_blind,
        recenter_bench.leaderboard.render,
        recenter_bench.leaderboard.table,
    ):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_no_plot_layer_is_empty_so_vega_never_warns(submissions):
    from recenter_bench.leaderboard.plots import leaders_plot

    reported = [s for s in submissions if not s.rescored]
    for subs in (submissions, reported):
        for stage, plot in (("pairing", pairing_plot), ("response_quality", response_plot)):
            for split in ("all", "test"):
                table = stage_table(subs, stage, split)
                specs = [plot(table, split), plot(table, split, highlight="nobody")]
                if table["rank"].notna().any():
                    specs.append(leaders_plot(table, stage, split, "t"))
                for spec in specs:
                    for layer in spec.get("layer", []):
                        values = layer.get("data", {}).get("values")
                        assert values is None or values, (stage, split, layer["mark"])


def test_overview_marks_scores_on_data_the_system_was_fit_on():
    from recenter_bench.leaderboard.render import GREY, table_value
    from recenter_bench.paths import SUBMISSIONS_DIR

    committed, _ = load_submissions(SUBMISSIONS_DIR)
    # Systems (reference rows are never ranked anyway) that read train or validation, such as
    # the committed logistic-regression and BM25 runs.
    fit = {s.id for s in committed if s.metadata.get("trained_on") and not s.reference}
    assert fit
    on_all = overview_table(committed, "all").set_index("submission")
    on_test = overview_table(committed, "test").set_index("submission")
    for submission_id in on_all.index:
        marked = on_all.loc[submission_id, "unranked"]
        assert bool(marked) is (submission_id in fit), submission_id
    assert fit & set(on_test.index) and not on_test["unranked"].astype(bool).any()
    # The browser greys exactly those rows.
    value, _ = table_value(on_all.reset_index())
    grey = [row[0] == GREY for row in value["metadata"]["styling"]]
    assert grey == [s in fit for s in on_all.index]


def test_agreement_heatmap_writes_n_a_where_kappa_is_undefined():
    from sklearn.metrics import cohen_kappa_score

    from recenter_bench.leaderboard import statistics
    from recenter_bench.leaderboard.plots import agreement_heatmap

    raters = {
        "Human majority": [True, False, True, True, False, False],
        "judge": [True, True, True, False, False, False],
        "always-no": [False] * 6,
    }
    kappas = pd.DataFrame(
        [
            {"rater_a": a, "rater_b": b, "kappa": k}
            for (a, b), k in statistics.agreement_matrix(raters).items()
        ]
    )
    spec = agreement_heatmap(kappas, "test")
    text = {(v["a"], v["b"]): v["text"] for v in spec["data"]["values"]}
    # Vega would print a missing value as "null" in the cell.
    assert spec["layer"][1]["encoding"]["text"]["field"] == "text"
    assert text[("always-no", "always-no")] == "n/a"
    expected = cohen_kappa_score(raters["judge"], raters["Human majority"])
    assert text[("judge", "Human majority")] == f"{expected:.2f}"
    assert text[("judge", "judge")] == "1.00"


def test_inspect_says_why_a_rescored_run_has_no_comparison(tmp_path):
    from recenter_bench.leaderboard.data import LeaderboardData, _Rows
    from recenter_bench.leaderboard.limits import CsvFiles
    from recenter_bench.leaderboard.submission_view import inspect

    judge = Submission(
        "a__judge/v1",
        {"model": "judge", "org": "a"},
        {"provenance": "rescored", "scores": {"extraction": {"all": {"f1": 0.5}}}},
    )
    data = LeaderboardData.from_submissions([judge])
    data._rows = _Rows({"extraction": {"test": [], "train": []}})
    csv = CsvFiles(parent=tmp_path)

    def summary(stage: str, split: str) -> str:
        return inspect(data, csv, judge.id, stage, split)[0]

    assert summary("extraction", "all").endswith(
        "because the dataset has no human labels for extraction on all."
    )
    assert summary("pairing", "test").endswith(
        "because it did not enter Stage 2 · relevance pairing."
    )


# --- issue 18: one split, not-scored runs, unknown weights, labels that never overlap -----------


def test_every_stage_table_leads_with_rank_model_and_the_ranked_score_with_its_ci(pairing_all):
    from recenter_bench.leaderboard.columns import HEADLINE, default_visible, stage_columns

    for stage in STAGES:
        headline = HEADLINE[stage]
        lead = ["rank", "model", headline, f"{headline}_ci_low", f"{headline}_ci_high"]
        assert stage_columns(stage)[:5] == lead
        assert set(lead[2:]) <= set(default_visible(stage_columns(stage)))
    shown, _ = display_table(pairing_all)
    assert list(shown.columns)[:5] == ["Rank", "Model", "F1", "F1 95% CI low", "F1 95% CI high"]


def test_unscored_run_folders_are_listed_and_nothing_else(tmp_path):
    from recenter_bench.leaderboard.table import unscored_runs

    write_fixture_tree(tmp_path)
    scored = {s.id for s in load_submissions(tmp_path)[0]}
    (tmp_path / "new__judge" / "v1").mkdir(parents=True)
    (tmp_path / "new__judge" / "v1" / "metadata.yaml").write_text("model: judge\n")
    (tmp_path / "new__judge" / "empty").mkdir()
    (tmp_path / "new__judge" / "notes.txt").write_text("a file, not a run folder")
    assert unscored_runs(tmp_path) == ["new__judge/empty", "new__judge/v1"]
    assert not set(unscored_runs(tmp_path)) & scored


def test_the_overview_opens_on_the_held_out_split_when_a_stage_ranks_there(submissions):
    from recenter_bench.leaderboard.table import split_with_most_rows

    assert any(s.rescored for s in submissions)
    assert opening_split(submissions, None) == "test"
    # Without a re-scored row, the split with most rows, as before.
    reported = [s for s in submissions if not s.rescored]
    assert opening_split(reported, None) == split_with_most_rows(split_counts(reported))


def test_open_weights_not_stated_shows_unknown_not_no(tmp_path):
    from recenter_bench.leaderboard.submission_view import submission_view
    from recenter_bench.review.check_schema import schema_errors

    stated = Submission("a__x/v1", {"model": "x", "org": "a", "open_weights": False})
    unstated = Submission("a__y/v1", {"model": "y", "org": "a"})
    table = stage_table([stated, unstated], "pairing", "all")
    assert table.empty  # no scores: the display of the flag is what is checked below
    rows = pd.DataFrame(
        {"model": ["x", "y"], "submission": [stated.id, unstated.id], "open_weights": [False, None]}
    )
    shown, _ = display_table(rows)
    assert shown["Open weights"].tolist() == ["no", "unknown"]
    view = submission_view(unstated)[0]
    assert dict(zip(view["field"], view["value"], strict=True))["open_weights"] == "unknown"
    # ... and a metadata.yaml may leave the field out.
    metadata = {
        "model": "y",
        "org": "a",
        "link": "",
        "type": "retrieval",
        "trained_on": [],
        "stages": ["pairing"],
        "benchmark_version": "1.0",
        "dataset_revision": "fixture",
        "date": "2026-06-01",
        "contact": "",
        "description": "",
        "provenance": "rescored",
    }
    assert schema_errors("submission_metadata", metadata) == []
    assert schema_errors("submission_metadata", {**metadata, "open_weights": "yes"}) != []


def test_placed_labels_never_overlap_each_other_or_the_fixed_texts():
    from recenter_bench.leaderboard.plots import PixelScale, place_labels, text_box

    # A crowded plot: 25 points in a tight cluster and a row along the no-skill line.
    points = [
        {"model": f"Model number {i} (org-{i})", "viewed": i == 7, "recall": r, "precision": p}
        for i, (r, p) in enumerate(
            [(0.6 + 0.01 * (i % 5), 0.6 + 0.01 * (i // 5)) for i in range(20)]
            + [(0.2 + 0.15 * i, 0.15) for i in range(5)]
        )
    ]
    scale = PixelScale((0.0, 1.0), (0.0, 1.0))
    fixed = [text_box(4, scale.y(0.15) + 2, "no-skill precision 0.150", "left", "top", 10)]
    placed = place_labels(points, "recall", "precision", scale, fixed)
    boxes = [
        text_box(scale.x(p["lx"]), scale.y(p["ly"]), p["model"], p["align"], "middle", 10)
        for p in placed
    ]
    for i, a in enumerate(boxes):
        assert 0 <= a[0] and a[2] <= 720 and 0 <= a[1] and a[3] <= 380
        for b in [*boxes[i + 1 :], *fixed]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
    assert placed[0]["viewed"]  # the viewed point is labelled first
    assert 0 < len(placed) < len(points)  # crowded: some names are left to the tooltip


def test_a_new_snapshot_is_warmed_off_the_request_thread(tmp_path):
    import threading

    from recenter_bench.leaderboard.data import LeaderboardData

    write_fixture_tree(tmp_path)
    data = LeaderboardData(tmp_path, labels=False)
    seen: list[int] = []
    warmed = threading.Event()
    data.warmers = [lambda: (seen.append(len(data.snapshot.submissions)), warmed.set())]
    before = len(data.submissions)
    (tmp_path / "new__judge" / "v1").mkdir(parents=True)
    (tmp_path / "new__judge" / "v1" / "metadata.yaml").write_text("model: judge\n")
    data._checked = float("-inf")  # as if RELOAD_SECONDS had passed
    assert data.snapshot.unscored == ["new__judge/v1"]
    assert warmed.wait(10) and seen == [before]


# --- the Stage-2 lead over the prompt-blind reference, on the committed rows ------------------

COMMITTED = Path(__file__).resolve().parents[1] / "submissions"
_LEAD_CELL = re.compile(r"^([+−]\d\.\d{3}) \(([+−]\d\.\d{3}) to ([+−]\d\.\d{3})\)$")


def _lead_numbers(cell: str) -> tuple[float, ...]:
    found = _LEAD_CELL.match(cell)
    assert found, cell
    return tuple(float(x.replace("−", "-")) for x in found.groups())


def test_lead_column_equals_prompt_blind_leads_on_the_committed_rows(reference, preview_dataset):
    """The board's 'Lead over prompt-blind' cells are `prompt_blind.leads` (itself checked
    against scikit-learn's weighted F1 in test_analyze.py) for the same rows: same reference,
    same rows, leads and intervals equal at the shown 3 decimals and, from the ranking's own
    resamples, to 1e-9."""
    from recenter_bench.leaderboard.data import LeaderboardData
    from recenter_bench.leaderboard.prompt_blind import REFERENCE_TEXT, leads, ranking_leads

    board = LeaderboardData(COMMITTED, dataset=str(preview_dataset))
    table = board.table("pairing", "test")
    folders = sorted(p for p in COMMITTED.glob("*/*") if p.is_dir())
    name, _, expected = leads(folders, reference.rows["pairing"]["test"])
    by_id = dict(zip(table["submission"], table["prompt_blind_lead"], strict=True))
    assert by_id[name] == REFERENCE_TEXT
    assert table.attrs["prompt_blind_reference"] == name
    with_lead = {i for i, cell in by_id.items() if isinstance(cell, str) and cell != REFERENCE_TEXT}
    assert with_lead == {row["submission"] for row in expected}
    assert len(with_lead) >= 4  # gradient boosting, attribute prior, MiniLM rows, BM25
    blind, figures = ranking_leads(board.ranking("pairing", "test"), board.submissions)
    assert blind == name
    for row in expected:
        shown = _lead_numbers(by_id[row["submission"]])
        assert shown == pytest.approx((row["lead"], row["low"], row["high"]), abs=0.0005)
        assert figures[row["submission"]] == pytest.approx(
            (row["lead"], row["low"], row["high"]), abs=1e-9
        )
    # The reference row is labelled as such where the reader looks first (its Type).
    shown, _ = display_table(table)
    types = dict(zip(table["submission"], shown["Type"], strict=True))
    assert types[name] == f"fine-tuned · {REFERENCE_TEXT}"
    assert sum(REFERENCE_TEXT in t for t in types.values()) == 1


def test_lead_column_is_empty_for_paper_rows_and_off_the_held_out_split(preview_dataset):
    from recenter_bench.leaderboard.data import LeaderboardData

    board = LeaderboardData(COMMITTED, dataset=str(preview_dataset))
    test = board.table("pairing", "test")
    paper = test[test["provenance"] == "reported"]
    assert len(paper) >= 2 and "fine-tuned" in set(paper["type"])  # RoBERTa, Qwen3-4B GRPO
    assert paper["prompt_blind_lead"].isna().all()
    zero_shot = test[(test["training"] == "zero-shot") | test["reference"]]
    assert zero_shot["prompt_blind_lead"].isna().all()
    # Every trained row is fit or tuned on validation: nothing held out, no reference, no lead.
    validation = board.table("pairing", "validation")
    assert validation["prompt_blind_lead"].isna().all()
    assert validation.attrs["prompt_blind_reference"] is None
    for stage in ("extraction", "response_quality"):
        assert "prompt_blind_lead" not in board.table(stage, "all").columns
