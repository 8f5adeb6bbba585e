"""The two figures of the leaderboard, as Vega-Lite specs built from a stage table.

- Stage 2: precision against recall with F1 iso-lines (the paper's Figure 4 point: LLM judges
  over-select, high recall and low precision, while the trained and human rows sit elsewhere).
- Stage 3: mean rating given against Spearman, with the human mean rating marked (the
  paper's Table 6 point: judges flatter personalized responses).

Specs are plain dicts (pure, testable); the Space hands them to `gr.Plot`, whose bundled Vega
renders them in the browser without fetching anything. Model names go in as data, and Vega draws
data as text, so markup in a name stays inert.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from recenter_bench.leaderboard.table import REFERENCE_TYPES

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"  # an identifier, not fetched
F1_ISO_LEVELS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)
KIND_DOMAIN = ["system", "human", "baseline"]
KIND_COLORS = ["#4c78a8", "#e45756", "#9d9d9d"]


def _kind(row: dict[str, Any]) -> str:
    return row["type"] if row["type"] in REFERENCE_TYPES else "system"


def _points(table: pd.DataFrame, x: str, y: str) -> list[dict[str, Any]]:
    points = []
    for row in table.to_dict(orient="records"):
        if any(not isinstance(row[c], int | float) or math.isnan(row[c]) for c in (x, y)):
            continue
        points.append(
            {
                "model": str(row["model"]),
                "kind": _kind(row),
                "type": str(row["type"]),
                "provenance": str(row["provenance"]),
                x: round(float(row[x]), 4),
                y: round(float(row[y]), 4),
            }
        )
    return points


def f1_iso_lines(levels: tuple[float, ...] = F1_ISO_LEVELS, steps: int = 60) -> list[dict]:
    """Points (recall, precision) where F1 = level: precision = f * r / (2r - f), r > f / 2."""
    points = []
    for level in levels:
        start = level / 2 + 1e-3
        for i in range(steps + 1):
            recall = start + (1 - start) * i / steps
            precision = level * recall / (2 * recall - level)
            if precision <= 1:
                points.append({"recall": recall, "precision": precision, "f1": f"F1 = {level}"})
    return points


def _point_layer(points: list[dict], x: str, y: str, x_title: str, y_title: str, x_domain=None):
    x_scale = {"domain": x_domain} if x_domain else {"zero": False}
    return {
        "data": {"values": points},
        "mark": {"type": "point", "filled": True, "size": 90, "opacity": 0.85},
        "encoding": {
            "x": {"field": x, "type": "quantitative", "title": x_title, "scale": x_scale},
            "y": {"field": y, "type": "quantitative", "title": y_title},
            "color": {
                "field": "kind",
                "type": "nominal",
                "title": "kind of row",
                "scale": {"domain": KIND_DOMAIN, "range": KIND_COLORS},
            },
            "shape": {"field": "kind", "type": "nominal", "scale": {"domain": KIND_DOMAIN}},
            "tooltip": [
                {"field": "model", "type": "nominal"},
                {"field": "type", "type": "nominal"},
                {"field": "provenance", "type": "nominal"},
                {"field": x, "type": "quantitative", "format": ".3f"},
                {"field": y, "type": "quantitative", "format": ".3f"},
            ],
        },
    }


def pairing_plot(table: pd.DataFrame, split: str) -> dict[str, Any]:
    """Stage 2: precision (y) against recall (x) of every row of a pairing table."""
    points = _points(table, "recall", "precision")
    iso = f1_iso_lines()
    labels = [
        {"recall": 0.98, "precision": level * 0.98 / (2 * 0.98 - level), "f1": f"F1 = {level}"}
        for level in F1_ISO_LEVELS
    ]
    humans = [p for p in points if p["kind"] == "human"]
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": {
            "text": f"Stage 2 on {split}: precision against recall (dashed: F1 iso-lines)",
            "subtitle": (
                "human rows: each annotator against the majority of the others"
                if humans
                else "no human row with precision and recall on this split"
            ),
        },
        "width": 720,
        "height": 380,
        "layer": [
            {
                "data": {"values": iso},
                "mark": {"type": "line", "strokeDash": [4, 4], "color": "#bbbbbb"},
                "encoding": {
                    "x": {"field": "recall", "type": "quantitative", "scale": {"domain": [0, 1]}},
                    "y": {
                        "field": "precision",
                        "type": "quantitative",
                        "scale": {"domain": [0, 1]},
                    },
                    "detail": {"field": "f1", "type": "nominal"},
                },
            },
            {
                "data": {"values": labels},
                "mark": {"type": "text", "align": "right", "dy": -6, "color": "#888888"},
                "encoding": {
                    "x": {"field": "recall", "type": "quantitative"},
                    "y": {"field": "precision", "type": "quantitative"},
                    "text": {"field": "f1", "type": "nominal"},
                },
            },
            _point_layer(points, "recall", "precision", "recall", "precision", [0, 1]),
        ],
    }


def _first_finite(values: Any) -> float | None:
    for value in values:
        if isinstance(value, int | float) and not math.isnan(value):
            return float(value)
    return None


def human_lines(table: pd.DataFrame) -> dict[str, float]:
    """The human marks of the Stage 3 plot, read from the table (never recomputed): the human
    mean rating (the `human_mean_rating` CI wrote, else the human row's own mean rating) and the
    human inter-annotator Spearman."""
    humans = table[table["type"] == "human"]
    lines = {}
    mean = _first_finite(table["human_mean_rating"]) or _first_finite(humans["mean_rating"])
    if mean is not None:
        lines["human mean rating"] = mean
    agreement = _first_finite(humans["inter_annotator_spearman"])
    if agreement is not None:
        lines["human inter-annotator Spearman"] = agreement
    return lines


def response_plot(table: pd.DataFrame, split: str) -> dict[str, Any]:
    """Stage 3: Spearman with the mean human rating (y) against the judge's mean rating (x).

    A dashed vertical line marks the human mean rating, so a judge's inflation is its distance to
    the right of it (x is the mean rating CI wrote, which every row has, while reported rows
    carry no inflation field); a dashed horizontal line marks how well humans agree.
    """
    points = _points(table, "mean_rating", "spearman")
    lines = human_lines(table)
    layers: list[dict[str, Any]] = []
    if "human mean rating" in lines:
        layers.append(
            {
                "data": {"values": [{"mean_rating": lines["human mean rating"]}]},
                "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#e45756"},
                "encoding": {"x": {"field": "mean_rating", "type": "quantitative"}},
            }
        )
    if "human inter-annotator Spearman" in lines:
        layers.append(
            {
                "data": {"values": [{"spearman": lines["human inter-annotator Spearman"]}]},
                "mark": {"type": "rule", "strokeDash": [2, 4], "color": "#e45756"},
                "encoding": {"y": {"field": "spearman", "type": "quantitative"}},
            }
        )
    layers.append(
        _point_layer(
            points,
            "mean_rating",
            "spearman",
            "mean rating given (1 = prefer generic, 5 = prefer personalized)",
            "Spearman with mean human rating",
        )
    )
    marks = "; ".join(f"{name} {value:.3f}" for name, value in lines.items())
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": {
            "text": f"Stage 3 on {split}: how much judges flatter personalization",
            "subtitle": f"dashed red: {marks}" if marks else "no human rows on this split",
        },
        "width": 720,
        "height": 380,
        "layer": layers,
    }
