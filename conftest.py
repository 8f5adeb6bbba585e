"""Session-wide test settings, for the test suite and the metric's doctests alike."""

import os
import sys

# Tests use local files only: make the Hub libraries fail fast instead of reaching for the network.
# Set before `datasets` / `huggingface_hub` / `evaluate` are imported, since they read it at import.
for _name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_EVALUATE_OFFLINE"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

# pytest puts the checkout first on sys.path to import this file and `tests`. An editable install
# leaves `recenter_bench.egg-info` there, which then shadows the installed distribution's metadata
# (the one with PEP 610's editable marker): Inspect AI reads that marker to namespace the tasks
# as `recenter_bench/<stage>`. Keep the checkout on the path, but after site-packages.
_ROOT = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or os.curdir) == _ROOT:
    sys.path.append(sys.path.pop(0))
