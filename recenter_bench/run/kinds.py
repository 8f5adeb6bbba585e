"""The registry of runner kinds (like lm-eval's `@register_model`).

A kind is what a system file's `kind:` names: the fields its files may set, the extra that
installs its libraries, the metadata `type` of its rows, whether it reads labels (is fitted),
and the function that runs it. A kind registers itself where its run function is defined:

    @register_kind("bm25", fields=(...), extra="run", metadata_type="retrieval", fitted=True,
                   summary="BM25 between prompt and attribute")
    def run_retrieval(system, rows, splits, context): ...

`kinds()` imports the modules of the shipped kinds (BUILTIN_MODULES) once, so the registry is
complete wherever it is read; this module itself imports nothing heavy.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from recenter_bench.errors import UserError

# The modules whose import registers the shipped kinds.
BUILTIN_MODULES = (
    "recenter_bench.run.judge",
    "recenter_bench.run.retrieval",
    "recenter_bench.run.trained",
)


@dataclass(frozen=True)
class Kind:
    """One runner kind: what its system files may say and how it runs."""

    name: str
    fields: tuple[str, ...]  # the kind's own fields (every kind also has systems.COMMON_FIELDS)
    extra: str  # `pip install 'recenter-bench[EXTRA]'` installs what it imports
    metadata_type: str  # metadata.yaml's `type` of the rows it makes
    fitted: bool  # reads the labels of train/validation (metadata's `trained_on`)
    summary: str  # one line for `recenter run --help`
    run: Callable[..., Any]  # (system, rows, splits, context) -> records.Outcome
    required: tuple[str, ...] = ()  # of its own fields, those every system file of it sets


_REGISTRY: dict[str, Kind] = {}
_loaded = False


def register_kind(
    name: str,
    *,
    fields: tuple[str, ...],
    extra: str,
    metadata_type: str,
    fitted: bool,
    summary: str,
    required: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated run function as kind `name` (a name registers once)."""

    def decorate(run: Callable[..., Any]) -> Callable[..., Any]:
        if name in _REGISTRY and _REGISTRY[name].run is not run:
            raise ValueError(f"runner kind {name!r} is registered twice")
        _REGISTRY[name] = Kind(
            name, tuple(fields), extra, metadata_type, fitted, summary, run, tuple(required)
        )
        return run

    return decorate


def kinds() -> dict[str, Kind]:
    """Every registered kind by name (the shipped ones are imported on first use)."""
    global _loaded
    if not _loaded:
        _loaded = True
        for module in BUILTIN_MODULES:
            importlib.import_module(module)
    return dict(_REGISTRY)


def get_kind(name: Any, label: str = "kind") -> Kind:
    """The kind `name`; an unknown one is one line naming the known kinds."""
    known = kinds()
    if not isinstance(name, str) or name not in known:
        raise UserError(f"{label}: unknown kind {name!r} (known: {', '.join(sorted(known))})"[:400])
    return known[name]


def _leading_comment(text: str) -> str:
    """The comment block a system file opens with, as one line."""
    block = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        block.append(line.lstrip("#").strip())
    return " ".join(block)


def systems_help(width: int = 100) -> str:
    """The epilog block of `recenter run --help`: every shipped system file (its name, kind,
    the kind's extra, and the comment the file opens with) and every registered kind."""
    import textwrap

    from recenter_bench.review import parse_yaml
    from recenter_bench.run.systems import SYSTEMS_DIR, system_names

    known = kinds()
    lines = ["systems shipped with recenter-bench (recenter_bench/run/systems/*.yaml):"]
    for name in system_names():
        path = SYSTEMS_DIR / f"{name}.yaml"
        text = path.read_text(encoding="utf-8")
        doc, _ = parse_yaml(str(path), text)
        data = doc.data if doc is not None and isinstance(doc.data, dict) else {}
        kind = known.get(data.get("kind"))
        comment = _leading_comment(text) or (kind.summary if kind else "")
        head = f"  {name} [{data.get('kind')}, extra: {kind.extra if kind else '?'}]"
        lines.append(head)
        lines += textwrap.wrap(comment, width, initial_indent=" " * 6, subsequent_indent=" " * 6)
    lines += ["", "runner kinds (a system file's `kind:`; recenter_bench/run/kinds.py):"]
    for name, kind in sorted(known.items()):
        lines += textwrap.wrap(
            f"{name}: {kind.summary} (type {kind.metadata_type!r}, "
            f"{'fitted' if kind.fitted else 'not fitted'}, extra {kind.extra!r})",
            width,
            initial_indent="  ",
            subsequent_indent=" " * 6,
        )
    return "\n".join(lines)
