"""`recenter import-votes`: the authors' published LLM relevance votes -> a submission folder.

The paper's own judges are then scored by the same path as every other system (validated by
`check_files`, scored by the metric). The vote files are in the layout of the release's
`data/relevance_task5/<model>.jsonl`: one line per (user, prompt) with
`items[{attribute, relevant, raw_answer, full_output}]`. The repository commits exactly two such
folders, GPT-5.4's and Gemma-4-31B's (`submissions/<org>__<model>/authors-votes/`), credited in
their metadata as the authors' predictions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from recenter_bench import BENCHMARK_VERSION
from recenter_bench.errors import UserError, where
from recenter_bench.metric.recenter_personalization import STAGE_RECORDS
from recenter_bench.review import Reference, Results, identity_of, load_reference
from recenter_bench.run.output import write_submission

VOTES_GLOB = "data/relevance_task5/*.jsonl"
# The one stage whose LLM votes the paper published; the vote files are in its layout.
VOTES_STAGE = "pairing"
PaperPair = tuple[str, int, str]  # (user_id, prompt_index, attribute)


def read_votes(path: Path) -> dict[PaperPair, bool]:
    """Every vote of one vote file, keyed by (user_id, prompt_index, attribute).

    A malformed line, a missing field, a non-boolean `relevant` or a pair voted twice is a
    `UserError` naming the file, line and field.
    """
    from recenter_bench.loaders.release import need, need_objects, read_jsonl

    votes: dict[PaperPair, bool] = {}
    first_line: dict[PaperPair, int] = {}
    for line, record in read_jsonl(Path(path)):
        user_id = need(record, "user_id", "str", path, line)
        prompt_index = need(record, "prompt_index", "int", path, line)
        for prefix, item in need_objects(record, "items", path, line):
            attribute = need(item, "attribute", "str", path, line, prefix)
            relevant = need(item, "relevant", "bool", path, line, prefix)
            key = (user_id, prompt_index, attribute)
            if key in votes:
                raise UserError(
                    f"{where(path, line, prefix + 'attribute')}: pair voted twice "
                    f"(first at line {first_line[key]})"
                )
            votes[key], first_line[key] = relevant, line
    if not votes:
        raise UserError(f"{path}: no votes in the file")
    return votes


def release_pairs(release: Path) -> set[PaperPair]:
    """Every Stage-2 (user, prompt, attribute) of a release, labelled or not."""
    from recenter_bench.loaders.release import TASK5_ITEMS, read_stage2

    return {
        (item.user_id, item.prompt_index, attribute.attribute)
        for item in read_stage2(Path(release) / TASK5_ITEMS)
        for attribute in item.attributes
    }


def vote_predictions(
    votes: Mapping[PaperPair, bool],
    pairs_in_release: set[PaperPair],
    pair_ids_in_dataset: set[str],
    votes_path: Path,
) -> tuple[list[dict[str, Any]], int]:
    """pairing.jsonl rows (sorted by pair_id) and how many votes were dropped because the
    dataset leaves their pair out (no human label). A vote on a pair that is not in the release
    at all is a `UserError`: the file does not belong to this release."""
    from recenter_bench.loaders.ids import pair_id

    unknown = sorted(set(votes) - pairs_in_release)
    if unknown:
        user, prompt, attribute = unknown[0]
        raise UserError(
            f"{votes_path}: {len(unknown)} vote(s) on pairs that are not in the release's "
            f"Stage-2 items, e.g. user {user[:12]}..., prompt {prompt}, {attribute[:40]!r}"
        )
    rows, dropped = [], 0
    record = STAGE_RECORDS[VOTES_STAGE]
    for (user, prompt, attribute), relevant in votes.items():
        key = pair_id(user, prompt, attribute)
        if key in pair_ids_in_dataset:
            rows.append({record.id_field: key, record.prediction_field: relevant})
        else:
            dropped += 1
    return sorted(rows, key=lambda row: row[record.id_field]), dropped


def built_reference(release: Path) -> tuple[Reference, Any]:
    """Build the dataset of a release into a temporary folder and load it as a `Reference`
    (rows and revision), with the builder's summary. Nothing is left on disk."""
    from recenter_bench.loaders.build import build_dataset

    with tempfile.TemporaryDirectory(prefix="recenter-build-") as tmp:
        summary = build_dataset(Path(release), Path(tmp) / "dataset")
        reference = load_reference(Path(tmp) / "dataset")
    return reference, summary


def _org_of(out: Path, org: str | None) -> str:
    if org:
        return org
    org_model, _ = identity_of(out)
    if "__" not in org_model:
        raise UserError(f"--out: {out}: expected a folder <org>__<model>/<run> (or pass --org)")
    return org_model.split("__", 1)[0]


def _refuse_existing(out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise UserError(f"--out: {out}: already exists; remove it or choose another run folder")


def import_votes(
    votes_path: Path,
    release: Path,
    model: str,
    out: Path,
    org: str | None = None,
    link: str = "",
    open_weights: bool | None = None,
    reference: Reference | None = None,
) -> Results:
    """Turn one vote file into the submission folder `out`; returns its results.json.

    `reference` is the dataset built from `release` (built here when None). The folder must not
    exist: an existing submission is never overwritten.
    """
    votes_path, out = Path(votes_path), Path(out)
    _refuse_existing(out)
    org = _org_of(out, org)
    votes = read_votes(votes_path)
    if reference is None:
        reference, _ = built_reference(release)
    id_field = STAGE_RECORDS[VOTES_STAGE].id_field
    dataset_ids = {row[id_field] for rows in reference.rows[VOTES_STAGE].values() for row in rows}
    predictions, dropped = vote_predictions(votes, release_pairs(release), dataset_ids, votes_path)
    description = (
        f"Zero-shot relevance votes of {model} published by the paper's authors (Zhang, Liu and "
        f"August 2026, arXiv 2606.06614; {votes_path.name}: {len(votes):,} votes): the authors' "
        "predictions, re-scored here, imported with `recenter import-votes`. "
        "`relevant` is the authors' parse of the judge's YES/NO answer, as in the file"
        + (
            f"; {dropped} vote(s) on pairs the dataset leaves out (no human label) were dropped."
            if dropped
            else "."
        )
    )
    metadata = {
        "model": model,
        "org": org,
        "link": link,
        "type": "zero-shot LLM",
        **({} if open_weights is None else {"open_weights": open_weights}),  # None: unknown
        "trained_on": [],
        "stages": [VOTES_STAGE],
        "benchmark_version": BENCHMARK_VERSION,
        "dataset_revision": reference.revision,
        "date": dt.datetime.now(dt.UTC).date().isoformat(),
        "contact": "",
        "description": description,
        "provenance": "rescored",
    }
    _refuse_existing(out)  # again: building the dataset took a while
    return write_submission(out, metadata, {VOTES_STAGE: predictions}, reference)


def import_votes_command(args: argparse.Namespace) -> int:
    """`recenter import-votes --stage pairing --release DIR --model NAME --out DIR VOTES.jsonl`."""
    if args.stage != VOTES_STAGE:  # the parser allows only it; the paper published no others
        raise UserError(f"--stage: {args.stage}: only {VOTES_STAGE} votes are published")
    out = Path(args.out)
    results = import_votes(
        Path(args.votes),
        Path(args.release),
        args.model,
        out,
        org=args.org,
        link=args.link,
        open_weights=args.open_weights,
    )
    scores = results.scores[VOTES_STAGE]
    print(f"wrote {out}")
    for split, metrics in scores.items():
        print(
            f"  {VOTES_STAGE}/{split}: n={metrics['n']:.0f} f1={_fmt(metrics['f1'])} "
            f"accuracy={_fmt(metrics['accuracy'])} yes_rate={_fmt(metrics['yes_rate'])}"
        )
    return 0


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
