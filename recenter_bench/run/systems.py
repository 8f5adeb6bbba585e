"""Systems as data: one YAML file per system under `recenter_bench/run/systems/`.

A system file says what runs (`kind`), on which stage, with which model, prompt template and
decoding parameters, how scores become decisions, and which splits any fitting reads (`fit_on`
for parameters, `choose_on` for choices between candidates). A user adds a system by adding a
file (or passing `--system PATH`), or overrides one's fields with flags. Every field is checked
here, before anything runs: an unknown field, a wrong type or a split other than train and
validation is one line naming the file, line and field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from recenter_bench.errors import UserError, where
from recenter_bench.review import STAGES, parse_yaml
from recenter_bench.review.read import decode
from recenter_bench.run.kinds import get_kind
from recenter_bench.run.records import FITTING_SPLITS, System

SYSTEMS_DIR = Path(__file__).resolve().parent / "systems"
PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
LLM_JUDGE = "llm-judge"
# How a fitted system chooses between candidates (and a threshold): on the `choose_on` split, or
# by cross-validation over every non-test row, folds grouped by prompt or by user.
CHOOSE_BY = ("validation", "grouped-cv")
GROUPS = ("prompt", "user")
# bm25s's English stop-word lists (the stemmer is English), and none; bm25s raises on others.
BM25_STOPWORDS = ("none", "en", "english", "en_plus", "english_plus")
MAX_FILE_BYTES = 64 * 1024  # a system file, a prompt template
PROMPT_FLAG = "--prompt"  # the one way to send a template from outside prompts/
_OWN_TEMPLATE = f"give a template of your own with {PROMPT_FLAG} FILE"
# Fields every kind has; a kind's own fields are declared where it registers (run.kinds). `model`
# is a kind's own field: BM25 and the prompt-blind kinds have none (a `--set model=` there would
# be silently ignored).
COMMON_FIELDS = ("kind", "stage", "description", "display_name", "link", "open_weights")


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_list_of_str(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_scalar_map(value: Any) -> bool:
    """Strings, booleans and finite numbers by name (a request body is JSON: no NaN)."""
    return isinstance(value, dict) and all(
        isinstance(k, str)
        and isinstance(v, str | int | float | bool)
        and not (isinstance(v, float) and not math.isfinite(v))
        for k, v in value.items()
    )


def _is_positive_int(value: Any, at_most: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= at_most


def _is_positive_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


# field -> (check, what the check wants); which kinds have which field: run.kinds's registry.
FIELDS: dict[str, tuple[Any, str]] = {
    "kind": (lambda v: True, "a registered kind"),  # checked against the registry
    "stage": (lambda v: v in STAGES, f"one of {', '.join(STAGES)}"),
    "description": (_is_str, "a non-empty string"),
    "model": (_is_str, "a non-empty string"),
    "display_name": (_is_str, "a non-empty string"),
    "link": (lambda v: isinstance(v, str), "a string"),
    "open_weights": (lambda v: isinstance(v, bool), "true or false"),
    "fit_on": (lambda v: v in FITTING_SPLITS, "train or validation"),
    "choose_on": (lambda v: v in FITTING_SPLITS, "train or validation"),
    "prompt": (_is_str, "a template file name under prompts/"),
    "prompt_version": (_is_str, "a non-empty string"),
    "prompt_max_chars": (
        lambda v: v is None or (isinstance(v, int) and not isinstance(v, bool) and v > 0),
        "a positive integer or null",
    ),
    "decoding": (_is_scalar_map, "a mapping of parameter names to values"),
    "position_bias": (
        lambda v: v in ("both-orders",),
        "both-orders (each pair of responses is judged in both orders)",
    ),
    "prefixes": (_is_list_of_str, "a list of strings"),
    "rules": (
        lambda v: _is_list_of_str(v) and v and set(v) <= {"positive", "threshold", "top-share"},
        "a list of positive, threshold, top-share",
    ),
    "stopwords": (
        lambda v: _is_list_of_str(v) and v and set(v) <= set(BM25_STOPWORDS),
        f"a list of {', '.join(BM25_STOPWORDS)}",
    ),
    "directions": (
        lambda v: _is_list_of_str(v) and v and set(v) <= {"prompt->attribute", "attribute->prompt"},
        "a list of prompt->attribute, attribute->prompt",
    ),
    "regularization": (_is_positive_number, "a positive number (scikit-learn's C)"),
    "choose_by": (lambda v: v in CHOOSE_BY, f"one of {', '.join(CHOOSE_BY)}"),
    "groups": (lambda v: v in GROUPS, f"one of {', '.join(GROUPS)} (the unit of a CV fold)"),
    "folds": (lambda v: _is_positive_int(v, 20) and v >= 2, "an integer from 2 to 20"),
    "smoothing": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < 1e6,
        "a number >= 0 (pseudo-counts at the overall relevance rate)",
    ),
    "learning_rate": (_is_positive_number, "a positive number"),
    "max_iter": (lambda v: _is_positive_int(v, 10_000), "an integer from 1 to 10000"),
    "pca_components": (lambda v: _is_positive_int(v, 384), "an integer from 1 to 384"),
    "max_length": (lambda v: _is_positive_int(v, 512), "an integer from 1 to 512"),
    "epochs": (lambda v: _is_positive_int(v, 50), "an integer from 1 to 50"),
    "batch_size": (lambda v: _is_positive_int(v, 1024), "an integer from 1 to 1024"),
    "weight_decay": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < 1,
        "a number from 0 to 1",
    ),
    "warmup": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < 1,
        "a share of the training steps, from 0 to 1",
    ),
    "dropout": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v < 1,
        "a number from 0 to 1",
    ),
    "seed": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an integer"),
    "max_train_rows": (
        lambda v: v is None or _is_positive_int(v, 10**7),
        "a positive integer or null (all rows)",
    ),
}
REQUIRED = ("kind", "stage", "description")


def _read_text(path: Path) -> str:
    """A system or prompt file's text; one larger than MAX_FILE_BYTES is refused before it is
    read whole."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise UserError(f"{path}: cannot be read ({error.strerror})") from None
    if len(data) > MAX_FILE_BYTES:
        raise UserError(f"{path}: larger than {MAX_FILE_BYTES // 1024} KiB")
    text, problems = decode(str(path), data)
    if text is None:
        raise UserError(problems[0])
    return text


def system_names() -> list[str]:
    """The systems shipped with the package."""
    return sorted(p.stem for p in SYSTEMS_DIR.glob("*.yaml"))


def default_system(stage: str) -> str:
    """The system `recenter run STAGE` uses without `--system`: the stage's LLM judge."""
    return f"llm-judge-{stage}"


def system_path(name_or_path: str) -> Path:
    """A shipped system's name, or the path of a system file."""
    if name_or_path in system_names():
        return SYSTEMS_DIR / f"{name_or_path}.yaml"
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    raise UserError(
        f"--system: unknown system {name_or_path!r} (expected a YAML file or one of "
        f"{', '.join(system_names())})"
    )


def load_system(
    name_or_path: str, overrides: Mapping[str, tuple[str, Any]] | None = None
) -> System:
    """Read and check one system file; `overrides` ({field: (the flag that set it, value)})
    replace its fields (a `decoding` override is merged into the file's decoding).

    Every field's value is checked first, then the kind is resolved once in the registry
    (`run.kinds`) and the fields are checked against it: the system is resolved in one pass."""
    path = system_path(name_or_path)
    doc, problems = parse_yaml(str(path), _read_text(path))
    if problems or doc is None:
        raise UserError(problems[0] if problems else f"{path}: empty file")
    if not isinstance(doc.data, dict):
        raise UserError(f"{path}: expected a mapping of fields")
    values = dict(doc.data)
    labels = {key: where(path, doc.line((key,)), key) for key in values}
    for key, value in values.items():
        _check_field(labels[key], key, value)
    for key in REQUIRED:
        if key not in values:
            raise UserError(f"{where(path, None, key)}: missing (every system file needs it)")
    explicit_prompt = False
    for key, (flag, value) in (overrides or {}).items():
        if value is None:
            continue
        explicit_prompt |= key == "prompt" and flag == PROMPT_FLAG
        if key in ("kind", "stage"):
            raise UserError(f"{flag}: what a system is cannot be overridden; use another system")
        if key == "decoding" and isinstance(value, dict):
            value = {**values.get("decoding", {}), **value}
        _check_field(flag, key, value)
        values[key], labels[key] = value, flag
    template = None
    if "prompt" in values:  # read now: a template that may not be sent is refused at once
        template = read_template(str(path), values["prompt"], explicit_prompt)
    spec = get_kind(values["kind"], labels["kind"])
    for key in values:  # loops, not helpers: the registry was the last step entered
        if key not in COMMON_FIELDS and key not in spec.fields:
            raise UserError(f"{labels[key]}: not a field of a {spec.name} system")
    for key in spec.required:
        if key not in values:
            raise UserError(f"{where(path, None, key)}: missing (a {spec.name} system needs it)")
    return System(
        name=path.stem,
        source=str(path),
        kind=values.pop("kind"),
        stage=values.pop("stage"),
        description=values.pop("description"),
        spec=spec,
        fields=values,
        explicit_prompt=explicit_prompt,
        template=template,
    )


def _check_field(label: str, key: str, value: Any) -> None:
    """A known field with a value of the wanted shape (its kind is checked by the caller)."""
    if key not in FIELDS:
        raise UserError(f"{label}: unknown field (expected one of {', '.join(FIELDS)})")
    check, wanted = FIELDS[key]
    if not check(value):
        raise UserError(f"{label}: must be {wanted}, got {value!r}"[:300])


def read_prompt(system: System) -> str:
    """The text of the system's prompt template, read and checked when the file was loaded
    (`read_template`)."""
    if system.template is None:
        raise UserError(f"{system.source}: prompt: missing (an llm-judge system needs one)")
    return system.template


def read_template(source: str, name: str, explicit: bool) -> str:
    """The text of a prompt template: a file under prompts/ named by the system file `source`
    (or `--set prompt=NAME`), or any file given explicitly with `--prompt FILE` (`explicit`).
    A name that resolves outside prompts/ (`../../secret.txt`, an absolute path, a link out) is
    refused: a template's text is sent to the endpoint with every request."""
    path = Path(name) if explicit else shipped_prompt(source, name)
    if not path.is_file():
        hint = "" if explicit else f" under {PROMPTS_DIR}; {_OWN_TEMPLATE}"
        raise UserError(f"{where(source, None, 'prompt')}: no template named {name!r}{hint}")
    return _read_text(path)


def shipped_prompt(source: str, name: str) -> Path:
    """The template `name` under prompts/, refused when it resolves anywhere else."""
    root = PROMPTS_DIR.resolve()
    path = (root / name).resolve()
    if not path.is_relative_to(root):
        raise UserError(
            f"{where(source, None, 'prompt')}: {name!r} is not a template under "
            f"{PROMPTS_DIR}; {_OWN_TEMPLATE}"
        )
    return path
