"""Property tests of the submission check: whatever bytes arrive (a folder, a Hub pull request,
an upload in the Space), the check returns one-line problems and never raises."""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recenter_bench.loaders.ids import attribute_id, pair_id, rating_id
from recenter_bench.review import (
    ALLOWED_FILES,
    Reference,
    check_files,
    check_folder,
    parse_yaml,
)

USERS = ["u1", "u2", "u3"]
PROMPTS = {33: "test", 34: "test", 38: "validation", 1: "train", 2: "train"}


def _reference() -> Reference:
    """A tiny dataset with every stage, labelled pairing rows and unlabelled others."""
    rows: dict[str, dict[str, list[dict]]] = {
        "extraction": {},
        "pairing": {},
        "response_quality": {},
    }
    for n, user in enumerate(USERS):
        split = ("train", "validation", "test")[n]
        rows["extraction"].setdefault(split, []).append(
            {
                "attribute_id": attribute_id(user, "likes tea"),
                "user_id": user,
                "label": None,
                "judgments": [],
            }
        )
    for prompt, split in PROMPTS.items():
        for n, user in enumerate(USERS):
            rows["pairing"].setdefault(split, []).append(
                {
                    "pair_id": pair_id(user, prompt, "likes tea"),
                    "user_id": user,
                    "prompt_id": f"lima-{prompt:02d}",
                    "relevant": (n + prompt) % 3 == 0,
                    "judgments": [],
                }
            )
            rows["response_quality"].setdefault(split, []).append(
                {
                    "rating_id": rating_id(user, prompt, "gpt-5.4", "likes tea"),
                    "user_id": user,
                    "prompt_id": f"lima-{prompt:02d}",
                    "mean_rating": None,
                    "ratings": [],
                }
            )
    return Reference.from_rows("synthetic", "synthetic0001", rows)


REFERENCE = _reference()
ID_POOL = [i for stage in REFERENCE.split_of_id.values() for i in stage] + ["pair-zz", "", "x"]

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.sampled_from(ID_POOL)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
field_names = st.sampled_from(
    ["pair_id", "attribute_id", "rating_id", "relevant", "problematic", "rating", "score"]
) | st.text(max_size=10)
rows = st.dictionaries(field_names, json_values, max_size=5)


def _line(value: object) -> str:
    return json.dumps(value, allow_nan=True)


stage_lines = st.lists(
    st.one_of(rows.map(_line), json_values.map(_line), st.text(max_size=30)), max_size=12
)
file_names = st.sampled_from(ALLOWED_FILES) | st.text(
    alphabet=string.printable + "é\u202e", min_size=1, max_size=20
)
file_bytes = st.one_of(
    st.binary(max_size=200),
    stage_lines.map(lambda lines: "\n".join(lines).encode("utf-8", "surrogatepass")),
    st.dictionaries(st.text(max_size=12), json_values, max_size=8).map(
        lambda d: json.dumps(d, allow_nan=True).encode()
    ),
)


def _assert_one_line_problems(problems: list[str]) -> None:
    assert isinstance(problems, list)
    for problem in problems:
        assert isinstance(problem, str) and problem
        assert "\n" not in problem and "\r" not in problem


@settings(max_examples=150, deadline=None)
@given(files=st.dictionaries(file_names, file_bytes, max_size=6), require=st.booleans())
def test_check_files_never_raises(files: dict[str, bytes], require: bool) -> None:
    checked = check_files(
        files, REFERENCE, identity=("acme__Tiny", "run-1"), require_metadata=require
    )
    _assert_one_line_problems(checked.problems)


@settings(max_examples=150, deadline=None)
@given(stage=st.sampled_from(["extraction", "pairing", "response_quality"]), lines=stage_lines)
def test_any_stage_file_gives_one_line_problems(stage: str, lines: list[str]) -> None:
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    checked = check_files({f"{stage}.jsonl": data}, REFERENCE, require_metadata=False)
    _assert_one_line_problems(checked.problems)
    for problem in checked.problems:
        assert problem.startswith(f"{stage}.jsonl")


metadata_values = st.fixed_dictionaries(
    {},
    optional={
        "model": json_values,
        "org": json_values,
        "link": st.text(max_size=30) | json_values,
        "type": st.sampled_from(["zero-shot LLM", "baseline", "oracle"]) | json_values,
        "open_weights": json_values,
        "trained_on": json_values,
        "stages": st.lists(st.sampled_from(["pairing", "extraction", "x"]), max_size=3)
        | json_values,
        "benchmark_version": json_values,
        "dataset_revision": json_values,
        "date": st.text(max_size=12) | json_values,
        "contact": json_values,
        "description": json_values,
        "provenance": st.sampled_from(["rescored", "reported"]) | json_values,
        "source": json_values,
    },
)


@settings(max_examples=150, deadline=None)
@given(metadata=metadata_values)
def test_any_metadata_gives_one_line_problems(metadata: dict) -> None:
    text = json.dumps(metadata, allow_nan=True)  # JSON is YAML: exercises every value type
    checked = check_files(
        {"metadata.yaml": text.encode()}, REFERENCE, identity=("acme__Tiny", "run-1")
    )
    _assert_one_line_problems(checked.problems)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=200))
def test_parse_yaml_never_raises(text: str) -> None:
    document, problems = parse_yaml("metadata.yaml", text)
    _assert_one_line_problems(problems)
    assert document is None or isinstance(document.data, dict)


@settings(max_examples=100, deadline=None)
@given(
    relevant=st.lists(
        st.booleans(),
        min_size=len(REFERENCE.test_ids("pairing")),
        max_size=len(REFERENCE.test_ids("pairing")),
    ),
    scores=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=6, max_size=6),
)
def test_valid_predictions_are_never_rejected(relevant: list[bool], scores: list[float]) -> None:
    ids = REFERENCE.test_ids("pairing")
    lines = [
        json.dumps({"pair_id": i, "relevant": r, "score": s})
        for i, r, s in zip(ids, relevant, scores, strict=False)
    ]
    checked = check_files(
        {"pairing.jsonl": "\n".join(lines).encode()}, REFERENCE, require_metadata=False
    )
    assert checked.problems == []
    assert [row["pair_id"] for row in checked.predictions["pairing"]] == ids


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.dictionaries(
        st.text(
            alphabet=string.ascii_letters + string.digits + "._- é", min_size=1, max_size=16
        ).filter(lambda n: n not in (".", "..")),
        st.one_of(st.binary(max_size=100), st.just(None), st.just("link")),
        max_size=5,
    )
)
def test_any_folder_gives_one_line_problems(entries: dict[str, bytes | str | None]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "acme__Tiny" / "run-1"
        folder.mkdir(parents=True)
        for name, content in entries.items():
            path = folder / name
            if content is None:
                path.mkdir()
            elif content == "link":
                path.symlink_to("/etc/hostname")
            else:
                path.write_bytes(content)
        checked = check_folder(folder, REFERENCE)
        _assert_one_line_problems(checked.problems)


@pytest.mark.parametrize("depth", [17, 900, 5000])
@pytest.mark.parametrize(
    "name, template",
    [
        ("results.json", "{open}{close}"),
        ("results.json", '{{"scores": {open}{close}}}'),
        ("metadata.yaml", "model: {open}{close}"),
        ("pairing.jsonl", '{{"pair_id": {open}{close}}}'),
    ],
)
def test_deep_nesting_is_a_problem_not_a_crash(name: str, template: str, depth: int) -> None:
    data = template.format(open="[" * depth, close="]" * depth).encode()
    checked = check_files({name: data}, REFERENCE, identity=("acme__Tiny", "run-1"))
    _assert_one_line_problems(checked.problems)
    assert any(p.startswith(name) for p in checked.problems)
