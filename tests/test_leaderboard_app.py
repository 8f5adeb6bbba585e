"""The Space in-process on 127.0.0.1, driven through its API with gradio_client."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from gradio_client import Client, handle_file
from leaderboard_harness import serve
from leaderboard_synthetic import MARKUP_MODEL, committed_run, write_fixture_tree
from sklearn.metrics import f1_score

from recenter_bench.leaderboard.app import build_app
from recenter_bench.leaderboard.filters import filter_table
from recenter_bench.leaderboard.render import display_table
from recenter_bench.leaderboard.submit import preview
from recenter_bench.leaderboard.table import PROVENANCES, SYSTEM_TYPES, to_csv
from recenter_bench.loaders.load import load_rows
from recenter_bench.paths import SUBMISSIONS_DIR

COMMITTED_BM25 = committed_run()  # "recenter-bench__BM25/<run>"
ALL_TYPES = list(SYSTEM_TYPES)
ALL_PROVENANCES = list(PROVENANCES)


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, preview_dataset: Path
) -> Iterator[tuple[Client, object, Path]]:
    root = tmp_path_factory.mktemp("submissions")
    write_fixture_tree(root)
    # A committed re-scored run with its predictions: rank intervals and placements need one.
    folder = COMMITTED_BM25.split("/")[0]
    shutil.copytree(SUBMISSIONS_DIR / folder, root / folder)
    uploads = tmp_path_factory.mktemp("gradio-uploads")
    old = os.environ.get("GRADIO_TEMP_DIR")
    os.environ["GRADIO_TEMP_DIR"] = str(uploads)
    demo = build_app(root, dataset=str(preview_dataset))
    try:
        with serve(demo) as url:
            yield Client(url, verbose=False), demo, uploads
    finally:
        if old is None:
            os.environ.pop("GRADIO_TEMP_DIR", None)
        else:
            os.environ["GRADIO_TEMP_DIR"] = old


def frame_of(update: dict) -> pd.DataFrame:
    value = update.get("value", update)
    return pd.DataFrame(value["data"], columns=value["headers"])


def default_filters(stage_columns: list[str]) -> list:
    return [ALL_TYPES, "any", ALL_PROVENANCES, "any", True, stage_columns]


def test_every_event_has_an_api_name(served):
    client, demo, _ = served
    endpoints = set(client.view_api(return_format="dict", print_info=False)["named_endpoints"])
    assert {
        "/filter_overview",
        "/filter_extraction",
        "/filter_pairing",
        "/filter_response_quality",
        "/csv_overview",
        "/csv_pairing",
        "/plot_pairing",
        "/plot_response_quality",
        "/submission",
        "/inspect",
        "/agreement",
        "/leaders",
        "/preview",
    } <= endpoints
    assert all(dep.api_name for dep in demo.fns.values())


def test_filter_endpoint_returns_the_filtered_table(served):
    client, demo, _ = served
    data = demo.leaderboard_data
    columns = ["type", "f1", "f1_ci_low", "f1_ci_high", "yes_rate"]
    table, note = client.predict(
        "all", "gpt", *default_filters(columns), api_name="/filter_pairing"
    )
    csv_path = client.predict("all", "gpt", *default_filters(columns), api_name="/csv_pairing")
    shown = frame_of(table)
    expected = filter_table(data.table("pairing", "all"), query="gpt", columns=columns)
    expected_shown, datatypes = display_table(expected)
    assert list(shown.columns) == list(expected_shown.columns)
    assert shown["Model"].tolist() == expected_shown["Model"].tolist()
    assert set(shown["Type"]) == {
        "zero-shot LLM",
        "reference: human",
        "reference: no-skill baseline",
    }
    assert table["datatype"] == datatypes
    assert "**all** split: 1 systems and 2 reference rows" in note
    assert Path(csv_path).read_bytes().decode("utf-8") == to_csv(expected)


def test_filtering_changes_the_rows(served):
    client, _, _ = served
    columns = ["type", "f1"]
    everything = frame_of(
        client.predict("all", "", *default_filters(columns), api_name="/filter_pairing")[0]
    )
    no_refs = frame_of(
        client.predict(
            "all",
            "",
            ALL_TYPES,
            "open",
            ALL_PROVENANCES,
            "any",
            False,
            columns,
            api_name="/filter_pairing",
        )[0]
    )
    assert len(everything) == 7
    assert len(no_refs) == 3 and not no_refs["Type"].str.startswith("reference").any()


def test_split_selector_switches_the_ranked_split(served):
    client, _, _ = served
    test_rows = frame_of(
        client.predict("test", "", *default_filters(["f1"]), api_name="/filter_pairing")[0]
    )
    assert any("RoBERTa" in m for m in test_rows["Model"])
    assert not any("GPT" in m for m in test_rows["Model"])


def test_overview_and_other_stage_endpoints(served):
    client, _, _ = served
    overview = frame_of(
        client.predict(
            "all", "judge", *default_filters(["pairing_f1"]), api_name="/filter_overview"
        )[0]
    )
    assert list(overview.columns) == ["Model", "Stage 2 F1"]
    assert overview["Model"].str.contains("Judge").sum() == 1
    rq = frame_of(
        client.predict(
            "all",
            "",
            *default_filters(["spearman", "inflation"]),
            api_name="/filter_response_quality",
        )[0]
    )
    assert list(rq.columns) == ["Rank", "Model", "Spearman", "Rating inflation"]


def test_plot_endpoint_follows_the_filters(served):
    client, _, _ = served
    plot = client.predict("all", "bm25", *default_filters(["f1"]), api_name="/plot_pairing")
    spec = json.loads(plot["plot"]) if isinstance(plot, dict) else json.loads(plot)
    points = next(layer for layer in spec["layer"] if layer["mark"].get("filled"))
    models = {p["model"] for p in points["data"]["values"]}
    # Two rows named BM25, told apart by their provenance.
    assert models == {
        "BM25 (recenter)",
        "BM25 (recenter-bench)",
        "Human annotators (each vs the others) (recenter)",
        "All relevant (recenter)",
    }


def test_submission_endpoint_shows_metadata_scores_and_confusion(served):
    client, _, _ = served
    outputs = client.predict("evil__markup/run1", api_name="/submission")
    metadata = frame_of(outputs[0]).set_index("field")["value"]
    assert metadata["model"] == MARKUP_MODEL
    assert outputs[1] == "fixture row"
    pairing_scores = frame_of(outputs[4])
    assert pairing_scores["split"].tolist() == ["test", "all", "validation", "train"]
    confusion = frame_of(outputs[5])
    assert confusion.shape == (2, 3)


def pairing_predictions(dataset: Path, relevant: bool) -> tuple[bytes, list[dict]]:
    rows = load_rows("pairing", str(dataset))
    lines = [
        json.dumps({"pair_id": row["pair_id"], "relevant": relevant})
        for split in rows
        for row in rows[split]
    ]
    return "\n".join(lines).encode(), rows["test"]


def test_preview_endpoint_scores_uploads_in_memory(served, preview_dataset, tmp_path):
    client, _, uploads = served
    content, test_rows = pairing_predictions(preview_dataset, relevant=True)
    upload = tmp_path / "pairing.jsonl"
    upload.write_bytes(content)

    messages, scores, standing = client.predict([handle_file(str(upload))], api_name="/preview")

    assert messages == "No problems found."
    table = frame_of(scores)
    f1 = table[(table["split"] == "test") & (table["metric"] == "f1")]["value"].item()
    truth = [bool(row["relevant"]) for row in test_rows]
    assert f1 == pytest.approx(f1_score(truth, [True] * len(truth)), abs=1e-4)
    # Where it would rank on held-out data, and whether it is tied.
    assert "pairing on test: f1" in standing and "would rank" in standing
    assert "rank interval" in standing and "tied" in standing
    # Validate twice (Gradio hands identical bytes the same cached file): the same answer,
    # because the preview never deletes the upload (issue 11, item 6).
    again = client.predict([handle_file(str(upload))], api_name="/preview")
    assert again[0] == "No problems found." and again[2] == standing
    # Uploads are left to Gradio's cache cleanup, which removes them within 15 minutes.
    assert served[1].delete_cache == (900, 900)


def test_preview_endpoint_returns_validation_messages(served, tmp_path):
    client, _, _ = served
    upload = tmp_path / "pairing.jsonl"
    upload.write_text('{"pair_id": "nope", "relevant": "yes"}\n{broken\n')
    messages, scores, standing = client.predict([handle_file(str(upload))], api_name="/preview")
    assert "pairing.jsonl:2" in messages
    assert frame_of(scores).empty and standing == ""


def test_preview_says_plainly_when_the_dataset_is_unavailable(tmp_path):
    upload = tmp_path / "pairing.jsonl"
    upload.write_text('{"pair_id": "x", "relevant": true}\n')
    message, scores, _ = preview([str(upload)], str(tmp_path / "no-such-dataset"))
    assert message.startswith("The dataset is unavailable here, so no score preview")
    assert scores.empty
    assert upload.exists()  # never deleted: a second request may read the same file
    assert preview(None, None)[0].startswith("Upload one or more stage files")


def test_preview_without_a_dataset_says_so_without_starting_a_worker(tmp_path, monkeypatch):
    from recenter_bench.leaderboard import submit
    from recenter_bench.leaderboard.data import LeaderboardData

    data = LeaderboardData(tmp_path, str(tmp_path / "no-such-dataset"))
    assert data.labels_problem
    started: list[str | None] = []
    monkeypatch.setattr(submit, "preview_runner", lambda dataset: started.append(dataset))
    upload = tmp_path / "pairing.jsonl"
    upload.write_text('{"pair_id": "x", "relevant": true}\n')
    message, scores, _ = submit.preview([str(upload)], data.dataset, data)
    assert message.startswith("No score preview here: the dataset is unavailable (")
    assert scores.empty
    submit.prestart_previews(data)
    assert started == []  # neither the preview nor the server start asked for a worker


def test_cli_says_in_one_line_when_the_folder_is_missing(tmp_path, capsys):
    from recenter_bench.cli import main

    assert main(["leaderboard", "--submissions", str(tmp_path / "nope")]) == 1
    assert capsys.readouterr().err == f"error: {tmp_path / 'nope'}: --submissions: not a folder\n"


def test_about_is_built_from_the_cards_not_a_copy(monkeypatch):
    from recenter_bench.leaderboard.about import about_texts, strip_front_matter
    from recenter_bench.paths import METRIC_DIR

    dataset_card, metric_card, citation = about_texts()
    assert not metric_card.startswith("---")
    assert metric_card == strip_front_matter((METRIC_DIR / "README.md").read_text("utf-8"))
    assert citation in dataset_card + metric_card
    assert "@" in citation

    import recenter_bench.loaders.card

    def unavailable() -> str:
        raise FileNotFoundError("template missing")

    monkeypatch.setattr(recenter_bench.loaders.card, "static_card_text", unavailable)
    assert "dataset card is not available" in about_texts()[0]


def test_strip_front_matter():
    from recenter_bench.leaderboard.about import strip_front_matter

    assert strip_front_matter("---\na: 1\n---\n# Title\n") == "# Title\n"
    assert strip_front_matter("# No front matter\n---\n") == "# No front matter\n---\n"


def test_preview_refuses_more_files_than_a_submission_holds(tmp_path):
    from recenter_bench.leaderboard.limits import MAX_UPLOAD_FILES

    paths = []
    for i in range(MAX_UPLOAD_FILES + 1):
        path = tmp_path / f"f{i}.jsonl"
        path.write_text("{}\n")
        paths.append(str(path))
    message, scores, standing = preview(paths, None)
    assert message.startswith(f"At most {MAX_UPLOAD_FILES} files at once")
    assert scores.empty and standing == ""


def test_inspect_and_agreement_endpoints_for_a_committed_rescored_run(served):
    client, _, _ = served
    bm25 = COMMITTED_BM25
    summary, pairwise, _, clusters, errors, csv_file = client.predict(
        bm25, "pairing", "test", api_name="/inspect"
    )
    assert "rank interval" in summary and "disagrees with the human reference on" in summary
    assert "p-value" in frame_of(pairwise).columns
    disagreements = frame_of(errors)
    assert len(disagreements) > 0 and set(disagreements["system"]) <= {"relevant", "not relevant"}
    assert Path(csv_file).read_text(encoding="utf-8").startswith('"pair_id",')
    # A stage the run did not enter: said so, not "predictions do not cover the rows".
    summary, *_ = client.predict(bm25, "extraction", "all", api_name="/inspect")
    assert "because it did not enter Stage 1" in summary
    _, kappas, note = client.predict("test", api_name="/agreement")
    assert "Human majority" in frame_of(kappas)["κ"].tolist() and "labelled pairs" in note
    text, *_ = client.predict(api_name="/leaders")
    assert text.startswith("### Who leads")


def test_stage_2_serves_the_lead_over_the_prompt_blind_reference(preview_dataset):
    """On the committed rows, /filter_pairing sends the 'Lead over prompt-blind' column when it
    is chosen (it is in the chooser, off by default), with the cells of the board's table, the
    reference row labelled, and one sentence under the table on what the reference means."""
    from recenter_bench.leaderboard.app import PROMPT_BLIND_NOTE, column_choices, default_columns
    from recenter_bench.leaderboard.prompt_blind import REFERENCE_TEXT

    assert ("Lead over prompt-blind", "prompt_blind_lead") in column_choices("pairing")
    assert "prompt_blind_lead" not in default_columns("pairing")
    assert all(n != "prompt_blind_lead" for _, n in column_choices("extraction"))
    demo = build_app(SUBMISSIONS_DIR, dataset=str(preview_dataset))
    board = demo.leaderboard_data
    with serve(demo) as url:
        client = Client(url, verbose=False)
        columns = ["type", "f1", "prompt_blind_lead"]
        table, note = client.predict(
            "test", "", *default_filters(columns), api_name="/filter_pairing"
        )
        _, default_note = client.predict(
            "test", "", *default_filters(default_columns("pairing")), api_name="/filter_pairing"
        )
        _, validation_note = client.predict(
            "validation", "", *default_filters(columns), api_name="/filter_pairing"
        )
    shown = frame_of(table)
    expected = board.table("pairing", "test")
    cells = dict(zip(expected["model"], expected["prompt_blind_lead"].fillna(""), strict=True))
    served_cells = {
        m.split("](")[0].lstrip("[").replace("\\", ""): c or ""
        for m, c in zip(shown["Model"], shown["Lead over prompt-blind"], strict=True)
    }
    assert served_cells == cells
    assert sum(c.startswith(("+", "−")) for c in served_cells.values()) >= 4
    reference_rows = shown[shown["Lead over prompt-blind"] == REFERENCE_TEXT]
    assert len(reference_rows) == 1
    assert reference_rows["Type"].iloc[0] == f"fine-tuned · {REFERENCE_TEXT}"
    assert PROMPT_BLIND_NOTE.strip() in note and PROMPT_BLIND_NOTE.strip() in default_note
    # Nothing is held out on validation, so there is no reference to explain there.
    assert PROMPT_BLIND_NOTE.strip() not in validation_note


def test_a_submission_view_is_one_answer_computed_once_per_snapshot(served):
    """/submission answers the whole view of a run (scores, the stage and split its comparison
    opens on, the comparison itself): one request per view, not a chain. The view is computed
    once per snapshot; the disagreements' CSV is written again if the download folder dropped
    it. A stage the run did not enter shows a heading saying so, and no table."""
    from recenter_bench.leaderboard.submission_view import submission_outputs

    client, demo, _ = served
    data, csv = demo.leaderboard_data, demo.leaderboard_files
    outputs = client.predict(COMMITTED_BM25, api_name="/submission")
    fn = next(f for f in demo.fns.values() if f.api_name == "submission")
    at = {block.elem_id: i for i, block in enumerate(fn.outputs) if block.elem_id}
    assert outputs[at["inspect-stage"]]["value"] == "pairing"
    assert outputs[at["inspect-split"]]["value"] == data.default_split("pairing")
    summary = outputs[at["inspect-summary"]]
    assert "rank interval" in summary and "disagrees with the human reference on" in summary
    texts = [o for o in outputs if isinstance(o, str)]
    submission = data.snapshot.by_id[COMMITTED_BM25]
    not_entered = [s for s in ("extraction", "response_quality") if not submission.splits(s)]
    assert not_entered
    headings = [t for t in texts if t.startswith("### ")]
    assert len(headings) == 3
    assert sum("Not entered by this submission." in h for h in headings) == len(not_entered)

    first = submission_outputs(data, csv, COMMITTED_BM25)
    again = submission_outputs(data, csv, COMMITTED_BM25)
    assert first[0] is again[0]  # the metadata table: a lookup, not rebuilt
    path = Path(first[-1])
    text = path.read_text(encoding="utf-8")
    path.unlink()
    assert Path(submission_outputs(data, csv, COMMITTED_BM25)[-1]).read_text("utf-8") == text


def test_the_overview_page_is_sent_without_its_charts_and_its_load_draws_them(served):
    """The leaders' charts are not in the page (their Vega bundle would hold back the table's
    first paint); the page load's refresh (/open) draws them, once."""
    client, demo, _ = served
    charts = [
        c
        for c in demo.config["components"]
        if str(c["props"].get("elem_id")).startswith("leaders-")
    ]
    assert len(charts) == 3 and all(c["props"].get("value") is None for c in charts)
    *_, text, c1, c2, c3 = client.predict(api_name="/open")
    assert text.startswith("### Who leads")
    drawn = [c for c in (c1, c2, c3) if isinstance(c, dict) and c.get("value")]
    assert drawn and all(json.loads(c["value"]["plot"])["$schema"] for c in drawn)
