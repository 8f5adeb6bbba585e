"""`recenter run`: run a real system over the benchmark and write a submission folder.

Systems are data (`systems/*.yaml`), prompt templates are data (`prompts/`), and each job has
one module:

- `kinds`: the registry of runner kinds (`@register_kind`: fields, extra, run function);
- `systems`: system files -> a checked `System`;     `arguments`: the CLI's flags;
- `llm`: requests to an OpenAI-compatible endpoint (concurrency, retries, progress);
- `cache`: the content-addressed answer cache;        `parse`: decisions out of answers;
- `judge`: rows -> requests, answers -> predictions (Stages 1, 2 and 3);
- `lexical`: BM25 with bm25s;  `embed`: sentence embeddings, similarity and the classifier;
- `rules`: decision rules fit on train and chosen on validation;
- `trained`: prompt-blind, gradient-boosting and cross-encoder kinds, and grouped-CV selection;
- `runner`: one system over one stage;  `output`: the submission folder;  `command`: the CLI.

Heavy libraries (aiohttp, bm25s, scikit-learn, sentence-transformers) are imported only by the
system that needs them; they come with the `run` and `embed` extras.
"""
