"""`recenter run`: run a real system over the benchmark and write a submission folder.

Systems are data (`systems/*.yaml`), prompt templates are data (`prompts/`), and each job has
one module. `recenter run` passes through them in this order, entering each once
(tests/test_run_flow.py):

- `arguments`: the CLI's flags;  `command`: the command, which calls each step in turn;
- `systems`: a system file -> a checked `System` (its template read with it);
- `kinds`: the registry of runner kinds (`@register_kind`: fields, extra, run function);
- `destination`: the --out folder, checked before anything runs;
- (the dataset: `recenter_bench.review.dataset.load_reference`);
- `runner`: one system over one stage's rows; it calls the system's kind:
  - `retrieval`: BM25 (`lexical`) and embedding (`embed`) scores, decided by `rules` (fit on
    train, chosen on validation); `trained`: prompt-blind, gradient-boosting and cross-encoder
    kinds, and grouped-CV selection;
  - `judge`: rows -> requests (Stages 1, 2 and 3), then the answers from `cache` (content
    addressed) or `llm` (an OpenAI-compatible endpoint: concurrency, retries, progress), then
    `parse`: decisions out of answers;
- `output`: the submission folder written, the scores printed.

`records` holds what the steps hand on (`System`, `Endpoint`, `Context`, `Outcome`).

Heavy libraries (aiohttp, bm25s, scikit-learn, sentence-transformers) are imported only by the
system that needs them; they come with the `run` and `embed` extras.
"""
