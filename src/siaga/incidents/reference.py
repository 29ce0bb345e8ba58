"""Default incident categories (with their default priority and agencies)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from siaga.core.models import Agency
from siaga.incidents.models import Category

if TYPE_CHECKING:
    from siaga.core.reference import LoadReport

DATA = Path(__file__).resolve().parent / "data"


def load_categories(report: LoadReport, reset: bool = False) -> None:
    from siaga.core.reference import ReferenceDataError

    agencies = {a.code: a for a in Agency.objects.all()}
    for order, item in enumerate(json.loads((DATA / "categories.json").read_text(encoding="utf-8"))):
        defaults = {"name": item["name"], "name_en": item["name_en"], "default_priority": item["priority"],
                    "sort_order": order}
        if reset:
            category, created = Category.objects.update_or_create(code=item["code"], defaults=defaults)
        else:
            category, created = Category.objects.get_or_create(code=item["code"], defaults=defaults)
        if created or reset:
            missing = [code for code in item["agencies"] if code not in agencies]
            if missing:
                raise ReferenceDataError(f"category {item['code']} names unknown agencies {missing}")
            category.default_agencies.set([agencies[code] for code in item["agencies"]])
        report.count("category", created)
