"""Session-wide test settings, for the test suite and the metric's doctests alike."""

import os
import sys

import pytest

# Tests use local files only: make the Hub libraries fail fast instead of reaching for the network.
# Set before `datasets` / `huggingface_hub` / `evaluate` are imported, since they read it at import.
for _name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_EVALUATE_OFFLINE"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

# pytest puts the checkout first on sys.path to import this file, `tests` and the metric's
# doctest module. An editable install leaves `recenter_bench.egg-info` there, which then shadows
# the installed distribution's metadata (the one with PEP 610's editable marker): Inspect AI reads
# that marker to namespace the tasks as `recenter_bench/<stage>`. Keep the checkout on the path,
# but after site-packages: at start, and before every test (importing a module for collection or
# running a doctest puts it first again).
_ROOT = os.path.dirname(os.path.abspath(__file__))


def _checkout_last_on_sys_path() -> None:
    entries = [p for p in sys.path if os.path.abspath(p or os.curdir) == _ROOT]
    if entries:
        sys.path[:] = [p for p in sys.path if p not in entries] + [_ROOT]


@pytest.fixture(autouse=True)
def _checkout_after_site_packages() -> None:
    _checkout_last_on_sys_path()


_checkout_last_on_sys_path()
