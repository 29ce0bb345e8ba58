"""AML parser: the documented examples, the no-fix form, truncation, bad values, HMAC, and fuzzing."""

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siaga.formats import aml

SMS = ('A"ML=1;lt=+51.53321;lg=-0.12601;rd=14;top=20220131171748;lc=68;pm=W;si=234159000000000;'
       "ei=123456789012345;mcc=234;mnc=15;ml=126")
SMS_NO_FIX = ('A"ML=1;lt=+00.00000;lg=+000.00000;rd=N;top=20220131173734;lc=0;pm=N;si=234159000000000;'
              "ei=123456789012345;mcc=234;mnc=15;ml=127")


def test_sms_with_fix() -> None:
    fix = aml.parse_sms(SMS)
    assert fix.has_fix is True
    assert (fix.lat, fix.lon, fix.radius_m) == (51.53321, -0.12601, 14.0)
    assert fix.time_utc == datetime(2022, 1, 31, 17, 17, 48, tzinfo=UTC)
    assert fix.method == "wifi"
    assert fix.confidence_pct == 68
    assert (fix.imei, fix.mcc, fix.mnc) == ("123456789012345", "234", "15")


def test_sms_without_fix() -> None:
    fix = aml.parse_sms(SMS_NO_FIX)
    assert fix.has_fix is False
    assert fix.lat is None and fix.lon is None and fix.radius_m is None
    assert fix.method == "none"
    assert fix.time_utc == datetime(2022, 1, 31, 17, 37, 34, tzinfo=UTC)


def test_json_has_the_documented_keys() -> None:
    data = aml.parse(SMS).as_json()
    assert {"lat", "lon", "radius_m", "time_utc", "method", "has_fix"} <= set(data)
    assert data["time_utc"] == "2022-01-31T17:17:48Z"


@pytest.mark.parametrize("cut", [20, 40, 60, 80, len(SMS) - 10])
def test_sms_cut_in_half_is_refused(cut: int) -> None:
    with pytest.raises(aml.AmlError) as err:
        aml.parse_sms(SMS[:cut])
    assert err.value.message  # names what is missing or wrong


def test_sms_missing_field_named() -> None:
    with pytest.raises(aml.AmlError, match="missing top"):
        aml.parse_sms('A"ML=1;lt=+1.0;lg=+2.0;rd=10;lc=68;pm=G;ml=38')


def test_sms_latitude_outside_world() -> None:
    with pytest.raises(aml.AmlError) as err:
        aml.parse_sms('A"ML=1;lt=+95.00000;lg=+106.00000;rd=10;top=20220131171748;lc=68;pm=G;ml=75')
    assert err.value.field == "lt"
    assert "outside -90..90" in err.value.message


def test_sms_length_mismatch_means_truncation() -> None:
    text = SMS.replace("mnc=15;", "")
    with pytest.raises(aml.AmlError) as err:
        aml.parse_sms(text)
    assert err.value.field == "ml"


def test_sms_bad_time() -> None:
    with pytest.raises(aml.AmlError, match="top="):
        aml.parse_sms(SMS.replace("top=20220131171748", "top=20221331171748"))


HTTPS = ("v=1&emergency_number=112&source=call&time=1764309600000&location_latitude=-6.01712&"
         "location_longitude=106.05563&location_time=1764309612000&location_accuracy=12.5&location_source=gps&"
         "location_certainty=0.68&device_number=%2B6281234567890&device_imei=355458061005220")


def test_https_form() -> None:
    fix = aml.parse_https(HTTPS)
    assert fix.has_fix and fix.lat == -6.01712 and fix.lon == 106.05563
    assert fix.radius_m == 12.5
    assert fix.method == "gnss"
    assert fix.device_number == "+6281234567890"
    assert fix.time_utc == datetime.fromtimestamp(1764309612, tz=UTC)
    assert fix.confidence_pct == pytest.approx(68)


def test_https_without_fix() -> None:
    fix = aml.parse_https("v=1&device_number=081234567890&time=1764309600000")
    assert fix.has_fix is False and fix.method == "none"


def test_https_half_a_coordinate_is_refused() -> None:
    with pytest.raises(aml.AmlError) as err:
        aml.parse_https("v=1&device_number=0812&location_latitude=-6.0")
    assert err.value.field == "location_longitude"


def test_https_hmac_roundtrip() -> None:
    key = b"shared-key"
    signed = aml.sign_https(HTTPS.encode(), key)
    assert aml.verify_https_hmac(signed, key)
    assert not aml.verify_https_hmac(signed, b"another-key")
    tampered = signed.replace(b"-6.01712", b"-6.01713")
    assert not aml.verify_https_hmac(tampered, key)
    assert not aml.verify_https_hmac(HTTPS.encode(), key)  # unsigned


def test_parse_tells_the_forms_apart() -> None:
    assert aml.parse(SMS).transport == "sms"
    assert aml.parse(HTTPS).transport == "https"
    with pytest.raises(aml.AmlError, match="not an AML message"):
        aml.parse("hello")


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_sms_never_crashes(text: str) -> None:
    try:
        fix = aml.parse_sms(text)
    except aml.AmlError:
        return
    # Whatever is accepted is usable.
    if fix.has_fix:
        assert fix.lat is not None and -90 <= fix.lat <= 90
        assert fix.lon is not None and -180 <= fix.lon <= 180


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_https_never_crashes(body: bytes) -> None:
    with contextlib.suppress(aml.AmlError):
        aml.parse_https(body)
    aml.verify_https_hmac(body, b"k")  # never raises


@settings(max_examples=200, deadline=None)
@given(
    lat=st.floats(-90, 90, allow_nan=False), lon=st.floats(-180, 180, allow_nan=False),
    radius=st.integers(0, 5000), when=st.datetimes(datetime(2000, 1, 1), datetime(2099, 1, 1)),
    method=st.sampled_from("GWC"), cut=st.integers(1, 60),
)
def test_fuzz_generated_messages_parse_and_their_truncations_do_not(lat: float, lon: float, radius: int,
                                                                    when: datetime, method: str, cut: int) -> None:
    body = (f'A"ML=1;lt={lat:+.5f};lg={lon:+.5f};rd={radius};top={when:%Y%m%d%H%M%S};lc=68;pm={method};'
            "si=510100000000000;ei=123456789012345;mcc=510;mnc=10;")
    text = body + f"ml={len(body) + 3 + len(str(len(body) + 6))}"
    text = body + f"ml={len(text)}"
    fix = aml.parse_sms(text)
    assert fix.lat == pytest.approx(round(lat, 5), abs=1e-5)
    assert fix.radius_m == radius
    assert fix.time_utc == when.replace(microsecond=0, tzinfo=UTC)
    with pytest.raises(aml.AmlError):
        aml.parse_sms(text[: len(text) - min(cut, len(text) - 1) - 1] if cut > 2 else text[:-3])
