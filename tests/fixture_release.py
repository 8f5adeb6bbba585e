"""A small release in the authors' export layout, made by the project (all text invented).

It has what the preview lacks: final per-annotator exports of all three stages
(`data/annotations/<annotator>_task{4,5,6}.jsonl`) by three annotators whose file names look like
real identifiers (a first name, a Prolific ID, a last name), so tests can check pseudonymisation,
majorities, agreement and per-annotator metrics. Votes are drawn from a seeded generator with
deliberate disagreement; the published Stage-2 majority (`ground_truth`) is derived from them.

Deliberate corner cases:
- annotator "Ingeborg" skips one Stage-1 item (that item's attributes have 2 judgments) and saves
  one Stage-1 item twice (the tool appends; the last line counts);
- one Stage-2 item (`UNJUDGED_ITEM`) is judged by nobody: its pairs carry only the published
  majority, and one of them has `ground_truth: null`, so it is left out of `pairing`;
- one Stage-3 export line shows the personalized response as "A" (`personalized_position`), so
  its ratings are mirrored (r -> 6 - r) by the loader;
- one WildChat user's hash list in the index repeats a hash, and the index has users that are
  not in the release.

`make_fixture_release(root)` writes it and returns `root`; `make_fixture_dataset(root)` also
builds it (into `root/dataset`); `expected_votes(root)` re-reads the raw export files
(independently of `loaders`) for tests that check the majorities.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from pathlib import Path
from typing import Any

# Personal-looking annotator file names that must never reach the built dataset.
ANNOTATOR_NAMES = ("Ingeborg", "5f9c1e2a7b3d4e6f8a0b1c2d", "Okonkwo")
GENERATORS = ("gpt-5.4", "claude-sonnet-4-6")


def _wildchat_user(n: int) -> str:
    return hashlib.sha256(f"fixture-wildchat-user-{n}".encode()).hexdigest()


def _hash(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


# user_id -> (source, attributes). The WildChat users are chosen so that `split_of_user` puts
# them in every split (0 -> validation, 1 and 3 -> train, 6 -> test); so are the synthetic ones.
USERS: dict[str, tuple[str, list[str]]] = {
    _wildchat_user(0): (
        "wildchat",
        [
            "The user keeps bees on a city rooftop.",
            "The user writes poems about tram lines.",
            "The user prefers answers in bullet points.",
            "The user is learning to bake sourdough bread.",
        ],
    ),
    _wildchat_user(1): (
        "wildchat",
        [
            "The user repairs vintage radios as a hobby.",
            "The user studies marine geology at university.",
            "The user avoids spicy food.",
            "The user plans a cycling trip across the Alps.",
            "The user likes detailed step-by-step explanations.",
        ],
    ),
    _wildchat_user(3): (
        "wildchat",
        [
            "The user runs a small board-game cafe.",
            "The user is vegetarian.",
            "The user writes fantasy stories set in deserts.",
        ],
    ),
    _wildchat_user(6): (
        "wildchat",
        [
            "The user teaches chemistry to teenagers.",
            "The user collects antique maps.",
            "The user prefers short and direct replies.",
            "The user is training for a half marathon.",
        ],
    ),
    "31+glassblower": (
        "cupid",
        [
            "The user blows glass ornaments in a home studio.",
            "The user sells crafts at weekend markets.",
            "The user wants eco-friendly packaging ideas.",
        ],
    ),
    "23": (
        "prefeval",
        [
            "The user dislikes crowded tourist places.",
            "The user is allergic to peanuts.",
            "The user enjoys jazz piano.",
        ],
    ),
    "104": (
        "personalens",
        [
            "The user manages a community garden.",
            "The user reads science fiction on the train.",
            "The user is saving money for a first home.",
        ],
    ),
}

# LIMA prompt indices (train 2 and 5, test 34, validation 40, plus the unjudged 12) -> text.
PROMPTS = {
    2: "How can I make a weekend plan that feels restful?",
    5: "What should I pack for a three-day hiking trip?",
    12: "How do I start keeping a daily journal?",
    34: "Can you explain how tides work?",
    40: "What is a good way to learn a new recipe quickly?",
}
# Stage-2 items as (prompt index, user), in item order; every user is a WildChat one, named here
# by its number. STAGE3 lists the Stage-2 items that also get responses to rate (in an order of
# its own, which fixes the seeded ratings).
STAGE2 = [
    (prompt_index, _wildchat_user(n))
    for prompt_index, users in {2: (0, 1, 3), 5: (1, 6), 34: (0, 3), 40: (1, 6), 12: (3,)}.items()
    for n in users
]
UNJUDGED_ITEM = (12, _wildchat_user(3))
STAGE3 = [
    (prompt_index, _wildchat_user(n))
    for prompt_index, n in ((2, 0), (34, 0), (2, 1), (5, 6), (34, 3), (40, 1))
]


def _write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def _merged(attribute: str, n: int) -> dict[str, Any]:
    confidence = round(0.5 + (n % 5) / 10, 4)
    return {
        "attribute": attribute,
        "original_attributes": [attribute],
        "reason": f"Stated in conversation {n % 3}.",
        "original_reasons": [f"Stated in conversation {n % 3}."],
        "confidence": confidence,
        "original_confidences": [confidence],
    }


def _conversation(user_id: str, n: int) -> dict[str, Any]:
    return {
        "hashed_ip": user_id,
        "conversation_hash": f"{user_id}_{n}",
        "conversation": [
            {"role": "user", "content": f"Invented question number {n} from {user_id}."},
            {"role": "assistant", "content": f"Invented answer number {n}."},
            {"role": "user", "content": "Thanks, one more detail please."},
            {"role": "assistant", "content": "Here is one more invented detail."},
        ],
        "assistant_like_confidence": 0.1,
    }


def _wildchat_hashes(user_id: str) -> list[str]:
    return [_hash(f"{user_id}-conversation-{n}") for n in range(3)]


def _vote_stage1(rng: random.Random, annotator: int, sound: bool) -> str:
    # A latent "sound attribute" drives the votes; each annotator adds their own noise and
    # strictness, so majorities and kappas are neither perfect nor random.
    if sound:
        weights = [(0.8, 0.15, 0.05), (0.6, 0.3, 0.1), (0.7, 0.1, 0.2)][annotator]
    else:
        weights = [(0.25, 0.35, 0.4), (0.1, 0.4, 0.5), (0.2, 0.2, 0.6)][annotator]
    return rng.choices(["ok", "unsure", "bad"], weights=weights)[0]


def make_fixture_release(root: Path) -> Path:
    """Write the fixture release under `root` (created if needed) and return `root`."""
    root = Path(root)
    data = root / "data"
    rng = random.Random(20260606)
    users = sorted(USERS)

    # Stage 1 items, evidence cache and the WildChat index.
    task4 = []
    for item_index, user_id in enumerate(users):
        source, attributes = USERS[user_id]
        record: dict[str, Any] = {
            "user_id": user_id,
            "source": source,
            "merged_attributes": [_merged(a, i) for i, a in enumerate(attributes)],
            "conversations": []
            if source == "wildchat"
            else [_conversation(user_id, n) for n in range(2)],
            "item_index": item_index,
        }
        task4.append(record)
    _write_jsonl(data / "extracted" / "task4_items.jsonl", task4)

    evidence = []
    for user_id in [_wildchat_user(0), _wildchat_user(1), "31+glassblower", "104"]:
        source, attributes = USERS[user_id]
        entries = [
            {"conv_idx": i % 2, "turn_idxs": [0, 2] if i % 2 else [0]}
            for i in range(len(attributes))
        ]
        entries[-1] = {"conv_idx": -1, "turn_idxs": []}  # no supporting conversation found
        evidence.append(
            {
                "cache_key": f"{source}:{user_id}",
                "user_id": user_id,
                "source": source,
                "evidence": entries,
            }
        )
    # A user that is not in this release: the cache covers more users than the items.
    evidence.append(
        {"cache_key": "cupid:99+nobody", "user_id": "99+nobody", "source": "cupid", "evidence": []}
    )
    _write_jsonl(data / "attr_evidence_cache.jsonl", evidence)

    (data / "indexes").mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(data / "indexes" / "convs_index.db") as db:
        db.execute(
            "CREATE TABLE convs_index (id INTEGER PRIMARY KEY AUTOINCREMENT, hashed_ip TEXT NOT "
            "NULL, conversation_hash TEXT, byte_offset INTEGER NOT NULL)"
        )
        rows = [(_wildchat_user(99), json.dumps([_hash("elsewhere")]), 0)]
        for user_id in users:
            if USERS[user_id][0] == "wildchat":
                hashes = _wildchat_hashes(user_id)
                if user_id == _wildchat_user(0):
                    hashes.append(hashes[0])  # the real index repeats some hashes
                rows.append((user_id, json.dumps(hashes), len(rows) * 1000))
        db.executemany(
            "INSERT INTO convs_index (hashed_ip, conversation_hash, byte_offset) VALUES (?, ?, ?)",
            rows,
        )
    db.close()

    # Stage-1 exports: Ingeborg skips the last item and saves item 0 twice.
    exports: dict[str, dict[str, list[dict[str, Any]]]] = {n: {} for n in ANNOTATOR_NAMES}
    sound = {
        (r["user_id"], m["attribute"]): rng.random() < 0.65
        for r in task4
        for m in r["merged_attributes"]
    }
    for a, name in enumerate(ANNOTATOR_NAMES):
        lines = []
        for record in task4:
            if a == 0 and record["item_index"] == len(task4) - 1:
                continue
            judgments = [
                {
                    "judgment": _vote_stage1(rng, a, sound[(record["user_id"], m["attribute"])]),
                    "note": "",
                }
                for m in record["merged_attributes"]
            ]
            lines.append(
                {
                    "task": "4",
                    "index": record["item_index"],
                    "annotator": name,
                    "attr_judgments": judgments,
                    "missing_attrs": "",
                    "overall_note": "",
                    "flagged": False,
                }
            )
        if a == 0:
            first = dict(lines[0])
            first["attr_judgments"] = [{"judgment": "bad", "note": "first try"}] * len(
                first["attr_judgments"]
            )
            lines.insert(0, first)  # an earlier save of item 0, superseded by the later line
        exports[name]["task4"] = lines

    # Stage 2 items, per-annotator votes and the published majority.
    task5, votes = [], {}
    for item_index, (prompt_index, user_id) in enumerate(STAGE2):
        attributes = USERS[user_id][1]
        task5.append(
            {
                "prompt_index": prompt_index,
                "user_id": user_id,
                "profile_attributes": [_merged(a, i) for i, a in enumerate(attributes)],
                "prompt_text": PROMPTS[prompt_index],
                "items": [{"attribute": attributes[0], "expected_behavior": "x", "relevance": 0.5}],
                "item_index": item_index,
            }
        )
        for i, attribute in enumerate(attributes):
            # About one attribute in three is relevant; each annotator flips the latent answer
            # now and then (the last one more often, and more towards "relevant").
            relevant = (i + prompt_index) % 3 == 0 or rng.random() < 0.1
            votes[(user_id, prompt_index, attribute)] = [
                relevant != (rng.random() < flip) if relevant else rng.random() < flip
                for flip in (0.1, 0.15, 0.3)
            ]
    _write_jsonl(data / "extracted" / "task5_items.jsonl", task5)
    for a, name in enumerate(ANNOTATOR_NAMES):
        exports[name]["task5"] = [
            {
                "task": "5",
                "index": item["item_index"],
                "annotator": name,
                "user_id": item["user_id"],
                "prompt_index": item["prompt_index"],
                "relevance_judgments": [
                    {
                        "attribute": p["attribute"],
                        "relevant": votes[(item["user_id"], item["prompt_index"], p["attribute"])][
                            a
                        ],
                    }
                    for p in item["profile_attributes"]
                ],
                "note": "",
                "flagged": False,
            }
            for item in task5
            if (item["prompt_index"], item["user_id"]) != UNJUDGED_ITEM
        ]

    def majority(key: tuple[str, int, str]) -> bool | None:
        if (key[1], key[0]) == UNJUDGED_ITEM:
            # Nobody's votes are exported for this item; the authors published a majority for
            # all pairs but the first, which has none.
            first = USERS[key[0]][1][0]
            return None if key[2] == first else sum(votes[key]) >= 2
        return sum(votes[key]) >= 2

    for model in GENERATORS:
        _write_jsonl(
            data / "task6" / f"eval_results_task5_gt_attributes_{model}.jsonl",
            [
                {
                    "user_id": item["user_id"],
                    "prompt_id": f"{item['user_id']}_{item['prompt_index']}",
                    "prompt_text": item["prompt_text"],
                    "profile_attributes": [
                        {
                            **p,
                            "ground_truth": majority(
                                (item["user_id"], item["prompt_index"], p["attribute"])
                            ),
                        }
                        for p in item["profile_attributes"]
                    ],
                    "items": item["items"],
                    "mode": "gt_attributes",
                    "model": model,
                    "response": f"Invented {model} response.",
                }
                for item in task5
            ],
        )

    # Stage 3 items and ratings (1 = prefer generic ... 5 = prefer personalized).
    task6 = []
    for prompt_index, user_id in STAGE3:
        for model in GENERATORS:
            task6.append(
                {
                    "model_tag": model,
                    "user_id": user_id,
                    "prompt_id": f"{user_id}_{prompt_index}",
                    "prompt_text": PROMPTS[prompt_index],
                    "attributes": [
                        {
                            "attribute": attribute,
                            "is_relevant": bool(majority((user_id, prompt_index, attribute))),
                        }
                        for attribute in USERS[user_id][1]
                    ],
                    "response_no_context": f"A generic invented answer by {model}.",
                    "response_personalized": f"A personalized invented answer by {model}.",
                    "item_index": len(task6),
                }
            )
    _write_jsonl(data / "extracted" / "task6_items.jsonl", task6)
    quality = {
        (item["item_index"], x["attribute"]): rng.randint(1, 5)
        for item in task6
        for x in item["attributes"]
    }
    for a, name in enumerate(ANNOTATOR_NAMES):
        lines = []
        for queue, item in enumerate(task6):
            relevant = [x["attribute"] for x in item["attributes"] if x["is_relevant"]]
            if not relevant:
                continue
            # Each annotator sees the latent quality with noise and a personal bias (-1, 0, +1).
            ratings = {
                x: max(
                    1, min(5, quality[(item["item_index"], x)] + rng.choice((-1, 0, 0, 1)) + a - 1)
                )
                for x in relevant
            }
            line = {
                "task": "6",
                "index": queue,
                "item_index": item["item_index"],
                "prompt_id": item["prompt_id"],
                "user_id": item["user_id"],
                "model_tag": item["model_tag"],
                "ratings": ratings,
                "note": "",
                "flagged": False,
            }
            if a == 2 and queue == 0:
                # This annotator saw the personalized response on the left: the export's
                # ratings are on the A/B scale and must be mirrored.
                line["personalized_position"] = "A"
                line["ratings"] = {x: 6 - r for x, r in ratings.items()}
            lines.append(line)
        exports[name]["task6"] = lines

    for name, tasks in exports.items():
        for task, lines in tasks.items():
            _write_jsonl(data / "annotations" / f"{name}_{task}.jsonl", lines)
    # The pilot folder exists in real releases and must be ignored.
    _write_jsonl(
        data / "annotations_v0" / "Pilotname_task1.jsonl",
        [{"task": "1", "index": 0, "attr_judgments": [{"judgment": "ok", "note": ""}]}],
    )
    (root / "README.md").write_text("Fixture release made by recenter-bench tests.\n")
    return root


def expected_votes(root: Path) -> dict[str, dict[tuple, list]]:
    """Re-read the raw exports: stage -> unit -> list of (annotator file name, value).

    Independent of `loaders`: it applies the documented rules itself (last line per item wins,
    Stage-1 ok/unsure/bad, Stage-3 mirroring of personalized-as-A lines).
    """
    data = Path(root) / "data"

    def read(path: Path) -> list[dict[str, Any]]:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    task4 = {r["item_index"]: r for r in read(data / "extracted" / "task4_items.jsonl")}
    task6 = {r["item_index"]: r for r in read(data / "extracted" / "task6_items.jsonl")}
    labels = {"ok": "accepted", "unsure": "uncertain", "bad": "rejected"}
    out: dict[str, dict[tuple, list]] = {"extraction": {}, "pairing": {}, "response_quality": {}}
    for name in ANNOTATOR_NAMES:
        last = {r["index"]: r for r in read(data / "annotations" / f"{name}_task4.jsonl")}
        for index, line in last.items():
            item = task4[index]
            for attr, j in zip(item["merged_attributes"], line["attr_judgments"], strict=True):
                key = (item["user_id"], attr["attribute"])
                out["extraction"].setdefault(key, []).append((name, labels[j["judgment"]]))
        for line in read(data / "annotations" / f"{name}_task5.jsonl"):
            for j in line["relevance_judgments"]:
                key = (line["user_id"], line["prompt_index"], j["attribute"])
                out["pairing"].setdefault(key, []).append((name, j["relevant"]))
        for line in read(data / "annotations" / f"{name}_task6.jsonl"):
            item = task6[line["item_index"]]
            prompt_index = int(item["prompt_id"].rsplit("_", 1)[1])
            for attribute, rating in line["ratings"].items():
                value = 6 - rating if line.get("personalized_position") == "A" else rating
                key = (item["user_id"], prompt_index, item["model_tag"], attribute)
                out["response_quality"].setdefault(key, []).append((name, value))
    return out


def make_fixture_dataset(root: Path) -> Path:
    """Write the fixture release to `root/release`, build it into `root/dataset`; return the latter.

    For tests of the metric, submissions and leaderboard that need a dataset with per-annotator
    labels in all three stages.
    """
    from recenter_bench.loaders.build import build_dataset

    root = Path(root)
    out = root / "dataset"
    build_dataset(make_fixture_release(root / "release"), out)
    return out


def read_only_index(path: Path) -> sqlite3.Connection:
    """The release's SQLite index opened as the loader opens it: nothing is written beside it
    (a plain connect to a WAL-mode database creates `-wal` and `-shm` files in the release)."""
    return sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro&immutable=1", uri=True)
