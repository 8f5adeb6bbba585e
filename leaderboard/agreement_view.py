"""The Agreement tab: Cohen's kappa between every re-scored Stage-2 system and the human
majority (the paper's Figure 3, live: it grows with every re-scored submission), as a heatmap
and a table, on one split."""

from __future__ import annotations

import json
from typing import Any

import gradio as gr
import pandas as pd
from gradio.components.plot import PlotData

from recenter_bench.leaderboard import table as tables
from recenter_bench.leaderboard.data import LeaderboardData
from recenter_bench.leaderboard.plots import agreement_heatmap
from recenter_bench.leaderboard.ranking import agreement

STAGE = "pairing"


def agreement_view(data: LeaderboardData, split: str) -> tuple[Any, pd.DataFrame, str]:
    """(heatmap, kappa table with one column per rater, note) of a split."""
    ranking = data.ranking(STAGE, split or "test")
    if ranking is None:
        why = data.labels_problem or "no re-scored Stage-2 system covers this split's labels"
        return None, pd.DataFrame(), f"No agreement matrix on {split}: {why}."
    kappas = agreement(ranking, data.names)
    wide = kappas.pivot(index="rater_a", columns="rater_b", values="kappa")
    order = list(dict.fromkeys(kappas["rater_a"]))
    wide = wide.loc[order, order].round(3).reset_index().rename(columns={"rater_a": "κ"})
    plot = PlotData(type="altair", plot=json.dumps(agreement_heatmap(kappas, split)))
    note = (
        f"{len(ranking.ids)} re-scored systems and the human majority on {len(ranking.rows)} "
        f"labelled pairs of {split}. κ = 1: same answers; 0: chance agreement; n/a (empty in "
        "the table): undefined, for a rater that gives the same answer on every pair."
    )
    return plot, wide, note


def agreement_tab(data: LeaderboardData, tab: gr.Tab) -> None:
    """The tab's controls; filled when the tab is opened or the split changes."""
    split = gr.Radio(
        [s for s in tables.SPLITS],
        value="test",
        label="Split (Stage 2 pairs)",
        elem_id="agreement-split",
    )
    note = gr.Markdown(elem_classes="caption")
    plot = gr.Plot(show_label=False, elem_id="agreement-plot")
    table = gr.Dataframe(
        interactive=False, label="Cohen's κ", elem_id="agreement-table", latex_delimiters=[]
    )
    gr.on(
        [tab.select, split.change],
        lambda chosen: agreement_view(data, chosen),
        inputs=split,
        outputs=[plot, table, note],
        api_name="agreement",
        concurrency_limit=2,
    )
