"""A call going on at an extension is that operator's: another operator can neither tag it nor open an
incident from it (a supervisor can step in); ended calls and calls not yet answered are open to anyone."""

import json
from typing import Any

import pytest

from siaga.calls.models import Call
from siaga.core.models import UserProfile
from tests.calls.helpers import ev, post_event
from tests.conftest import make_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_operators(actors: Any) -> tuple[Any, Any]:
    other = make_actor("t_operator2", "operator")
    UserProfile.objects.filter(user=actors["operator"].user).update(extension="2001")
    UserProfile.objects.filter(user=other.user).update(extension="2002")
    return actors["operator"], other


def answered(client: Any, pbx: Any, ref: str, agent: str) -> Call:
    post_event(client, pbx, ev("offered", call=ref, at=1700, caller="081234567890"))
    post_event(client, pbx, ev("answered", call=ref, at=1705, agent=agent))
    return Call.objects.get(call_ref=ref)


def tag(client: Any, who: Any, call: Call, outcome: str = "prank") -> Any:
    return client.post(f"/api/v1/calls/{call.pk}/tag", data=json.dumps({"outcome": outcome}),
                       content_type="application/json", **who.headers())


def test_an_operator_tags_only_their_own_call_while_it_goes_on(client: Any, pbx: Any, actors: Any,
                                                               two_operators: Any) -> None:
    mine, theirs = two_operators
    call = answered(client, pbx, "own-1", agent="2002")
    assert call.operator_id == theirs.user.pk and call.state == "active"
    refused = tag(client, mine, call)
    assert refused.status_code == 403 and "2002" in refused.json()["error"]["message"]
    assert Call.objects.get(pk=call.pk).outcome == ""  # nothing written
    assert tag(client, theirs, call).status_code == 200
    # a supervisor may step in
    other = answered(client, pbx, "own-2", agent="2002")
    assert tag(client, actors["supervisor"], other, "ghost").status_code == 200
    # once ended, the call is open to anyone (a colleague may tag what was left untagged)
    ended = answered(client, pbx, "own-3", agent="2002")
    post_event(client, pbx, ev("ended", call="own-3", at=1720))
    assert Call.objects.get(pk=ended.pk).state == "ended"
    assert tag(client, mine, Call.objects.get(pk=ended.pk), "information").status_code == 200


def test_an_operator_cannot_open_an_incident_from_another_extensions_call(client: Any, pbx: Any,
                                                                         two_operators: Any) -> None:
    mine, theirs = two_operators
    call = answered(client, pbx, "own-4", agent="2002")
    body = {"category": "kebakaran", "call_id": call.pk}
    refused = client.post("/api/v1/incidents", data=json.dumps(body), content_type="application/json",
                          **mine.headers())
    assert refused.status_code == 403
    assert Call.objects.get(pk=call.pk).incident_id is None
    created = client.post("/api/v1/incidents", data=json.dumps(body), content_type="application/json",
                          **theirs.headers())
    assert created.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_tagging_takes_its_own_transaction(client: Any, pbx: Any, actors: Any) -> None:
    """Outside a test's wrapping transaction, as in `siaga serve`: the tag locks its call row inside its own
    transaction (a misplaced decorator made this a 500 on PostgreSQL only)."""
    from siaga.calls.actions import do_tag_call

    call = answered(client, pbx, "own-tx", agent="2001")
    assert do_tag_call(call.pk, "ghost", actors["supervisor"].principal).outcome == "ghost"
