"""Session-wide test settings, for the test suite and the metric's doctests alike."""

import os

# Tests use local files only: make the Hub libraries fail fast instead of reaching for the network.
# Set before `datasets` / `huggingface_hub` / `evaluate` are imported, since they read it at import.
for _name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_EVALUATE_OFFLINE"):
    os.environ.setdefault(_name, "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
