"""Where `recenter run` writes, checked before anything runs: the row the `--out` folder names
(`out_identity`), and whether the folder can be created, and replaced without losing anything
recenter did not write (`check_out_writable`).

A step of its own, between resolving the system (its display name may name the row) and reading
the dataset, so a long run never ends on a folder it cannot write; `run.output` writes there.
"""

from __future__ import annotations

import os
from pathlib import Path

from recenter_bench.atomic import refuse_foreign
from recenter_bench.errors import UserError
from recenter_bench.review import folder_name, identity_of, slug
from recenter_bench.review.files import allowed_files


def out_identity(
    out: Path, org: str | None, model: str | None, system_name: str | None = None
) -> tuple[str, str]:
    """(org, model display name) of a submission to be written to `out`, by one rule for every
    kind of system: the `<org>__<model>` parts of the folder name name the row; `--org` and
    `--display-name` (`org`, `model`) set them explicitly and must make that folder name; a
    system file's `display_name` (`system_name`, e.g. "BM25") is used when it makes the
    folder's `<model>` part, which is used as it is otherwise."""
    org_model, _ = identity_of(out)
    if "__" not in org_model and not (org and model):
        raise UserError(f"--out: {out}: expected a folder <org>__<model>/<run>")
    folder_org, _, folder_model = org_model.partition("__")
    if model is None and system_name and slug(system_name) == folder_model:
        model = system_name
    org, model = org or folder_org, model or folder_model
    if folder_name(org, model) != org_model:
        raise UserError(
            f"--out: {out}: org {org!r} and model {model!r} make the folder "
            f"{folder_name(org, model)}/<run>; rename --out or change --org / --display-name"
        )
    return org, model


def check_out_writable(out: Path) -> None:
    """Refuse, before a long run, an --out whose folder could not be created (the nearest
    existing folder above it must be a writable folder) or must not be replaced (it holds
    more than a submission's files; `write_submission` checks again before it replaces)."""
    refuse_foreign(out, allowed_files(), "--out")
    above = Path(out).absolute().parent
    while not above.exists() and above != above.parent:
        above = above.parent
    if not above.is_dir() or not os.access(above, os.W_OK | os.X_OK):
        raise UserError(f"--out: {out}: cannot be created ({above} is not a writable folder)")
