"""A corpus of bad submissions: each is rejected with exactly the expected one-line messages,
exit code 1, no traceback, and nothing written.

Every case starts from one valid submission (built on the real preview dataset and scored with
`recenter score --write`) and breaks one thing. The expected messages are templates: `{dir}` is
the submission folder, the other fields come from the dataset (see `Context`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from recenter_bench.cli import main
from recenter_bench.review import (
    MAX_STAGE_FILE_BYTES,
    Reference,
    Results,
    score_folder,
)

BASE_METADATA = {
    "model": "Tiny Model",
    "org": "acme",
    "link": "https://example.org/tiny-model",
    "type": "zero-shot LLM",
    "open_weights": True,
    "trained_on": [],
    "stages": ["pairing"],
    "benchmark_version": "1.0",
    "dataset_revision": None,  # the revision of the dataset checked against (`write_metadata`)
    "date": "2026-11-27",
    "contact": "tiny@example.org",
    "description": "A test submission.",
    "provenance": "rescored",
}
PAPER = "arXiv:2606.06614v1"  # a reported row's dataset_revision: the paper it comes from
ALLOWED = (
    "metadata.yaml, extraction.jsonl, pairing.jsonl, response_quality.jsonl, raw_answers.jsonl, "
    "results.json"
)


@dataclass
class Context:
    """What a case needs to know about the dataset and the base submission."""

    dir: Path
    reference: Reference
    pairs: list[str]  # the pairing test IDs, in the order of the base pairing.jsonl

    @property
    def fields(self) -> dict[str, object]:
        ratings = self.reference.test_ids("response_quality")
        return {
            "dir": self.dir,
            "n_pairs": len(self.pairs),
            "pair0": self.pairs[0],
            "pair1": self.pairs[1],
            "pair2": self.pairs[2],
            "n_ratings": len(ratings),
            "rating0": ratings[0],
            "n_attrs": len(self.reference.test_ids("extraction")),
            "attr0": self.reference.test_ids("extraction")[0],
            "limit": f"{MAX_STAGE_FILE_BYTES:,}",
            "revision": self.reference.revision,
        }


def write_metadata(ctx: Context, **changes: object) -> None:
    metadata = {**BASE_METADATA, "dataset_revision": ctx.reference.revision, **changes}
    metadata = {k: v for k, v in metadata.items() if v is not None}
    text = yaml.safe_dump(metadata, sort_keys=False)
    (ctx.dir / "metadata.yaml").write_text(text, encoding="utf-8")


def replace_metadata_line(ctx: Context, key: str, line: str) -> None:
    path = ctx.dir / "metadata.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [line if row.startswith(f"{key}:") else row for row in lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def pairing_lines(ctx: Context) -> list[str]:
    return (ctx.dir / "pairing.jsonl").read_text(encoding="utf-8").splitlines()


def set_pairing_line(ctx: Context, number: int, text: str) -> None:
    """Replace one line; `{pair0}`, `{pair1}`, `{attr0}` in `text` become the dataset's IDs."""
    for key in ("pair0", "pair1", "attr0"):
        text = text.replace("{" + key + "}", str(ctx.fields[key]))
    lines = pairing_lines(ctx)
    lines[number - 1] = text
    (ctx.dir / "pairing.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def set_results(ctx: Context, change: Callable[[dict], None]) -> None:
    path = ctx.dir / "results.json"
    results = json.loads(path.read_text(encoding="utf-8"))
    change(results)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def results_line(ctx: Context, needle: str) -> int:
    lines = (ctx.dir / "results.json").read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def rename_folder(ctx: Context, org_model: str | None = None, run: str | None = None) -> Path:
    target = ctx.dir.parent.parent / (org_model or ctx.dir.parent.name) / (run or ctx.dir.name)
    target.parent.mkdir(parents=True, exist_ok=True)
    ctx.dir.rename(target)
    ctx.dir = target
    return target


def link_folder(ctx: Context) -> Path:
    """Move the submission elsewhere and leave a symbolic link in its place."""
    real = ctx.dir.parent.parent.parent / "real-run"
    ctx.dir.rename(real)
    ctx.dir.symlink_to(real, target_is_directory=True)
    return ctx.dir


Case = tuple[str, Callable[[Context], object], list[str]]


def _claim_better_f1(results: dict) -> None:
    results["scores"]["pairing"]["test"]["f1"] = 0.99


def _drop_test_split(results: dict) -> None:
    del results["scores"]["pairing"]["test"]


LINK_HINT = "an http:// or https:// URL without spaces or quotes, or empty"
NAME_HINT = "plain text with a letter or digit, no '<', '>' or control characters"
METADATA_LINE = {"model": 1, "org": 2, "link": 3}


def not_allowed(case_id: str, field: str, value: str, shown: str) -> Case:
    """metadata.yaml's `field` set to a value its pattern refuses (`shown`: as quoted)."""
    hint = LINK_HINT if field == "link" else NAME_HINT
    line = METADATA_LINE[field]
    return (
        case_id,
        lambda c: write_metadata(c, **{field: value}),
        [f"{{dir}}/metadata.yaml:{line}: {field}: {shown} is not allowed here ({hint})"],
    )


def uncovered(stage_file: str, id_field: str, total: str, first: str) -> str:
    """The coverage line when exactly one test row lost its prediction."""
    return (
        f"{{dir}}/{stage_file}: {id_field}: 1 of the {total} rows of the test split have no "
        f"prediction (first missing: {first}); every stage entered must cover its test split"
    )


def bad_line(case_id: str, number: int, text: str, message: str) -> Case:
    """Line `number` of pairing.jsonl replaced by `text`: `message` on that line, and the pair
    it held is then missing from the test split."""
    return (
        case_id,
        lambda c: set_pairing_line(c, number, text),
        [
            f"{{dir}}/pairing.jsonl:{number}: {message}",
            uncovered("pairing.jsonl", "pair_id", "{n_pairs}", f"{{pair{number - 1}}}"),
        ],
    )


def bad_first_rating(case_id: str, value: object, message: str) -> Case:
    """A response_quality.jsonl entered next to pairing, its first rating set to `value`."""

    def breaks(c: Context) -> None:
        write_metadata(c, stages=["pairing", "response_quality"])
        ids = c.reference.test_ids("response_quality")
        rows = [{"rating_id": r, "rating": value if i == 0 else 3} for i, r in enumerate(ids)]
        text = "\n".join(json.dumps(row) for row in rows)
        (c.dir / "response_quality.jsonl").write_text(text)

    return (
        case_id,
        breaks,
        [
            f"{{dir}}/response_quality.jsonl:1: {message}",
            uncovered("response_quality.jsonl", "rating_id", "{n_ratings}", "{rating0}"),
        ],
    )


def write_raw_answers(ctx: Context, *lines: str) -> None:
    """raw_answers.jsonl with these lines; `{pair0}` becomes the dataset's first test pair."""
    text = "".join(line.replace("{pair0}", ctx.pairs[0]) + "\n" for line in lines)
    (ctx.dir / "raw_answers.jsonl").write_text(text, encoding="utf-8")


RAW_FIELDS = "answer, attribute_id, decision, order, pair_id, parsed, rating_id"


# (case id, what breaks, expected lines); `{...}` fields are filled from Context.fields.
CASES: list[Case] = [
    # issue 15, item 8: the board's human and no-skill lines come from the project's own rows
    *[
        (
            f"type-{kind}-is-reserved",
            lambda c, kind=kind: write_metadata(c, type=kind),
            [
                f'{{dir}}/metadata.yaml:4: type: "{kind}" is reserved for the rows the project '
                'makes from the dataset; a submission\'s type is one of "zero-shot LLM", '
                '"prompted LLM", "fine-tuned", "retrieval"'
            ],
        )
        for kind in ("human", "baseline")
    ],
    # raw_answers.jsonl is read like a stage file (issue 15, item 2: it was never opened)
    (
        "raw-answers-nested-too-deeply",
        lambda c: write_raw_answers(
            c, '{"pair_id": "{pair0}", "answer": ' + "[" * 500 + "]" * 500 + "}"
        ),
        ["{dir}/raw_answers.jsonl:1: values are nested too deeply"],
    ),
    (
        "raw-answers-not-json",
        lambda c: write_raw_answers(
            c, '{"pair_id": "{pair0}", "answer": "YES", "decision": true}', "{broken"
        ),
        [
            "{dir}/raw_answers.jsonl:2: not valid JSON: Expecting property name enclosed in double "
            "quotes (column 2)"
        ],
    ),
    (
        "raw-answers-unknown-field",
        lambda c: write_raw_answers(
            c, '{"pair_id": "{pair0}", "answer": "YES", "verdict": "\\u001b[2J"}'
        ),
        [f"{{dir}}/raw_answers.jsonl:1: verdict: unknown field; allowed: {RAW_FIELDS}"],
    ),
    (
        "raw-answers-answer-not-text",
        lambda c: write_raw_answers(c, '{"pair_id": "{pair0}", "answer": 5, "decision": true}'),
        ["{dir}/raw_answers.jsonl:1: answer: must be a string, got a number 5"],
    ),
    (
        "raw-answers-no-id",
        lambda c: write_raw_answers(c, '{"answer": "YES", "decision": true}'),
        ["{dir}/raw_answers.jsonl:1: needs exactly one of pair_id, attribute_id, rating_id"],
    ),
    (
        "raw-answers-unknown-id",
        lambda c: write_raw_answers(
            c, '{"pair_id": "pair-0000000000000000", "answer": "\\u0007YES"}'
        ),
        [
            '{dir}/raw_answers.jsonl:1: pair_id: unknown ID "pair-0000000000000000": not in the '
            "pairing config of the dataset"
        ],
    ),
    (
        "raw-answers-repeated-bad-line",
        lambda c: write_raw_answers(c, *['{"pair_id": "{pair0}"}'] * 100_000),
        [
            "{dir}/raw_answers.jsonl: answer: missing required field on 100,000 lines "
            "(first: line 1)"
        ],
    ),
    (
        "raw-answers-old-field-name-is-read",  # `parsed` before it was named `decision`
        lambda c: write_raw_answers(
            c,
            '{"pair_id": "{pair0}", "answer": "YES", "parsed": "yes"}',
            '{"pair_id": "{pair0}", "answer": "NO", "decision": false}',
        ),
        [
            "{dir}/raw_answers.jsonl:1: parsed: must be true or false or an integer or null, "
            'got a string "yes"'
        ],
    ),
    # issue 18: strings "yes"/"no" as predictions are one line naming the type, with a count
    (
        "predictions-as-yes-no-strings",
        lambda c: (c.dir / "pairing.jsonl").write_text(
            (c.dir / "pairing.jsonl").read_text().replace("true", '"yes"').replace("false", '"no"')
        ),
        [
            "{dir}/pairing.jsonl: relevant: must be true or false, got a string on {n_pairs:,} "
            'lines (first: line 1, "yes")',
            "{dir}/pairing.jsonl: pair_id: {n_pairs} of the {n_pairs} rows of the test split have "
            "no prediction (first missing: {pair0}); every stage entered must cover its test split",
        ],
    ),
    # ---- metadata.yaml --------------------------------------------------------------------
    (
        "metadata-missing",
        lambda c: (c.dir / "metadata.yaml").unlink(),
        ["{dir}/metadata.yaml: missing; every submission needs one (see submissions/README.md)"],
    ),
    (
        "metadata-malformed-yaml",
        lambda c: (c.dir / "metadata.yaml").write_text('model: "Tiny\norg: acme\n'),
        ["{dir}/metadata.yaml:3: not valid YAML: found unexpected end of stream"],
    ),
    (
        "metadata-not-a-mapping",
        lambda c: (c.dir / "metadata.yaml").write_text("- model\n- org\n"),
        ["{dir}/metadata.yaml:1: must be a mapping of `field: value` lines"],
    ),
    (
        "metadata-yaml-alias",
        lambda c: (c.dir / "metadata.yaml").write_text("model: &m Tiny Model\norg: *m\n"),
        ["{dir}/metadata.yaml:1: YAML anchors and aliases are not allowed"],
    ),
    (
        "metadata-yaml-python-tag",
        lambda c: replace_metadata_line(c, "model", "model: !!python/name:os.system ''"),
        ["{dir}/metadata.yaml:1: YAML tags are not allowed"],
    ),
    (
        "metadata-duplicate-key",
        lambda c: (c.dir / "metadata.yaml").write_text(
            (c.dir / "metadata.yaml").read_text() + "org: evil\n"
        ),
        [
            "{dir}/metadata.yaml:15: org: appears twice",
            "{dir}/metadata.yaml:1: org/model: the folder is named 'acme__Tiny-Model' but org "
            "and model make 'evil__Tiny-Model'; rename the folder or fix the metadata",
        ],
    ),
    (
        "metadata-missing-field",
        lambda c: write_metadata(c, contact=None),
        ["{dir}/metadata.yaml: contact: missing required field"],
    ),
    (
        "metadata-unknown-field",
        lambda c: write_metadata(c, score=0.99),
        [
            "{dir}/metadata.yaml:15: score: unknown field; allowed: benchmark_version, contact, "
            "dataset_revision, date, description, link, model, open_weights, org, provenance, run, "
            "source, stages, trained_on, type"
        ],
    ),
    (
        "metadata-yes-is-not-a-boolean",
        lambda c: replace_metadata_line(c, "open_weights", "open_weights: yes"),
        ['{dir}/metadata.yaml:5: open_weights: must be true or false, got a string "yes"'],
    ),
    (
        "metadata-unknown-type",
        lambda c: write_metadata(c, type="oracle"),
        [
            '{dir}/metadata.yaml:4: type: must be one of "zero-shot LLM", "prompted LLM", '
            '"fine-tuned", "retrieval", "baseline", "human"; got "oracle"'
        ],
    ),
    not_allowed("metadata-javascript-link", "link", "javascript:alert(1)", '"javascript:alert(1)"'),
    not_allowed(
        "metadata-link-breaks-out-of-attribute",
        "link",
        'https://example.org/"><script>alert(1)</script>',
        '"https://example.org/\\"><script>alert(1)</script>"',
    ),
    not_allowed(
        "metadata-script-in-model-name",
        "model",
        "<script>alert(1)</script>",
        '"<script>alert(1)</script>"',
    ),
    not_allowed(
        "metadata-html-in-org",
        "org",
        '<img src=x onerror="alert(1)">',
        '"<img src=x onerror=\\"alert(1)\\">"',
    ),
    not_allowed("metadata-control-character-in-org", "org", "acme\u0007", '"acme\\u0007"'),
    (
        "metadata-impossible-date",
        lambda c: write_metadata(c, date="2026-13-45"),
        ['{dir}/metadata.yaml:11: date: "2026-13-45" is not a valid date (YYYY-MM-DD)'],
    ),
    (
        "metadata-date-as-number",
        lambda c: replace_metadata_line(c, "date", "date: 20261127"),
        ["{dir}/metadata.yaml:11: date: must be a string, got a number 20261127"],
    ),
    (
        "metadata-trained-on-test",
        lambda c: write_metadata(c, trained_on=["train", "test"]),
        ['{dir}/metadata.yaml:8: trained_on.1: must be one of "train", "validation"; got "test"'],
    ),
    (
        "metadata-no-stages",
        lambda c: write_metadata(c, stages=[]),
        [
            "{dir}/metadata.yaml:7: stages: must list at least 1 item(s)",
            "{dir}/pairing.jsonl: pairing is not listed under stages in metadata.yaml",
        ],
    ),
    (
        "metadata-unknown-stage",
        lambda c: write_metadata(c, stages=["pairing", "ranking"]),
        [
            '{dir}/metadata.yaml:9: stages.1: must be one of "extraction", "pairing", '
            '"response_quality"; got "ranking"'
        ],
    ),
    (
        "metadata-wrong-benchmark-version",
        lambda c: write_metadata(c, benchmark_version="2.0"),
        ['{dir}/metadata.yaml:9: benchmark_version: must be one of "1.0"; got "2.0"'],
    ),
    (
        "metadata-source-on-rescored",
        lambda c: write_metadata(c, source="Table 3"),
        [
            "{dir}/metadata.yaml:15: source: only reported submissions (provenance: reported) "
            "name a source"
        ],
    ),
    (
        "metadata-reported-without-source",
        lambda c: (
            write_metadata(c, provenance="reported", dataset_revision=PAPER),
            (c.dir / "pairing.jsonl").unlink(),
        ),
        [
            "{dir}/metadata.yaml: source: missing required field",
            "{dir}/results.json:6: provenance: says 'rescored' but metadata.yaml says 'reported'",
        ],
    ),
    (
        "reported-with-predictions",
        lambda c: write_metadata(
            c, provenance="reported", source="Table 3", dataset_revision=PAPER
        ),
        [
            "{dir}/pairing.jsonl: a reported submission carries no predictions; remove this "
            "file or set provenance: rescored",
            "{dir}/results.json:6: provenance: says 'rescored' but metadata.yaml says 'reported'",
        ],
    ),
    # ---- folder names ---------------------------------------------------------------------
    (
        "folder-name-does-not-match-metadata",
        lambda c: rename_folder(c, org_model="openai__GPT-5.4"),
        [
            "{dir}/metadata.yaml:1: org/model: the folder is named 'openai__GPT-5.4' but org "
            "and model make 'acme__Tiny-Model'; rename the folder or fix the metadata",
            '{dir}/results.json:2: submission: says "acme__Tiny-Model/run-1" but the folder is '
            "'openai__GPT-5.4/run-1'",
        ],
    ),
    (
        "run-folder-name-with-space",
        lambda c: rename_folder(c, run="run 1"),
        [
            "{dir}: run folder: run 1 must be letters, digits and . _ - (at most 100)",
            '{dir}/results.json:2: submission: says "acme__Tiny-Model/run-1" but the folder is '
            "'acme__Tiny-Model/run 1'",
        ],
    ),
    # ---- files in the folder --------------------------------------------------------------
    (
        "extra-file",
        lambda c: (c.dir / "notes.txt").write_text("hello"),
        [f"{{dir}}/notes.txt: unexpected file; a submission holds only {ALLOWED}"],
    ),
    (
        "hidden-file",
        lambda c: (c.dir / ".DS_Store").write_bytes(b"\0\0"),
        [f"{{dir}}/.DS_Store: unexpected file; a submission holds only {ALLOWED}"],
    ),
    (
        "sub-folder",
        lambda c: (c.dir / "extra").mkdir(),
        ["{dir}/extra: folders are not allowed inside a submission"],
    ),
    (
        "symlinked-stage-file",
        lambda c: (
            (c.dir.parent.parent / "elsewhere.jsonl").write_bytes(
                (c.dir / "pairing.jsonl").read_bytes()
            ),
            (c.dir / "pairing.jsonl").unlink(),
            (c.dir / "pairing.jsonl").symlink_to(c.dir.parent.parent / "elsewhere.jsonl"),
        ),
        ["{dir}/pairing.jsonl: symbolic links are not allowed"],
    ),
    (
        "symlink-to-etc-passwd",
        lambda c: (c.dir / "response_quality.jsonl").symlink_to("/etc/passwd"),
        ["{dir}/response_quality.jsonl: symbolic links are not allowed"],
    ),
    (
        "submission-folder-is-a-symlink",
        lambda c: link_folder(c),
        ["{dir}: is a symbolic link; submit a real folder"],
    ),
    (
        "file-name-with-newline-and-bidi-override",
        lambda c: (c.dir / "pairing.jsonl\n\u202egnp.exe").write_text("{}"),
        [
            "{dir}/pairing.jsonl\\n\\u202egnp.exe: unexpected file; a submission holds only "
            + ALLOWED
        ],
    ),
    (
        "fifo-instead-of-file",
        lambda c: os.mkfifo(c.dir / "extraction.jsonl"),
        ["{dir}/extraction.jsonl: not a regular file"],
    ),
    (
        "oversized-stage-file",
        lambda c: (c.dir / "pairing.jsonl").write_bytes(
            (c.dir / "pairing.jsonl").read_bytes() + b" " * MAX_STAGE_FILE_BYTES
        ),
        ["{dir}/pairing.jsonl: file is {size:,} bytes; the limit is {limit}"],
    ),
    (
        "oversized-metadata",
        lambda c: write_metadata(c, description="x" * 70_000),
        ["{dir}/metadata.yaml: file is {size:,} bytes; the limit is 65,536"],
    ),
    # ---- the predictions ------------------------------------------------------------------
    (
        "stage-file-not-utf8",
        lambda c: (c.dir / "pairing.jsonl").write_bytes(
            b"\n".join(
                [*(c.dir / "pairing.jsonl").read_bytes().splitlines()[:1], b'{"pair_id": "\xff"}']
            )
        ),
        ["{dir}/pairing.jsonl:2: not UTF-8 text"],
    ),
    bad_line(
        "invalid-json-line",
        3,
        '{"pair_id": "{pair1}", "relevant": true',
        "not valid JSON: Expecting ',' delimiter (column 54)",
    ),
    bad_line(
        "duplicate-key-in-a-line",
        1,
        '{"pair_id": "{pair0}", "relevant": false, "relevant": true}',
        'not valid JSON: the key "relevant" appears twice in one object',
    ),
    bad_line("line-is-a-list", 2, "[1, 2]", "must be a JSON object, got a list"),
    bad_line(
        "nan-score",
        1,
        '{"pair_id": "{pair0}", "relevant": true, "score": NaN}',
        "score: NaN is not a finite number",
    ),
    bad_line(
        "infinite-score",
        1,
        '{"pair_id": "{pair0}", "relevant": true, "score": -Infinity}',
        "score: -Infinity is not a finite number",
    ),
    bad_line(
        "overflowing-score",
        1,
        '{"pair_id": "{pair0}", "relevant": true, "score": 1e999}',
        "score: 1e999 is not a finite number",
    ),
    bad_line(
        "string-instead-of-boolean",
        1,
        '{"pair_id": "{pair0}", "relevant": "yes"}',
        'relevant: must be true or false, got a string "yes"',
    ),
    bad_line(
        "number-instead-of-boolean",
        1,
        '{"pair_id": "{pair0}", "relevant": 1}',
        "relevant: must be true or false, got a number 1",
    ),
    bad_line("missing-id-field", 1, '{"relevant": true}', "pair_id: missing required field"),
    bad_line(
        "unknown-field-in-row",
        1,
        '{"pair_id": "{pair0}", "relevant": true, "gold": true}',
        "gold: unknown field; allowed: pair_id, relevant, score",
    ),
    (
        "unknown-id",
        lambda c: (c.dir / "pairing.jsonl").write_text(
            (c.dir / "pairing.jsonl").read_text()
            + '{"pair_id": "pair-0000000000000000", "relevant": true}\n'
        ),
        [
            '{dir}/pairing.jsonl:{n_pairs_plus_1}: pair_id: unknown ID "pair-0000000000000000": '
            "not in the pairing config of the dataset"
        ],
    ),
    bad_line(
        "id-from-another-config",
        1,
        '{"pair_id": "{attr0}", "relevant": true}',
        'pair_id: "{attr0}" is not allowed here (see the schema in dataset_card/schemas/)',
    ),
    bad_line(
        "duplicate-id",
        2,
        '{"pair_id": "{pair0}", "relevant": false}',
        "pair_id: duplicate of line 1",
    ),
    (
        "missing-test-coverage",
        lambda c: (c.dir / "pairing.jsonl").write_text("\n".join(pairing_lines(c)[10:]) + "\n"),
        [
            "{dir}/pairing.jsonl: pair_id: 10 of the {n_pairs} rows of the test split have no "
            "prediction (first missing: {pair0}); every stage entered must cover its test split",
        ],
    ),
    (
        "empty-stage-file",
        lambda c: (c.dir / "pairing.jsonl").write_text(""),
        [
            "{dir}/pairing.jsonl: pair_id: {n_pairs} of the {n_pairs} rows of the test split "
            "have no prediction (first missing: {pair0}); every stage entered must cover its "
            "test split",
        ],
    ),
    (
        "stage-file-not-listed",
        lambda c: (c.dir / "extraction.jsonl").write_text(
            "\n".join(
                json.dumps({"attribute_id": a, "problematic": False})
                for a in c.reference.test_ids("extraction")
            )
        ),
        ["{dir}/extraction.jsonl: extraction is not listed under stages in metadata.yaml"],
    ),
    (
        "listed-stage-without-file",
        lambda c: write_metadata(c, stages=["pairing", "response_quality"]),
        [
            "{dir}/metadata.yaml:7: stages: lists response_quality but response_quality.jsonl "
            "is missing"
        ],
    ),
    bad_first_rating("rating-out-of-range", 7, "rating: must be between 1 and 5, got 7"),
    bad_first_rating("rating-is-a-boolean", True, "rating: must be a number, got a boolean true"),
    # ---- results.json ---------------------------------------------------------------------
    (
        "results-claim-better-f1",
        lambda c: set_results(c, _claim_better_f1),
        [
            "{dir}/results.json:{line_test_f1}: scores.pairing.test.f1: says 0.99 but the "
            "predictions earn {true_f1}; run `recenter score FOLDER --write`"
        ],
    ),
    (
        "results-nan",
        lambda c: set_results(c, lambda r: r["scores"]["pairing"]["test"].update(f1=math.nan)),
        [
            "{dir}/results.json:{line_test_f1}: scores.pairing.test.f1: NaN is not a finite "
            "number; undefined values are written as null"
        ],
    ),
    (
        "results-nested-too-deeply",
        lambda c: (c.dir / "results.json").write_text('{"scores": ' + "[" * 500 + "]" * 500 + "}"),
        ["{dir}/results.json: values are nested too deeply"],
    ),
    (
        "results-not-json",
        lambda c: (c.dir / "results.json").write_text("{'scores': 1}"),
        ["{dir}/results.json:1: not valid JSON: Expecting property name enclosed in double quotes"],
    ),
    (
        "results-drop-a-split",
        lambda c: set_results(c, _drop_test_split),
        [
            "{dir}/results.json:8: scores.pairing.test: is missing; run `recenter score FOLDER "
            "--write`"
        ],
    ),
    (
        "results-made-up-metric",
        lambda c: set_results(c, lambda r: r["scores"]["pairing"]["test"].update(auc=0.99)),
        [
            "{dir}/results.json:{line_auc}: scores.pairing.test.auc: the metric has no pairing "
            "score named 'auc'"
        ],
    ),
    (
        "results-for-another-dataset",
        lambda c: set_results(c, lambda r: r.update(dataset_revision="000000000000")),
        [
            '{dir}/results.json:4: dataset_revision: says "000000000000", recomputed '
            '"{revision}"; run `recenter score FOLDER --write`'
        ],
    ),
]


# ---- the base submission and the test -----------------------------------------------------


def make_base(root: Path, reference: Reference) -> tuple[Context, Results]:
    """A valid submission: the pairing test split, every other pair called relevant."""
    folder = root / "submissions" / "acme__Tiny-Model" / "run-1"
    folder.mkdir(parents=True)
    pairs = reference.test_ids("pairing")
    ctx = Context(folder, reference, pairs)
    write_metadata(ctx)
    rows = [{"pair_id": p, "relevant": i % 2 == 0, "score": i / 7} for i, p in enumerate(pairs)]
    (folder / "pairing.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    results = score_folder(folder, reference=reference, write=True)
    return ctx, results


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root with its kind, bytes and modification time."""
    out = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        content = path.read_bytes() if path.is_file() and not path.is_symlink() else b""
        if path.is_fifo():
            content = b"<fifo>"
        out[str(path)] = (info.st_mode, info.st_mtime_ns, content)
    return out


def expected_lines(ctx: Context, base: Results, templates: list[str]) -> list[str]:
    fields = dict(ctx.fields)
    fields["n_pairs_plus_1"] = len(ctx.pairs) + 1
    fields["true_f1"] = json.dumps(base.scores["pairing"]["test"]["f1"])
    # the size of the largest file (the oversized one, in the cases that have one)
    fields["size"] = max(
        (p.lstat().st_size for p in ctx.dir.iterdir() if p.is_file() and not p.is_symlink()),
        default=0,
    )
    results = ctx.dir / "results.json"
    if results.is_file():
        lines = results.read_text(encoding="utf-8", errors="replace").splitlines()
        test = next((i for i, line in enumerate(lines) if '"test": {' in line), None)
        if test is not None:
            fields["line_test_f1"] = next(
                i for i, line in enumerate(lines[test:], start=test + 1) if '"f1":' in line
            )
        fields["line_auc"] = next(
            (i for i, line in enumerate(lines, start=1) if '"auc"' in line), None
        )
    return [template.format(**fields) for template in templates]


@pytest.mark.parametrize("case_id, breaks, templates", CASES, ids=[c[0] for c in CASES])
def test_bad_submission_is_rejected(
    case_id: str,
    breaks: Callable[[Context], object],
    templates: list[str],
    tmp_path: Path,
    reference: Reference,
    preview_dataset: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ctx, base = make_base(tmp_path, reference)
    capsys.readouterr()
    breaks(ctx)
    before = snapshot(tmp_path)
    code = main(["validate", str(ctx.dir), "--dataset", str(preview_dataset)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert "Traceback" not in err
    assert err.splitlines() == ["error: " + line for line in expected_lines(ctx, base, templates)]
    assert snapshot(tmp_path) == before, "validate wrote something"
