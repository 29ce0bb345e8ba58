"""The hot-path SQL helpers store and read back exactly what the ORM would, on both databases."""

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction

from siaga.calls.models import Call, CallState
from siaga.core import rawsql

pytestmark = pytest.mark.django_db

AT = datetime(2026, 2, 28, 16, 59, 59, 123456, tzinfo=UTC)


def fields(call: Call) -> dict[str, Any]:
    return {f.attname: getattr(call, f.attname) for f in Call._meta.concrete_fields}


def test_insert_ignores_conflicts_and_locked_rows_read_what_the_orm_reads(pbx: Any) -> None:
    integration = pbx.integration.pk
    rows = [rawsql.new_row(Call, integration_id=integration, call_ref=f"r{i}", first_seen_at=AT) for i in range(3)]
    rows[1].update(caller="+62812345678", anomalies=["a \"quoted\" \\ note", {"n": 1}], caller_withheld=True,
                   offered_at=AT, line="112 {x}", state=CallState.ACTIVE)
    rawsql.insert_rows(Call, rows, ignore_conflicts=True)
    rawsql.insert_rows(Call, rows[:2], ignore_conflicts=True)  # already there: skipped, not an error
    assert Call.objects.filter(integration_id=integration).count() == 3
    with transaction.atomic():
        locked = rawsql.locked_rows(Call, "call_ref", ["r2", "r0", "r1", "nope"], integration_id=integration)
    assert [c.call_ref for c in locked] == ["r0", "r1", "r2"]  # id order
    assert [fields(c) for c in locked] == [fields(c) for c in Call.objects.filter(
        integration_id=integration).order_by("id")]
    assert locked[1].anomalies == ["a \"quoted\" \\ note", {"n": 1}] and locked[1].caller_withheld is True
    assert locked[1].offered_at == AT
    assert rawsql.locked_rows(Call, "call_ref", ["r0"], integration_id=integration + 999) == []


def test_update_rows_writes_nulls_json_and_times(pbx: Any) -> None:
    rawsql.insert_rows(Call, [rawsql.new_row(Call, integration_id=pbx.integration.pk, call_ref=f"u{i}",
                                             first_seen_at=AT, offered_at=AT, caller="+62812345678")
                              for i in range(2)])
    first, second = Call.objects.order_by("id")
    first.offered_at, first.caller, first.anomalies = None, None, ["x", 'y"z']
    second.ended_at, second.state, second.outcome_auto = AT, CallState.ENDED, True
    rawsql.update_rows(Call, [first, second], ["offered_at", "caller", "anomalies", "ended_at", "state",
                                               "outcome_auto"])
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.offered_at, first.caller, first.anomalies) == (None, None, ["x", 'y"z'])
    assert (second.ended_at, second.state, second.outcome_auto, second.offered_at) == (AT, "ended", True, AT)
    rawsql.update_rows(Call, [], ["caller"])  # nothing to do is not an error


def test_matching_reads_columns_with_equal_and_null_conditions(pbx: Any) -> None:
    rawsql.insert_rows(Call, [rawsql.new_row(Call, integration_id=pbx.integration.pk, call_ref=f"m{i}",
                                             first_seen_at=AT, offered_at=AT if i else None, caller=f"+6281234567{i}")
                              for i in range(3)])
    found = rawsql.matching(Call, ["call_ref", "offered_at", "anomalies"], "caller",
                            {"+62812345670", "+62812345671", "+62899"}, integration_id=pbx.integration.pk)
    assert found == [("m0", None, []), ("m1", AT, [])]
    assert rawsql.matching(Call, ["call_ref"], "caller", ["+62812345670", "+62812345671"], offered_at=None) == [("m0",)]
    assert rawsql.matching(Call, ["call_ref"], "caller", []) == []
