"""The two figures of the leaderboard, as Vega-Lite specs built from a stage table.

- Stage 2: precision against recall with F1 iso-lines (the paper's Figure 4 point: LLM judges
  over-select, high recall and low precision, while the trained and human rows sit elsewhere).
- Stage 3: mean rating given against Spearman, with the human mean rating marked (the
  paper's Table 6 point: judges flatter personalized responses).

Also: the Overview's one chart per stage (each ranked system's headline with its 95% interval,
the human and no-skill references as lines), the agreement heatmap (Cohen's kappa between
systems and the human majority, the paper's Figure 3) and a system's per-prompt (or per-user)
scores. Every point carries its name as a tooltip, and as a label when the plot holds few
enough points to read; the submission being viewed is drawn larger and outlined.

Specs are plain dicts (pure, testable); the Space hands them to `gr.Plot`, whose bundled Vega
renders them in the browser without fetching anything. Model names go in as data, and Vega draws
data as text, so markup in a name stays inert.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pandas as pd

from recenter_bench.leaderboard.columns import HEADLINE, metric_label
from recenter_bench.leaderboard.table import REFERENCE_TYPES
from recenter_bench.metric.recenter_personalization.recenter_personalization import (
    RATING,
    STAGE_RECORDS,
    stage_record,
)

VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"  # an identifier, not fetched
F1_ISO_LEVELS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)
KIND_DOMAIN = ["system", "human", "baseline"]
KIND_COLORS = ["#4c78a8", "#e45756", "#9d9d9d"]
# Above this many points, names are tooltips only (labels would overlap into noise).
MAX_LABELLED_POINTS = 25
HIGHLIGHT_COLOR = "#f58518"
# Drawn as SVG rather than on a canvas (vega-embed reads `usermeta.embedOptions`), so every text
# is an element whose box the browser test can measure.
SVG: dict[str, Any] = {"embedOptions": {"renderer": "svg"}}


def _kind(row: dict[str, Any]) -> str:
    return row["type"] if row["type"] in REFERENCE_TYPES else "system"


def _points(
    table: pd.DataFrame, x: str, y: str, highlight: str | None = None
) -> list[dict[str, Any]]:
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
                "viewed": bool(highlight) and row.get("submission") == highlight,
                x: round(float(row[x]), 4),
                y: round(float(row[y]), 4),
            }
        )
    return points


# The plot area of the two stage scatter plots, in pixels: labels are placed in this space.
PLOT_WIDTH, PLOT_HEIGHT = 720, 380
LABEL_SIZE = 10
# Per-character advance at font size 10, generous for the wide sans-serif fonts browsers pick
# (DejaVu Sans on Linux), so an estimated box holds the drawn one.
_NARROW = frozenset("iljtfr.,:;'!|()[] ")
# Candidate places of a label around its point: (dx, dy, align), first free one wins.
_LABEL_PLACES: tuple[tuple[int, int, str], ...] = (
    (8, 0, "left"),
    (-8, 0, "right"),
    (6, -11, "left"),
    (6, 11, "left"),
    (-6, -11, "right"),
    (-6, 11, "right"),
    (0, -14, "center"),
    (0, 14, "center"),
)
Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels, y down


def text_width(text: str, size: float = LABEL_SIZE) -> float:
    """A generous estimate of the drawn width of `text` in pixels at font `size`."""
    units = sum(3.8 if c in _NARROW else 7.6 if c.isupper() or c in "mwMW%@" else 6.3 for c in text)
    return units * size / 10


def text_box(x: float, y: float, text: str, align: str, baseline: str, size: float) -> Box:
    """The box of a text drawn at pixel (x, y) with Vega's `align` and `baseline`."""
    width, height = text_width(text, size), size * 1.25
    left = {"left": x, "right": x - width, "center": x - width / 2}[align]
    top = {"top": y, "middle": y - height / 2, "bottom": y - height}.get(baseline, y - size)
    return (left - 1, top - 1, left + width + 1, top + height + 1)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


class PixelScale:
    """Data -> pixels of a plot area with explicit linear domains (as the spec declares)."""

    def __init__(self, x_domain: tuple[float, float], y_domain: tuple[float, float]) -> None:
        self.x_domain, self.y_domain = x_domain, y_domain

    def x(self, value: float) -> float:
        low, high = self.x_domain
        return (value - low) / (high - low) * PLOT_WIDTH

    def y(self, value: float) -> float:
        low, high = self.y_domain
        return PLOT_HEIGHT - (value - low) / (high - low) * PLOT_HEIGHT

    def data_x(self, pixel: float) -> float:
        low, high = self.x_domain
        return low + pixel / PLOT_WIDTH * (high - low)

    def data_y(self, pixel: float) -> float:
        low, high = self.y_domain
        return low + (PLOT_HEIGHT - pixel) / PLOT_HEIGHT * (high - low)


def place_labels(
    points: list[dict], x: str, y: str, scale: PixelScale, taken: list[Box]
) -> list[dict[str, Any]]:
    """Each labelled point's name at the first of `_LABEL_PLACES` where its box stays inside
    the plot and overlaps no other label, no fixed text in `taken` and no other point; a name
    with no free place is left out (the point's tooltip still has it). The viewed point is
    placed first, and may cover other points. Returns rows with the label's data position
    ("lx", "ly") and "align"."""
    few = len(points) <= MAX_LABELLED_POINTS
    labelled = sorted((p for p in points if few or p["viewed"]), key=lambda p: not p["viewed"])
    dots = [(scale.x(p[x]), scale.y(p[y])) for p in points]
    boxes = list(taken)
    placed = []
    for point in labelled:
        px, py = scale.x(point[x]), scale.y(point[y])
        for dx, dy, align in _LABEL_PLACES:
            box = text_box(px + dx, py + dy, point["model"], align, "middle", LABEL_SIZE)
            inside = box[0] >= 0 and box[2] <= PLOT_WIDTH and box[1] >= 0 and box[3] <= PLOT_HEIGHT
            # The viewed point's name may cover other points, never other text.
            covers = not point["viewed"] and any(
                _overlaps(box, (cx - 5, cy - 5, cx + 5, cy + 5))
                for cx, cy in dots
                if (cx, cy) != (px, py)
            )
            if inside and not covers and not any(_overlaps(box, b) for b in boxes):
                boxes.append(box)
                placed.append(
                    {
                        **point,
                        "lx": scale.data_x(px + dx),
                        "ly": scale.data_y(py + dy),
                        "align": align,
                    }
                )
                break
    return placed


def _label_layer(
    points: list[dict], x: str, y: str, scale: PixelScale, taken: list[Box]
) -> list[dict[str, Any]]:
    """Names next to the points, placed so that no two texts overlap (`place_labels`): all of
    them when few, else only the viewed one; one layer per text alignment (no layer without
    data: Vega warns about an empty extent)."""
    placed = place_labels(points, x, y, scale, taken)
    layers = []
    for align in ("left", "right", "center"):
        values = [p for p in placed if p["align"] == align]
        if not values:
            continue
        layers.append(
            {
                "data": {"values": values},
                "mark": {
                    "type": "text",
                    "align": align,
                    "baseline": "middle",
                    "fontSize": LABEL_SIZE,
                },
                "encoding": {
                    "x": {"field": "lx", "type": "quantitative", "scale": _scale(scale.x_domain)},
                    "y": {"field": "ly", "type": "quantitative", "scale": _scale(scale.y_domain)},
                    "text": {"field": "model", "type": "nominal"},
                    "color": {
                        "condition": {"test": "datum.viewed", "value": HIGHLIGHT_COLOR},
                        "value": "#555555",
                    },
                },
            }
        )
    return layers


def _scale(domain: tuple[float, float]) -> dict[str, Any]:
    """An explicit linear scale, so pixels can be computed here (label placement)."""
    return {"domain": list(domain), "nice": False, "zero": False}


def _highlight_layer(points: list[dict], x: str, y: str, scale: PixelScale) -> list[dict[str, Any]]:
    """A ring around the submission being viewed (none when no point is viewed)."""
    viewed = [p for p in points if p["viewed"]]
    if not viewed:
        return []
    return [
        {
            "data": {"values": viewed},
            "mark": {"type": "point", "size": 420, "strokeWidth": 3, "color": HIGHLIGHT_COLOR},
            "encoding": {
                "x": {"field": x, "type": "quantitative", "scale": _scale(scale.x_domain)},
                "y": {"field": y, "type": "quantitative", "scale": _scale(scale.y_domain)},
                "tooltip": [{"field": "model", "type": "nominal", "title": "viewed"}],
            },
        }
    ]


def _rule(field: str, value: float, name: str, color: str, dash: list[int]) -> list[dict]:
    """A labelled reference line at `field` = value (x for "x:", y for "y:")."""
    axis, column = field.split(":")
    other = "y" if axis == "x" else "x"
    encoding = {axis: {"field": column, "type": "quantitative"}}
    text_encoding = {
        **encoding,
        "text": {"field": "name", "type": "nominal"},
        other: {"value": 8 if axis == "x" else 0},
    }
    data = {"values": [{column: value, "name": f"{name} {value:.3f}"}]}
    return [
        {
            "data": data,
            "mark": {"type": "rule", "strokeDash": dash, "color": color},
            "encoding": {**encoding, "tooltip": [{"field": "name", "type": "nominal"}]},
        },
        {
            "data": data,
            "mark": {
                "type": "text",
                "color": color,
                "align": "left",
                "baseline": "top",
                "dx": 4,
                "dy": 2,
                "fontSize": 10,
            },
            "encoding": text_encoding,
        },
    ]


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


def _point_layer(
    points: list[dict], x: str, y: str, x_title: str, y_title: str, scale: PixelScale
) -> dict[str, Any]:
    return {
        "data": {"values": points},
        "mark": {"type": "point", "filled": True, "size": 90, "opacity": 0.85},
        "encoding": {
            "x": {
                "field": x,
                "type": "quantitative",
                "title": x_title,
                "scale": _scale(scale.x_domain),
            },
            "y": {
                "field": y,
                "type": "quantitative",
                "title": y_title,
                "scale": _scale(scale.y_domain),
            },
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


def pairing_plot(table: pd.DataFrame, split: str, highlight: str | None = None) -> dict[str, Any]:
    """Stage 2: precision (y) against recall (x) of every row of a pairing table, with the
    no-skill precision (the human YES-rate: what answering at random earns) drawn as a line."""
    points = _points(table, "recall", "precision", highlight)
    base_rate = _first_finite(table["human_yes_rate"]) if "human_yes_rate" in table else None
    no_skill = (
        _rule("y:precision", base_rate, "no-skill precision (human YES-rate)", "#9d9d9d", [2, 2])
        if base_rate is not None
        else []
    )
    iso = f1_iso_lines()
    labels = [
        {"recall": 0.98, "precision": level * 0.98 / (2 * 0.98 - level), "f1": f"F1 = {level}"}
        for level in F1_ISO_LEVELS
    ]
    humans = [p for p in points if p["kind"] == "human"]
    scale = PixelScale((0.0, 1.0), (0.0, 1.0))
    # The fixed texts the point labels must keep clear of: the iso-line labels and the
    # no-skill line's label (Vega's default font size 11 and baseline "alphabetic").
    taken = [
        text_box(scale.x(v["recall"]), scale.y(v["precision"]) - 6, v["f1"], "right", "", 11)
        for v in labels
    ]
    if base_rate is not None:
        name = f"no-skill precision (human YES-rate) {base_rate:.3f}"
        taken.append(text_box(4, scale.y(base_rate) + 2, name, "left", "top", 10))
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
        "width": PLOT_WIDTH,
        "height": PLOT_HEIGHT,
        "layer": [
            {
                "data": {"values": iso},
                "mark": {"type": "line", "strokeDash": [4, 4], "color": "#bbbbbb"},
                "encoding": {
                    "x": {"field": "recall", "type": "quantitative", "scale": _scale((0, 1))},
                    "y": {"field": "precision", "type": "quantitative", "scale": _scale((0, 1))},
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
            *no_skill,
            *(
                [_point_layer(points, "recall", "precision", "recall", "precision", scale)]
                if points
                else []
            ),
            *_highlight_layer(points, "recall", "precision", scale),
            *_label_layer(points, "recall", "precision", scale, taken),
        ],
        "usermeta": SVG,
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


def response_plot(table: pd.DataFrame, split: str, highlight: str | None = None) -> dict[str, Any]:
    """Stage 3: Spearman with the mean human rating (y) against the judge's mean rating (x).

    A dashed vertical line marks the human mean rating, so a judge's inflation is its distance to
    the right of it (x is the mean rating CI wrote, which every row has, while reported rows
    carry no inflation field); a dashed horizontal line marks how well humans agree.
    """
    points = _points(table, "mean_rating", "spearman", highlight)
    lines = human_lines(table)
    scale = PixelScale(
        _domain([p["mean_rating"] for p in points] + [lines.get("human mean rating")], 0.25),
        _domain([p["spearman"] for p in points] + [lines.get("human inter-annotator Spearman")]),
    )
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
    if points:
        layers.append(
            _point_layer(
                points,
                "mean_rating",
                "spearman",
                "mean rating given (1 = prefer generic, 5 = prefer personalized)",
                "Spearman with mean human rating",
                scale,
            )
        )
    layers += [
        *_highlight_layer(points, "mean_rating", "spearman", scale),
        *_label_layer(points, "mean_rating", "spearman", scale, []),
    ]
    if not layers:  # nothing on this split: say so rather than hand Vega an empty chart
        layers.append(
            {
                "data": {"values": [{"note": "no row with a mean rating and a Spearman here"}]},
                "mark": {"type": "text", "fontSize": 13, "color": "#888888"},
                "encoding": {"text": {"field": "note", "type": "nominal"}},
            }
        )
    marks = "; ".join(f"{name} {value:.3f}" for name, value in lines.items())
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": {
            "text": f"Stage 3 on {split}: how much judges flatter personalization",
            "subtitle": f"dashed red: {marks}" if marks else "no human rows on this split",
        },
        "width": PLOT_WIDTH,
        "height": PLOT_HEIGHT,
        "layer": layers,
        "usermeta": SVG,
    }


def _domain(values: list[float | None], step: float = 0.1) -> tuple[float, float]:
    """A linear domain holding every value, widened to multiples of `step` with a margin."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return (0.0, 1.0)
    low = math.floor(min(finite) / step - 0.5) * step
    high = math.ceil(max(finite) / step + 0.5) * step
    return (round(low, 6), round(high, 6))


def reference_marks(table: pd.DataFrame, stage: str) -> dict[str, float]:
    """The lines a stage's headline is read against, from the table (never recomputed): the
    human reference (the human row's headline, else for ratings the human inter-annotator
    Spearman) and the no-skill line (the best no-skill baseline's headline)."""
    headline = HEADLINE[stage]
    marks = {}
    humans = table[table["type"] == "human"]
    human = _first_finite(humans[headline]) if headline in humans else None
    if human is not None:
        marks["human"] = human
    elif stage_record(stage).kind == RATING and "inter_annotator_spearman" in humans:
        agreement = _first_finite(humans["inter_annotator_spearman"])
        if agreement is not None:
            marks["human inter-annotator Spearman"] = agreement
    baselines = table[table["type"] == "baseline"][headline].dropna()
    if not baselines.empty:
        marks["no-skill"] = float(baselines.max())
    marks.update(prompt_blind_mark(table, headline))
    return marks


# The mark's name says what it means where it is shown (the Stage-2 chart and "Who leads").
PROMPT_BLIND_MARK = "prompt-blind (ignores the prompt)"


def prompt_blind_mark(table: pd.DataFrame, headline: str) -> dict[str, float]:
    """The best prompt-blind row's headline (a system that never reads the prompt: what a
    trained row scores from attribute and user overlap alone), if the table has one."""
    blind = table[table["submission"].isin(table.attrs.get("prompt_blind", []))][headline]
    blind = blind.dropna()
    return {PROMPT_BLIND_MARK: float(blind.max())} if not blind.empty else {}


def leaders_plot(
    table: pd.DataFrame, stage: str, split: str, title: str, top: int = 12
) -> dict[str, Any]:
    """The Overview's chart of a stage: the `top` ranked systems' headline with its 95% interval
    (re-scored rows), best first, and the human and no-skill references as vertical lines."""
    headline = HEADLINE[stage]
    ranked = table[table["rank"].notna()].head(top)
    points = []
    for row in ranked.to_dict(orient="records"):
        low, high = row.get(f"{headline}_ci_low"), row.get(f"{headline}_ci_high")
        has_ci = all(isinstance(v, float) and not math.isnan(v) for v in (low, high))
        points.append(
            {
                "model": str(row["model"]),
                "rank": int(row["rank"]),
                "score": round(float(row[headline]), 4),
                "low": round(float(low), 4) if has_ci else None,
                "high": round(float(high), 4) if has_ci else None,
                "interval": row.get("rank_interval") or "",
                "provenance": str(row["provenance"]),
            }
        )
    marks = reference_marks(table, stage)
    y = {"field": "model", "type": "nominal", "sort": [p["model"] for p in points], "title": None}
    x_title = f"{metric_label(headline)} on {split}"
    with_ci = [p for p in points if p["low"] is not None]
    # No layer without data: Vega warns about the empty extent.
    bars = {
        "data": {"values": with_ci},
        "mark": {"type": "rule", "color": "#4c78a8"},
        "encoding": {
            "y": y,
            "x": {"field": "low", "type": "quantitative", "title": x_title},
            "x2": {"field": "high"},
        },
    }
    layers: list[dict[str, Any]] = [
        *([bars] if with_ci else []),
        {
            "data": {"values": points},
            "mark": {"type": "point", "filled": True, "size": 80, "color": "#4c78a8"},
            "encoding": {
                "y": y,
                "x": {"field": "score", "type": "quantitative", "title": x_title},
                "tooltip": [
                    {"field": "model", "type": "nominal"},
                    {"field": "rank", "type": "quantitative"},
                    {"field": "interval", "type": "nominal", "title": "rank 95% interval"},
                    {"field": "score", "type": "quantitative", "format": ".3f"},
                    {"field": "low", "type": "quantitative", "format": ".3f"},
                    {"field": "high", "type": "quantitative", "format": ".3f"},
                    {"field": "provenance", "type": "nominal"},
                ],
            },
        },
    ]
    for name, value in marks.items():
        color = "#e45756" if name.startswith("human") else "#9d9d9d"
        # The line only (its name is in the subtitle and tooltip): a text label would widen a
        # chart that shares a row with two others.
        layers += _rule("x:score", value, name, color, [4, 4])[:1]
    lines = [
        f"{'red' if name.startswith('human') else 'grey'}: {name} {value:.3f}"
        for name, value in marks.items()
    ]
    subtitle = ["dot: score; bar: 95% bootstrap interval", *lines]
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": {"text": title, "subtitle": subtitle},
        # Three of these sit side by side on the Overview: narrow, with names cut at 130 px
        # (the tooltip has the whole name).
        "width": 190,
        "height": {"step": 22},
        "config": {"axisY": {"labelLimit": 130}},
        "layer": layers,
        "usermeta": SVG,
    }


def agreement_heatmap(kappas: pd.DataFrame, split: str) -> dict[str, Any]:
    """Cohen's kappa between every two raters (long table rater_a, rater_b, kappa)."""
    values = [
        {
            "a": str(r["rater_a"]),
            "b": str(r["rater_b"]),
            "kappa": None if math.isnan(r["kappa"]) else round(float(r["kappa"]), 3),
            # Undefined where a rater gives one answer throughout (always-yes, always-no).
            "text": "n/a" if math.isnan(r["kappa"]) else f"{r['kappa']:.2f}",
        }
        for r in kappas.to_dict(orient="records")
    ]
    order = list(dict.fromkeys(v["a"] for v in values))
    encoding = {
        "x": {"field": "b", "type": "nominal", "sort": order, "title": None},
        "y": {"field": "a", "type": "nominal", "sort": order, "title": None},
    }
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": {
            "text": f"Stage 2 on {split}: Cohen's κ between systems and the human majority",
            "subtitle": "as the paper's Figure 3; grows with every re-scored submission",
        },
        "data": {"values": values},
        "width": {"step": 46},
        "height": {"step": 30},
        "layer": [
            {
                "mark": "rect",
                "encoding": {
                    **encoding,
                    "color": {
                        "field": "kappa",
                        "type": "quantitative",
                        "scale": {"scheme": "blueorange", "domain": [-1, 1]},
                        "title": "κ",
                    },
                    "tooltip": [
                        {"field": "a", "type": "nominal"},
                        {"field": "b", "type": "nominal"},
                        {"field": "kappa", "type": "quantitative", "format": ".3f"},
                    ],
                },
            },
            {
                "mark": {"type": "text", "fontSize": 10},
                "encoding": {
                    **encoding,
                    "text": {"field": "text", "type": "nominal"},
                },
            },
        ],
    }


def cluster_plot(scores: pd.DataFrame, stage: str, model: str) -> dict[str, Any]:
    """A system's headline per prompt (Stages 2, 3) or per user (Stage 1), as bars."""
    headline = HEADLINE[stage]
    unit = stage_record(stage).unit
    values = [
        {
            "cluster": str(r["cluster"]),
            "score": None if math.isnan(r[headline]) else round(float(r[headline]), 4),
            "n": int(r["n"]),
        }
        for r in scores.to_dict(orient="records")
    ]
    return {
        "$schema": VEGA_LITE_SCHEMA,
        "title": {
            "text": f"{model}: {metric_label(headline)} per {unit}",
            "subtitle": "empty: undefined on that " + unit,
        },
        "data": {"values": values},
        "width": {"step": 28} if len(values) > 12 else 480,
        "height": 220,
        "usermeta": SVG,
        "mark": "bar",
        "encoding": {
            "x": {"field": "cluster", "type": "nominal", "title": unit, "sort": None},
            "y": {"field": "score", "type": "quantitative", "title": metric_label(headline)},
            "tooltip": [
                {"field": "cluster", "type": "nominal", "title": unit},
                {"field": "score", "type": "quantitative", "format": ".3f"},
                {"field": "n", "type": "quantitative", "title": "rows"},
            ],
        },
    }


# The figure function each `Stage.plot` names: the record says which figure a stage gets.
FIGURES: dict[str, Callable[..., dict[str, Any]]] = {
    "precision-recall": pairing_plot,
    "rating-vs-spearman": response_plot,
}
# Each stage that has a figure, and its figure function.
STAGE_PLOTS: dict[str, Callable[..., dict[str, Any]]] = {
    name: FIGURES[record.plot] for name, record in STAGE_RECORDS.items() if record.plot
}
