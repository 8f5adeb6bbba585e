"""The data room: the authors' export files -> validated rows -> a Hub-ready dataset folder.

One module per job, in the order data flows:

- `release`: read the annotation-tool export layout, checking every field used.
- `annotations`: the annotators' exports -> judgments under stable pseudonyms.
- `rows`: rows of the four configs, split, with content-derived IDs (`ids`).
- `wildchat`: join WildChat text in by `conversation_hash` (`--wildchat`).
- `schemas`: the JSON Schemas of `dataset_card/schemas/` -> validation and `datasets` features.
- `agreement`: inter-annotator agreement for the card (the metric's figures, plus Fleiss' kappa).
- `card`: the dataset card and `eval.yaml` from `dataset_card/`; `static_card_text()`.
- `build`: `build_dataset(release, out, wildchat=None, expect_paper_counts=False)`.
- `load`: `load(config, split, source)` (with `datasets`), `load_rows(config, source)` (the
  Parquet files read with pyarrow), `dataset_revision(source)`.
- `push`: `push_dataset(folder, repo_id)`; `cli`: the `recenter build` / `push` handlers.

Imported as `recenter_bench.loaders`: pyproject.toml's `[tool.setuptools.package-dir]`
maps this folder, `loaders/`, into the one import package, so the module
`recenter_bench.loaders.x` is the file `loaders/x.py`.
"""
