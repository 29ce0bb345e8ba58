"""A report as JSON, CSV, an HTML page and a PDF (WeasyPrint) with a title page and the charts."""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Callable
from typing import Any

from django.template.loader import render_to_string
from django.utils import translation

from siaga.reports import charts


def to_json(report: dict[str, Any]) -> bytes:
    return json.dumps(report, ensure_ascii=False, indent=2, sort_keys=False).encode("utf-8")


def _flatten(prefix: str, value: Any, rows: list[tuple[str, str]]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), inner, rows)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _flatten(f"{prefix}[{index}]", inner, rows)
    else:
        rows.append((prefix, "" if value is None else str(value)))


def to_csv(report: dict[str, Any]) -> bytes:
    """Every number of the report as ``key,value`` lines (keys like ``calls.by_outcome.prank``)."""
    rows: list[tuple[str, str]] = []
    _flatten("", report, rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["key", "value"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def context(report: dict[str, Any], language: str = "id") -> dict[str, Any]:
    images = {name: _data_uri(png) for name, png in charts.all_charts(report, language).items()}
    answer = report["answer"]
    return {"r": report, "charts": images,
            "meets_15": answer["within_15s"] is not None and answer["within_15s"] >= answer["target_15s"],
            "meets_20": answer["within_20s"] is not None and answer["within_20s"] >= answer["target_20s"]}


def to_html(report: dict[str, Any], language: str = "id", for_pdf: bool = False) -> str:
    with translation.override(language):
        return render_to_string("reports/report.html", {**context(report, language), "for_pdf": for_pdf})


def to_pdf(report: dict[str, Any], progress: Callable[[str], None] | None = None) -> bytes:
    try:
        from weasyprint import HTML
    except OSError as exc:  # Pango missing on this machine
        raise RuntimeError(f"PDF needs the Pango library (apt install libpango-1.0-0): {exc}") from exc
    if progress:
        progress("charts")
    html = to_html(report, "id", for_pdf=True)
    if progress:
        progress("pdf")
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


FORMATS: dict[str, tuple[str, Callable[[dict[str, Any]], bytes]]] = {
    "json": ("application/json", to_json),
    "csv": ("text/csv; charset=utf-8", to_csv),
    "pdf": ("application/pdf", to_pdf),
}
