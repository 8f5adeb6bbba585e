"""The metric as an `evaluate` module: loads offline from its folder, one config per stage, and
the same numbers as the pure functions; the pure functions also work without `evaluate`."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys

import pytest

from recenter_bench.metric.recenter_personalization import recenter_personalization as metric
from recenter_bench.paths import METRIC_DIR, REPO_ROOT

OFFLINE = {"HF_HUB_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name, value in OFFLINE.items():
        monkeypatch.setenv(name, value)
    # A fresh module cache: the module must load from the folder, not from an old copy.
    monkeypatch.setenv("HF_MODULES_CACHE", str(tmp_path / "modules"))


def test_every_stage_loads_offline_in_a_fresh_process(tmp_path):
    # evaluate reads the offline switches at import time, so check in a clean interpreter.
    code = f"""
import json, evaluate
out = {{}}
for stage in ("extraction", "pairing", "response_quality"):
    m = evaluate.load({str(METRIC_DIR)!r}, config_name=stage)
    if stage == "response_quality":
        r = m.compute(predictions=[1, 2, 4, 5], references=[1.5, 2.0, 3.5, 4.5], n_bootstrap=0)
    else:
        r = m.compute(predictions=[True, False, True, True], references=[True, False, False, True],
                      n_bootstrap=0)
    out[stage] = r
print(json.dumps(out))
"""
    env = {**os.environ, **OFFLINE, "HF_MODULES_CACHE": str(tmp_path / "modules")}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["pairing"]["f1"] == pytest.approx(0.8)
    assert results["extraction"]["flag_rate"] == pytest.approx(0.75)
    assert results["response_quality"]["spearman"] == pytest.approx(1.0)
    assert list(results["pairing"]) == list(metric.METRIC_NAMES["pairing"])
    assert list(results["response_quality"]) == list(metric.METRIC_NAMES["response_quality"])


def test_evaluate_compute_equals_the_pure_functions(offline):
    import evaluate

    predictions = [True, True, False, True, False, False, True, False]
    references = [True, False, False, True, True, False, True, False]
    groups = [
        "lima-01",
        "lima-01",
        "lima-02",
        "lima-02",
        "lima-03",
        "lima-03",
        "lima-04",
        "lima-04",
    ]
    labels = [
        {"annotator_1": r, "annotator_2": not r if i % 3 == 0 else r}
        for i, r in enumerate(references)
    ]
    loaded = evaluate.load(str(METRIC_DIR), config_name="pairing")
    via_evaluate = loaded.compute(
        predictions=predictions,
        references=references,
        groups=groups,
        annotator_labels=labels,
        n_bootstrap=200,
        seed=3,
    )
    direct = metric.score_binary(predictions, references, "pairing", groups, labels, 200, 3)
    assert via_evaluate.keys() == direct.keys()
    for name in direct:
        assert via_evaluate[name] == pytest.approx(direct[name], nan_ok=True)
    assert not math.isnan(via_evaluate["kappa_vs_annotators"])
    assert via_evaluate["f1_ci_low"] <= via_evaluate["f1"] <= via_evaluate["f1_ci_high"]


def test_ratings_keep_their_precision_through_evaluate(offline):
    import evaluate

    loaded = evaluate.load(str(METRIC_DIR), config_name="response_quality")
    references = [4 / 3, 5 / 3, 7 / 3, 13 / 3]  # float32 would round these
    result = loaded.compute(predictions=[1.1, 2.2, 3.3, 4.4], references=references, n_bootstrap=0)
    assert result["human_mean_rating"] == sum(references) / 4


def test_unknown_config_is_a_clear_error(offline):
    import evaluate

    with pytest.raises(ValueError, match="config_name must be one of"):
        evaluate.load(str(METRIC_DIR), config_name="default")


def test_pure_functions_import_without_evaluate_or_datasets():
    code = f"""
import sys
sys.modules["evaluate"] = None  # any import of it fails
sys.modules["datasets"] = None
sys.path.insert(0, {str(REPO_ROOT)!r})
from recenter_bench.metric.recenter_personalization import recenter_personalization as m
assert "RecenterPersonalization" not in vars(m)
try:
    m.RecenterPersonalization  # the wrapper needs evaluate, which is missing here
except ImportError:
    pass
else:
    raise AssertionError("the evaluate wrapper was made without evaluate")
s = m.score_submission({{"pairing": [{{"pair_id": "p", "relevant": True}}]}},
                       {{"pairing": {{"test": [{{"pair_id": "p", "relevant": True}}]}}}})
print(s["pairing"]["test"]["f1"])
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1.0"


def test_module_file_imports_only_numpy_scipy_and_evaluate_on_demand():
    import ast

    tree = ast.parse((METRIC_DIR / "recenter_personalization.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    stdlib = {"__future__", "math", "sys", "collections", "dataclasses", "types", "typing"}
    allowed = stdlib | {"numpy", "scipy"}
    assert imported - allowed == {"datasets", "evaluate"}


# Issue 11, item 8: `evaluate` cast ["no", "no", "no", "no"] and [0.1, ...] to True (F1 0.667,
# yes_rate 1.0 for four "no"-ish answers); non-finite ratings and ratings off the scale passed.
BAD_INPUTS = [
    ("pairing", ["no", "no", "no", "no"], "got 'no'"),
    ("pairing", [0.1, 0.1, 0.1, 0.1], "got 0.1"),
    ("extraction", [True, False, 0.5, True], "got 0.5"),
    ("pairing", [True, False, float("nan"), True], "got nan"),
    ("pairing", [True, None, True, True], "got None"),
    ("response_quality", [1.0, 2.0, float("nan"), 4.0], "expected finite numbers, got nan"),
    ("response_quality", [1.0, 2.0, float("inf"), 4.0], "expected finite numbers, got inf"),
    ("response_quality", ["1", "2", "3", "4"], "expected numbers, got '1'"),
    ("response_quality", [True, 2, 3, 4], "expected numbers, got True"),
    ("response_quality", [0.5, 2, 3, 5], "ratings are in [1, 5], got 0.5"),
]


@pytest.mark.parametrize(("stage", "predictions", "message"), BAD_INPUTS)
def test_compute_rejects_what_it_used_to_cast(offline, stage, predictions, message) -> None:
    import evaluate

    loaded = evaluate.load(str(METRIC_DIR), config_name=stage)
    references = [1.0, 2.0, 3.0, 4.0] if stage == "response_quality" else [True, False] * 2
    with pytest.raises(ValueError, match=f"^predictions: .*{re.escape(message)}"):
        loaded.compute(predictions=predictions, references=references, n_bootstrap=0)
    with pytest.raises(ValueError, match=re.escape(message)):
        loaded.add_batch(predictions=predictions, references=references)
    # the pure function refuses the same values
    score = metric.score_ratings if stage == "response_quality" else metric.score_binary
    with pytest.raises(ValueError, match=re.escape(message)):
        score(predictions, references, n_bootstrap=0)


def test_add_checks_one_value(offline) -> None:
    import evaluate

    loaded = evaluate.load(str(METRIC_DIR), config_name="pairing")
    with pytest.raises(ValueError, match="got 'yes'"):
        loaded.add(prediction="yes", reference=True)
    for prediction, reference in [(True, True), (0, False), (1, True)]:
        loaded.add(prediction=prediction, reference=reference)
    assert loaded.compute(n_bootstrap=0)["f1"] == 1.0


def test_integers_zero_and_one_are_still_booleans(offline) -> None:
    import evaluate

    loaded = evaluate.load(str(METRIC_DIR), config_name="pairing")
    as_ints = loaded.compute(predictions=[1, 0, 1, 1], references=[1, 0, 0, 1], n_bootstrap=0)
    as_bools = metric.score_binary(
        [True, False, True, True], [True, False, False, True], n_bootstrap=0
    )
    assert json.dumps(as_ints) == json.dumps(as_bools)  # NaN != NaN, but prints alike


def test_version_was_bumped_with_a_changelog_entry() -> None:
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    # 1.0.0 cast strings and probabilities to booleans; refusing them changed the accepted inputs.
    assert metric.METRIC_VERSION != "1.0.0"
    assert f"### Metric `recenter_personalization` {metric.METRIC_VERSION}\n" in changelog


def test_evaluate_wrapper_is_made_on_first_access():
    import evaluate

    from recenter_bench.metric.recenter_personalization import recenter_personalization as m

    assert issubclass(m.RecenterPersonalization, evaluate.Metric)
    assert m.RecenterPersonalization is m.RecenterPersonalization  # made once
