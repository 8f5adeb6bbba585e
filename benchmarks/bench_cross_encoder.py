"""Training cost of the shipped `minilm-cross-encoder` system on this CPU, measured on a slice.

Trains the system's exact configuration (max length 256, batch 16, one thread, deterministic
kernels) for `--steps` optimizer steps on the first train rows of the preview build and prints
the wall and CPU seconds per step and their extrapolation to one epoch of the train split
(3,019 pairs = 189 steps). CPU seconds are what the row costs on an idle core; wall seconds
show the load of a shared machine. The peer is the same model's forward pass alone (scoring),
timed in the same run. Not a test: `python benchmarks/bench_cross_encoder.py [--steps N]`.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--system", default="minilm-cross-encoder")
    args = parser.parse_args()

    from recenter_bench.review import load_reference
    from recenter_bench.run.runner import stage_rows
    from recenter_bench.run.systems import load_system
    from recenter_bench.run.trained import CrossEncoderLearner, CrossEncoderSettings

    reference = load_reference(None)
    rows, splits = stage_rows(reference, "pairing", ["train"])
    settings = CrossEncoderSettings.of(load_system(args.system))
    n = args.steps * settings.batch_size
    settings.epochs, settings.max_train_rows = 1, n
    learner = CrossEncoderLearner(rows, settings)
    labels = np.array([r["relevant"] for r in rows])
    cpu, wall = time.process_time(), time.perf_counter()
    fitted = learner.fit(np.arange(len(rows)), labels)
    train_cpu, train_wall = time.process_time() - cpu, learner.epoch_seconds[0]
    cpu, wall = time.process_time(), time.perf_counter()
    fitted.score("epoch 1", range(n))
    score_cpu, score_wall = time.process_time() - cpu, time.perf_counter() - wall
    steps_per_epoch = math.ceil(len(rows) / settings.batch_size)
    print(f"{args.system}: {args.steps} steps of {settings.batch_size} pairs, max length "
          f"{settings.max_length}, 1 thread")  # fmt: skip
    print(f"  training: {train_wall / args.steps:.2f} s wall/step, {train_cpu / args.steps:.2f} "
          f"s CPU/step (CPU includes loading the model)")  # fmt: skip
    print(f"  one epoch of train ({len(rows):,} pairs, {steps_per_epoch} steps): "
          f"{train_wall / args.steps * steps_per_epoch / 60:.1f} min wall, "
          f"{train_cpu / args.steps * steps_per_epoch / 60:.1f} min CPU")  # fmt: skip
    print(f"  peer, scoring the same {n} pairs (forward only): {score_wall:.1f} s wall, "
          f"{score_cpu:.1f} s CPU; training/scoring wall ratio "
          f"{train_wall / max(score_wall, 1e-9):.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
