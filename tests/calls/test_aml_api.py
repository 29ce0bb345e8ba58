"""AML over the API: SMS and HTTPS fixes attach to the caller's recent call, or wait for it; bad input is named."""

from typing import Any

import pytest

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
