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


def names() -> dict[str, dict[str, str]]:
    """What the codes in a report mean, in the active language: call tags, categories, agencies."""
    from django.utils.translation import gettext as _

    from siaga.calls.models import Outcome
    from siaga.core.models import Agency
    from siaga.incidents.models import Category

    outcomes = {o.value: str(o.label) for o in Outcome if o.value}
    outcomes["untagged"] = _("Belum ditandai")
    english = (translation.get_language() or "id").startswith("en")
    categories = {c.code: (c.name_en if english and c.name_en else c.name) for c in Category.objects.all()}
    categories["none"] = _("tanpa kejadian")
    from siaga.sms.models import Purpose

    return {"outcomes": outcomes, "categories": categories,
            "agencies": dict(Agency.objects.values_list("code", "short_name")),
            "sms_purposes": {p.value: str(p.label) for p in Purpose}}


def signer() -> dict[str, str]:
    """Who signs the PDF for the head of office (settings SIAGA_REPORT_SIGNER_*)."""
    from django.conf import settings

    return {"title": settings.REPORT_SIGNER_TITLE, "name": settings.REPORT_SIGNER_NAME,
            "nip": settings.REPORT_SIGNER_NIP, "place": settings.CITY_NAME.removeprefix("Kota ").strip()}


def context(report: dict[str, Any], language: str = "id") -> dict[str, Any]:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from siaga.reports.period import MONTHS_ID

    images = {name: _data_uri(png) for name, png in charts.all_charts(report, language).items()}
    answer = report["answer"]
    made = datetime.fromisoformat(report["generated_at"]).astimezone(ZoneInfo("Asia/Jakarta"))
    return {"r": report, "charts": images, "names": names(), "signer": signer(),
            "generated_wib": f"{made.day} {MONTHS_ID[made.month - 1]} {made.year}, {made:%H.%M} WIB",
            "signed_on": f"{made.day} {MONTHS_ID[made.month - 1]} {made.year}",
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
