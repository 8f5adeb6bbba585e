"""The metric card: evaluate-style YAML front matter, the sections a metric card has, and every
`>>>` example in it runs (as the module's own `Examples:` do under --doctest-modules)."""

from __future__ import annotations

import doctest
import re

import pytest
import yaml

from recenter_bench.metric.recenter_personalization import recenter_personalization as metric
from recenter_bench.paths import METRIC_DIR, REPO_ROOT

CARD = (METRIC_DIR / "README.md").read_text(encoding="utf-8")


def test_front_matter_is_evaluate_style():
    match = re.match(r"^---\n(.*?)\n---\n", CARD, re.DOTALL)
    assert match, "the card starts with YAML front matter"
    front = yaml.safe_load(match.group(1))
    assert {"title", "tags", "description"} <= set(front)
    assert {"evaluate", "metric"} <= set(front["tags"])


def test_card_has_the_metric_card_sections():
    for heading in (
        "## Metric Description",
        "## How to Use",
        "### Inputs",
        "### Output Values",
        "#### Values from Popular Papers",
        "### Examples",
        "## Limitations and Bias",
        "## Citation",
    ):
        assert heading in CARD


def test_card_documents_every_metric_name_and_baseline():
    for names in metric.METRIC_NAMES.values():
        for name in names:
            assert f"`{name}`" in CARD or f"`{name.split('_ci_')[0]}_ci_low`" in CARD, name
    for baseline in metric.BASELINES:
        assert f"`{baseline}`" in CARD


def code_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, re.DOTALL)


@pytest.mark.parametrize("block", code_blocks(CARD))
def test_card_examples_run(block, monkeypatch, tmp_path):
    monkeypatch.chdir(REPO_ROOT)  # the card loads the module by its path in the repository
    monkeypatch.setenv("HF_MODULES_CACHE", str(tmp_path / "modules"))
    parser = doctest.DocTestParser()
    test = parser.get_doctest(block, {}, "README.md", str(METRIC_DIR / "README.md"), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
