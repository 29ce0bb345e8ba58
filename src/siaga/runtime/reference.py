"""All of Kota Cilegon's reference data in one transaction: each app's own part, in dependency order."""

from __future__ import annotations

from django.db import transaction

from siaga.core import audit
from siaga.core.reference import (
    LoadReport,
    ReferenceDataError,
    load_agencies,
    load_evacuation,
    load_groups,
    load_regions,
)
from siaga.core.roles import Principal
from siaga.incidents.reference import load_categories
from siaga.shifts.reference import load_shift_definitions

__all__ = ["ReferenceDataError", "load_all"]


@transaction.atomic
def load_all(reset: bool = False) -> LoadReport:
    report = LoadReport()
    load_regions(report)
    load_agencies(report, reset=reset)
    load_categories(report, reset=reset)
    load_evacuation(report)
    load_shift_definitions(report)
    load_groups(report)
    audit.record(Principal.system("system:load-reference"), "reference.load", object_type="reference",
                 object_id="cilegon", after=report.as_dict())
    return report
