"""Report charts as PNG images (matplotlib, no display needed)."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

COLOURS = {"normal": "#2e7d32", "information": "#1565c0", "ghost": "#8e24aa", "prank": "#c62828",
           "abandoned": "#9e9e9e", "test": "#bdbdbd", "untagged": "#fbc02d"}
LABELS = {"id": {"normal": "Normal", "information": "Informasi", "ghost": "Ghost", "prank": "Prank",
                 "abandoned": "Tak terjawab", "test": "Uji coba", "untagged": "Belum ditandai",
                 "hour": "Jam (WIB)", "calls": "Panggilan", "by_hour": "Panggilan per jam",
                 "outcomes": "Panggilan menurut penandaan", "trend": "Tren prank dan ghost",
                 "response": "Waktu tanggap instansi (median, menit)", "minutes": "menit"},
          "en": {"normal": "Normal", "information": "Information", "ghost": "Ghost", "prank": "Prank",
                 "abandoned": "Abandoned", "test": "Test", "untagged": "Untagged", "hour": "Hour (WIB)",
                 "calls": "Calls", "by_hour": "Calls by hour", "outcomes": "Calls by tag",
                 "trend": "Prank and ghost trend", "response": "Agency response time (median, minutes)",
                 "minutes": "minutes"}}


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()


def by_hour(report: dict[str, Any], language: str = "id") -> bytes:
    text = LABELS[language]
    figure, axes = plt.subplots(figsize=(7.5, 3.0))
    axes.bar(range(24), report["calls"]["by_hour"], color="#b71c1c")
    axes.set_xticks(range(0, 24, 2))
    axes.set_xlabel(text["hour"])
    axes.set_ylabel(text["calls"])
    axes.set_title(text["by_hour"])
    return _png(figure)


def outcomes(report: dict[str, Any], language: str = "id") -> bytes:
    text = LABELS[language]
    items = [(k, v) for k, v in report["calls"]["by_outcome"].items() if v]
    figure, axes = plt.subplots(figsize=(7.5, 2.8))
    if items:
        names = [text.get(k, k) for k, _ in items]
        axes.barh(names, [v for _, v in items], color=[COLOURS.get(k, "#607d8b") for k, _ in items])
        axes.invert_yaxis()
    axes.set_title(text["outcomes"])
    return _png(figure)


def trend(report: dict[str, Any], language: str = "id") -> bytes:
    text = LABELS[language]
    rows = report["nuisance"]["trend"]
    figure, axes = plt.subplots(figsize=(7.5, 2.8))
    xs = list(range(len(rows)))
    axes.plot(xs, [r["prank"] for r in rows], color=COLOURS["prank"], label=text["prank"], marker="o", markersize=3)
    axes.plot(xs, [r["ghost"] for r in rows], color=COLOURS["ghost"], label=text["ghost"], marker="o", markersize=3)
    step = max(1, len(rows) // 8)
    axes.set_xticks(xs[::step])
    axes.set_xticklabels([r["bucket"][-5:] for r in rows][::step], fontsize=8)
    axes.legend(fontsize=8)
    axes.set_title(text["trend"])
    return _png(figure)


def response(report: dict[str, Any], language: str = "id") -> bytes:
    text = LABELS[language]
    items = [(code, row["median_seconds"] / 60) for code, row in report["agency_response"].items()
             if row["median_seconds"] is not None]
    figure, axes = plt.subplots(figsize=(7.5, 2.8))
    if items:
        axes.bar([c for c, _ in items], [v for _, v in items], color="#1565c0")
    axes.set_ylabel(text["minutes"])
    axes.set_title(text["response"])
    return _png(figure)


CHARTS = {"by_hour": by_hour, "outcomes": outcomes, "trend": trend, "response": response}


def all_charts(report: dict[str, Any], language: str = "id") -> dict[str, bytes]:
    return {name: draw(report, language) for name, draw in CHARTS.items()}
