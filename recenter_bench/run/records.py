"""The records a run passes from step to step: the resolved `System`, the `Endpoint` an LLM
judge asks, the `Context` its kind runs in, and the `Outcome` it produces.

They are data, below every step of `recenter run` (systems -> dataset -> runner -> the kind ->
output): each step reads them, none calls back into the step that made them. A `System` carries
its kind's registration (`Kind`, from `run.kinds`), resolved once when the file is read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from recenter_bench.errors import UserError

if TYPE_CHECKING:
    from recenter_bench.run.kinds import Kind

# The splits whose labels a fitted system may read (`fit_on`, `choose_on`); never test.
FITTING_SPLITS = ("train", "validation")


@dataclass(frozen=True)
class System:
    """One system, as read from its file (plus flags); `fields` holds the kind's settings and
    `spec` the registration of its kind (what it runs, whether it is fitted)."""

    name: str
    source: str
    kind: str
    stage: str
    description: str
    spec: Kind
    fields: dict[str, Any] = field(default_factory=dict)
    # The prompt was given as a file on the command line (`--prompt FILE`), not by name.
    explicit_prompt: bool = False
    # The text of the prompt template, read and checked with the file (an LLM judge's).
    template: str | None = None

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)

    @property
    def fit_on(self) -> str:
        """The split whose labels fit the system's parameters (a threshold, weights)."""
        return self.get("fit_on", "train")

    @property
    def choose_on(self) -> str:
        """The split whose labels choose between candidates (default: `fit_on`)."""
        return self.get("choose_on", self.fit_on)

    @property
    def choose_by(self) -> str:
        """`validation` (fit on `fit_on`, choose on `choose_on`) or `grouped-cv`."""
        return self.get("choose_by", "validation")

    @property
    def trained_on(self) -> list[str]:
        """The splits whose labels the system reads (metadata's `trained_on`)."""
        if not self.spec.fitted:
            return []
        if self.choose_by == "grouped-cv":
            return list(FITTING_SPLITS)
        return [s for s in FITTING_SPLITS if s in (self.fit_on, self.choose_on)]

    @property
    def metadata_type(self) -> str:
        return self.spec.metadata_type


@dataclass(frozen=True)
class Endpoint:
    """Where requests go and how hard to try."""

    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    concurrency: int = 8
    max_retries: int = 6
    timeout_s: float = 600.0
    backoff_s: float = 1.0  # first retry waits about this long; each next one twice as long

    def api_key(self) -> str:
        """The key from the environment; missing is a user error (a keyless local server takes
        any value, e.g. `export OPENAI_API_KEY=EMPTY`, as vLLM documents)."""
        key = os.environ.get(self.api_key_env)
        if not key:
            raise UserError(
                f"--api-key-env: the environment variable {self.api_key_env} is not set; export "
                "your API key there (for a server without authentication any value works, e.g. "
                f"{self.api_key_env}=EMPTY)"
            )
        return key

    def url(self, path: str) -> str:
        """`base_url` + `/path`, as the `openai` client joins them (a query string stays last).

        >>> Endpoint("http://h:8000/v1/?api-version=2", "m").url("models")
        'http://h:8000/v1/models?api-version=2'
        """
        parts = urlsplit(self.base_url)
        return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + path))

    @property
    def public_url(self) -> str:
        """The base URL without what may hold a secret (user:password@, query, fragment).

        >>> Endpoint("https://me:sk-1@api.example.com:8443/v1?key=sk-2#x", "m").public_url
        'https://api.example.com:8443/v1'
        """
        parts = urlsplit(self.base_url)
        host = parts.hostname or ""
        if ":" in host:  # an IPv6 address
            host = f"[{host}]"
        netloc = host + (f":{parts.port}" if parts.port else "") if parts.netloc else ""
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass
class Context:
    """What a kind's run function gets besides its system and rows: the stage, and for an LLM
    judge the endpoint, the answer cache's folder, the conversations (Stage 1) and the progress
    flag."""

    stage: str
    endpoint: Endpoint | None = None
    cache_dir: Path | None = None
    conversations: Sequence[Mapping[str, Any]] = ()
    show_progress: bool = True


@dataclass
class Outcome:
    """What a run produced: prediction rows, raw answers (LLM judges), the metadata `run`
    record, and the failed requests (a run with any writes no submission)."""

    predictions: list[dict[str, Any]]
    record: dict[str, Any]
    raw: list[dict[str, Any]] | None = None
    failures: list[str] = field(default_factory=list)


def pairing_rows(
    decisions: np.ndarray, scores: np.ndarray, rows: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The rows of a pairing predictions file: each pair's decision and its score."""
    return [
        {"pair_id": row["pair_id"], "relevant": bool(decision), "score": round(float(score), 6)}
        for row, decision, score in zip(rows, decisions, scores, strict=True)
    ]
