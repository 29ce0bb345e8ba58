"""AML over the API: SMS and HTTPS fixes attach to the caller's recent call, or wait for it; bad input is named."""

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siaga.calls.models import Call, LocationFix
from siaga.formats import aml
from tests.calls.helpers import T0, ev, post_event

pytestmark = pytest.mark.django_db


def sms_for(lat: float, lon: float, seconds: int = 20) -> str:
    top = (T0.timestamp() + seconds)
    from datetime import UTC, datetime

    stamp = datetime.fromtimestamp(top, tz=UTC).strftime("%Y%m%d%H%M%S")
    body = (f'A"ML=1;lt={lat:+.5f};lg={lon:+.5f};rd=12;top={stamp};lc=68;pm=G;si=510100000000000;'
            "ei=355458061005220;mcc=510;mnc=10;")
    return body + f"ml={len(body) + 6}"


def post_sms(client: Any, provider: Any, sender: str, text: str) -> Any:
    return client.post("/api/v1/aml/sms", data={"sender": sender, "text": text}, content_type="application/json",
                       **provider.headers())


def test_sms_attaches_to_the_recent_call(client: Any, pbx: Any, aml_provider: Any) -> None:
    post_event(client, pbx, ev("offered", call="a1", caller="081234567890"))
    response = post_sms(client, aml_provider, "+6281234567890", sms_for(-6.0171, 106.0556))
    assert response.status_code == 201, response.content
    body = response.json()
    call = Call.objects.get(call_ref="a1")
    assert body["call_id"] == call.pk and body["has_fix"] is True and body["radius_m"] == 12
    fix = LocationFix.objects.get()
    assert fix.kelurahan.name == "Jombang Wetan"


def test_fix_before_the_call_waits_for_it(client: Any, pbx: Any, aml_provider: Any) -> None:
    post_sms(client, aml_provider, "081200000001", sms_for(-5.93, 106.007, seconds=5))
    assert LocationFix.objects.get().call is None  # kept, not lost
    post_event(client, pbx, ev("offered", call="late", at=0, caller="081200000001"))
    assert LocationFix.objects.get().call == Call.objects.get(call_ref="late")


def test_no_fix_message_is_stored_without_position(client: Any, aml_provider: Any) -> None:
    text = ('A"ML=1;lt=+00.00000;lg=+000.00000;rd=N;top=20220131173734;lc=0;pm=N;si=234159000000000;'
            "ei=123456789012345;mcc=234;mnc=15;ml=127")
    response = post_sms(client, aml_provider, "081200000002", text)
    assert response.status_code == 201 and response.json()["has_fix"] is False


@pytest.mark.parametrize(("text", "words"), [
    (sms_for(-6.0, 106.0)[:50], "cut short"),
    (sms_for(-6.0, 106.0)[:-4], "cut short"),
    (sms_for(-6.0, 106.0).replace("lt=-6.00000", "lt=-96.00000"), "lt='-96.00000' is outside -90..90"),
    ("hello", 'starts with A"ML'),
])
def test_bad_sms_is_refused_and_nothing_stored(client: Any, aml_provider: Any, text: str, words: str) -> None:
    response = post_sms(client, aml_provider, "0812", text)
    assert response.status_code == 422
    assert words in response.json()["error"]["message"]
    assert LocationFix.objects.count() == 0


def test_https_with_hmac(client: Any, pbx: Any, aml_provider: Any) -> None:
    post_event(client, pbx, ev("offered", call="h1", caller="081234567890"))
    body = (f"v=1&device_number=%2B6281234567890&location_latitude=-6.0171&location_longitude=106.0556&"
            f"location_time={int(T0.timestamp() * 1000) + 15000}&location_accuracy=9&location_source=gps").encode()
    signed = aml.sign_https(body, b"aml-shared-key-0123456789")
    response = client.post("/api/v1/aml/https", data=signed, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 201, response.content
    assert response.json()["call_id"] == Call.objects.get(call_ref="h1").pk
    forged = aml.sign_https(body, b"wrong")
    refused = client.post("/api/v1/aml/https", data=forged, content_type="application/x-www-form-urlencoded")
    assert refused.status_code == 401
    unsigned = client.post("/api/v1/aml/https", data=body, content_type="application/x-www-form-urlencoded")
    assert unsigned.status_code == 401
    assert LocationFix.objects.count() == 1


def test_pbx_cannot_post_locations(client: Any, pbx: Any) -> None:
    response = post_sms(client, pbx, "0812", sms_for(-6.0, 106.0))
    assert response.status_code == 403


@pytest.mark.parametrize(("sender", "words"), [
    ("1" * 40, "bukan nomor telepon"),  # Indonesian unless the sender asks for English
    ("0812\u00003456789", "NUL"),
    ("not a number", "bukan nomor telepon"),
])
def test_a_sender_that_is_not_a_phone_number_is_refused_before_anything_is_written(
        client: Any, aml_provider: Any, sender: str, words: str) -> None:
    response = post_sms(client, aml_provider, sender, sms_for(-6.0171, 106.0556))
    assert response.status_code == 422, response.content
    assert response.json()["error"]["field"] == "sender" and words in response.json()["error"]["message"]
    assert LocationFix.objects.count() == 0


def test_an_https_device_number_of_5000_characters_is_refused(client: Any, aml_provider: Any) -> None:
    from datetime import UTC, datetime, timedelta

    when = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = (f"v=3&device_number={'9' * 5000}&location_latitude=-6.0171&location_longitude=106.0556"
            f"&location_accuracy=12&location_time={when}&location_source=gps").encode()
    response = client.post("/api/v1/aml/https", data=body, content_type="application/x-www-form-urlencoded",
                           **aml_provider.headers())
    assert response.status_code == 422, response.content
    assert response.json()["error"]["field"] == "device_number" and LocationFix.objects.count() == 0


def test_the_same_aml_message_again_is_the_same_fix(client: Any, pbx: Any, aml_provider: Any) -> None:
    post_event(client, pbx, ev("offered", call="again", caller="081234567890"))
    text = sms_for(-6.0171, 106.0556)
    first = post_sms(client, aml_provider, "+6281234567890", text)
    second = post_sms(client, aml_provider, "+6281234567890", text)
    third = post_sms(client, aml_provider, "+6281234567890", text)
    assert (first.status_code, second.status_code, third.status_code) == (201, 200, 200)
    assert first.json()["id"] == second.json()["id"] == third.json()["id"]
    assert LocationFix.objects.count() == 1
    assert post_sms(client, aml_provider, "+6281234567890", sms_for(-6.0171, 106.0556, 25)).status_code == 201


@pytest.mark.parametrize("offset", [timedelta(hours=2), -timedelta(days=8)])
def test_a_fix_time_implausibly_far_from_now_is_refused(client: Any, aml_provider: Any, offset: timedelta) -> None:
    from datetime import UTC, datetime

    stamp = (datetime.now(UTC) + offset).strftime("%Y%m%d%H%M%S")
    body = (f'A"ML=1;lt=-6.01710;lg=+106.05560;rd=12;top={stamp};lc=68;pm=G;si=510100000000000;'
            "ei=355458061005220;mcc=510;mnc=10;")
    response = post_sms(client, aml_provider, "081234567890", body + f"ml={len(body) + 6}")
    assert response.status_code == 422 and response.json()["error"]["field"] == "top", response.content
    assert "tidak masuk akal" in response.json()["error"]["message"] and LocationFix.objects.count() == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(st.characters(codec=None), max_size=60),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10)
aml_bodies = st.one_of(
    st.fixed_dictionaries({"sender": json_values, "text": json_values}),
    st.fixed_dictionaries({"sender": st.text(st.characters(codec=None), max_size=60),
                           "text": st.builds(lambda n: sms_for(-6.0171, 106.0556, n), st.integers(0, 600))}),
    st.fixed_dictionaries({"sender": st.just("081234567890"), "text": st.text(st.characters(codec=None),
                                                                              max_size=300)}),
    json_values)


@given(aml_bodies)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
def test_property_arbitrary_json_to_aml_is_never_a_5xx_and_a_4xx_writes_nothing(client: Any, aml_provider: Any,
                                                                                body: Any) -> None:
    import json

    before = LocationFix.objects.count()
    raw = json.dumps(body, allow_nan=True).encode("utf-8", "surrogatepass")
    response = client.post("/api/v1/aml/sms", data=raw, content_type="application/json", **aml_provider.headers())
    assert response.status_code < 500, (body, response.content)
    if response.status_code >= 400:
        assert LocationFix.objects.count() == before
