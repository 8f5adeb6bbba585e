"""`recenter import-votes`: the authors' published votes become a valid submission folder, scored
by the metric like any other; written atomically, never over an existing folder, only to tmp."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from recenter_bench.cli import main
from recenter_bench.errors import UserError
from recenter_bench.import_votes import import_votes, read_votes, release_pairs, vote_predictions

VOTES = Path("data/relevance_task5")


@pytest.fixture(scope="module")
def reference(preview_dataset: Path):
    from recenter_bench.review import load_reference

    return load_reference(preview_dataset)


def test_gpt_votes_become_a_valid_submission(preview_release, reference, tmp_path):
    out = tmp_path / "openai__GPT-5.4" / "paper-votes"
    results = import_votes(
        preview_release / VOTES / "gpt-5.4.jsonl",
        preview_release,
        "GPT-5.4",
        out,
        reference=reference,
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "metadata.yaml",
        "pairing.jsonl",
        "results.json",
    ]
    metadata = yaml.safe_load((out / "metadata.yaml").read_text())
    assert metadata["org"] == "openai" and metadata["model"] == "GPT-5.4"
    assert metadata["type"] == "zero-shot LLM" and metadata["provenance"] == "rescored"
    assert metadata["stages"] == ["pairing"] and metadata["trained_on"] == []
    assert metadata["dataset_revision"] == reference.revision
    rows = [json.loads(line) for line in (out / "pairing.jsonl").read_text().splitlines()]
    assert len(rows) == 3969  # 3,973 votes; the 4 pairs without a human label are not in the data
    assert json.loads((out / "results.json").read_text()) == results.to_dict()
    everything = results.scores["pairing"]["all"]
    assert round(everything["f1"], 3) == 0.474  # the paper's Table 3
    from recenter_bench.review import validate_submission

    assert validate_submission(out, reference=reference, require_results=True) == []
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no scratch left


def test_an_existing_folder_is_never_overwritten(preview_release, reference, tmp_path):
    out = tmp_path / "google__Gemma-4-31B" / "run"
    out.mkdir(parents=True)
    (out / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="already exists"):
        import_votes(
            preview_release / VOTES / "google_gemma-4-31b-it.jsonl",
            preview_release,
            "Gemma-4-31B",
            out,
            reference=reference,
        )
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_cli_writes_the_folder_and_refuses_a_second_time(preview_release, tmp_path, capsys):
    out = tmp_path / "google__Gemma-4-31B" / "paper-votes"
    argv = [
        "import-votes",
        "--stage",
        "pairing",
        "--release",
        str(preview_release),
        "--model",
        "Gemma-4-31B",
        "--open-weights",
        "--out",
        str(out),
        str(preview_release / VOTES / "google_gemma-4-31b-it.jsonl"),
    ]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "pairing/all: n=3969 f1=0.514 accuracy=0.685" in printed
    assert yaml.safe_load((out / "metadata.yaml").read_text())["open_weights"] is True
    before = (out / "pairing.jsonl").read_bytes()
    assert main(argv) == 1
    assert "already exists" in capsys.readouterr().err
    assert (out / "pairing.jsonl").read_bytes() == before


def test_out_must_name_the_org_or_org_be_given(preview_release, reference, tmp_path):
    with pytest.raises(UserError, match=r"<org>__<model>/<run>"):
        import_votes(
            preview_release / VOTES / "gpt-5.4.jsonl",
            preview_release,
            "GPT-5.4",
            tmp_path / "plain" / "run",
            reference=reference,
        )
    assert not (tmp_path / "plain" / "run").exists()


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", r"votes\.jsonl:1: json: malformed JSONL line"),
        ('{"user_id": "u", "items": []}', r"votes\.jsonl:1: prompt_index: missing field"),
        (
            '{"user_id": "u", "prompt_index": 1, "items": [{"attribute": "a", "relevant": null}]}',
            r"votes\.jsonl:1: items\[0\]\.relevant: expected bool",
        ),
    ],
)
def test_bad_vote_lines_name_file_line_and_field(tmp_path, line, message):
    path = tmp_path / "votes.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(UserError, match=message):
        read_votes(path)


def test_a_pair_voted_twice_is_an_error(tmp_path):
    path = tmp_path / "votes.jsonl"
    item = {"attribute": "a", "relevant": True}
    record = {"user_id": "u", "prompt_index": 3, "items": [item]}
    path.write_text(json.dumps(record) + "\n" + json.dumps(record) + "\n")
    with pytest.raises(UserError, match=r"votes\.jsonl:2: items\[0\]\.attribute: pair voted twice"):
        read_votes(path)


def test_votes_from_another_release_are_refused(preview_release, tmp_path):
    path = tmp_path / "votes.jsonl"
    path.write_text(
        json.dumps(
            {
                "user_id": "someone",
                "prompt_index": 3,
                "items": [{"attribute": "x", "relevant": True}],
            }
        )
        + "\n"
    )
    with pytest.raises(UserError, match="not in the release"):
        vote_predictions(read_votes(path), release_pairs(preview_release), set(), path)
