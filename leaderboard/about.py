"""The About tab: the dataset card and the metric card, rendered from their own files (never a
second copy of their text), with the citation taken from them."""

from __future__ import annotations

import re

import gradio as gr

from recenter_bench.paths import METRIC_DIR


def strip_front_matter(text: str) -> str:
    """Markdown without its leading YAML front matter block (Hub metadata, not for readers)."""
    match = re.match(r"\A---\s*\n.*?\n---\s*(\n|\Z)", text, flags=re.DOTALL)
    return text[match.end() :] if match else text


def about_texts() -> tuple[str, str, str]:
    """(dataset card, metric card, citation) read from their owners, or a plain notice."""
    try:
        # Imported inside the guard: loaders needs the datasets library, which a Space may lack.
        from recenter_bench.loaders.card import static_card_text

        dataset_card = strip_front_matter(static_card_text())
    except Exception as error:  # the Space must start even if the card cannot be rendered
        dataset_card = f"*The dataset card is not available in this installation ({error}).*"
    metric_readme = METRIC_DIR / "README.md"
    if metric_readme.is_file():
        metric_card = strip_front_matter(metric_readme.read_text(encoding="utf-8"))
    else:
        metric_card = f"*The metric card ({metric_readme.name}) is not available.*"
    match = re.search(r"```(?:bibtex|bib)\s*\n(.*?)```", dataset_card + metric_card, re.DOTALL)
    citation = match.group(1).strip() if match else "(no citation found in the cards)"
    return dataset_card, metric_card, citation


def about_tab() -> None:
    """The tab's contents: the citation first (what a reader copies), then the two cards."""
    dataset_card, metric_card, citation = about_texts()
    gr.Code(citation, language=None, label="Citation", interactive=False)
    with gr.Accordion("Dataset card", open=True):
        gr.Markdown(dataset_card)
    with gr.Accordion("Metric card", open=False):
        gr.Markdown(metric_card)
