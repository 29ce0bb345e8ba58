"""CAP 1.2: the real corpus validates and round-trips, every rule the XSD cannot say is caught, fuzzing."""

import io
import re
import tempfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from siaga.formats import cap
from siaga.formats.errors import FormatError
from tests.datafiles import CAP_EXAMPLES

EXAMPLES = CAP_EXAMPLES
CORPUS = sorted(EXAMPLES.glob("*"))
WIB = timezone(timedelta(hours=7))


def minimal(**changes: str) -> bytes:
    fields = {
        "identifier": "urn:oid:2.25.1.1.20261112100702.101", "sender": "siaga112@cilegon.go.id",
        "sent": "2026-11-12T10:07:02+07:00", "status": "Actual", "msgType": "Alert", "scope": "Public",
        "extra": "", "info": ("<info><category>Geo</category><event>Tsunami</event><urgency>Immediate</urgency>"
                              "<severity>Extreme</severity><certainty>Likely</certainty>{web}<area>"
                              "<areaDesc>Kota Cilegon</areaDesc>{polygon}{circle}{geo}</area></info>"),
        "web": "<web>https://112.cilegon.go.id/peringatan/</web>",
        "polygon": "<polygon>-6.0,106.0 -6.0,106.1 -6.1,106.1 -6.0,106.0</polygon>",
        "circle": "<circle>-6.02,106.05 10</circle>", "geo": "",
    }
    fields.update(changes)
    info = fields["info"].format(web=fields["web"], polygon=fields["polygon"], circle=fields["circle"],
                                 geo=fields["geo"])
    head = "".join(f"<{k}>{fields[k]}</{k}>" for k in ("identifier", "sender", "sent", "status", "msgType", "scope")
                   if fields[k] is not None)
    return (f'<?xml version="1.0" encoding="UTF-8"?><alert xmlns="{cap.NS12}">{head}{fields["extra"]}{info}'
            "</alert>").encode()


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_real_messages_are_valid_and_round_trip(path: Path) -> None:
    data = path.read_bytes()
    assert cap.validate(data) == []
    alert = cap.parse(data)
    assert alert.version == "1.2" and alert.identifier and alert.infos
    again = cap.to_xml(alert)
    assert cap.validate(again) == []
    assert cap.parse(again) == alert


def test_declared_encoding_is_honoured() -> None:
    alert = cap.parse((EXAMPLES / "google_cap-library_earthquake-iso8859-1.cap").read_bytes())
    assert "Usulután" in (alert.infos[0].headline or "")
    tsunami = cap.parse((EXAMPLES / "google_cap-library_wcatwc-warning.cap").read_bytes())
    assert tsunami.msg_type == "Update"
    assert [str(r) for r in tsunami.references] == ["PAAQ,PAAQ-1-lqw6d6,2011-09-02T10:55:55-00:00"]
    assert tsunami.sent == datetime(2011, 9, 2, 11, 36, 50, tzinfo=UTC)


def test_minimal_is_valid() -> None:
    assert cap.validate(minimal()) == []


def test_cap_11_is_read_but_not_valid_12() -> None:
    data = minimal().replace(cap.NS12.encode(), cap.NS11.encode())
    alert = cap.parse(data)
    assert alert.version == "1.1" and alert.infos[0].event == "Tsunami"
    [problem] = cap.validate(data)
    assert "CAP 1.1" in problem.message


@pytest.mark.parametrize(("data", "path", "words"), [
    (minimal(sent="2026-11-12T03:07:02Z"), "sent", "'Z'"),
    (minimal(sent="2026-11-12T10:07:02.5+07:00"), "sent", "fractions"),
    (minimal(sent="2026-02-30T10:07:02+07:00"), "sent", "not a real time"),
    (minimal(polygon="<polygon>-6.0,106.0 -6.0,106.1 -6.1,106.1 -6.2,106.0</polygon>"), "polygon[1]", "not closed"),
    (minimal(polygon="<polygon>-6.0,106.0 -6.1,106.1 -6.0,106.0</polygon>"), "polygon[1]", "at least 4"),
    (minimal(polygon="<polygon>-6.0,106.0 -96.0,106.1 -6.1,106.1 -6.0,106.0</polygon>"), "polygon[1]", "outside"),
    (minimal(circle="<circle>-6.02,106.05</circle>"), "circle[1]", "radius"),
    (minimal(circle="<circle>-6.02,106.05 ten</circle>"), "circle[1]", "not a number"),
    (minimal(web="<web>/peringatan/1/</web>"), "web", "absolute"),
    (minimal(web="<web>https://[peringatan/</web>"), "web", "absolute"),  # not even a URL (found by the fuzz test)
    (minimal(identifier="alert 1"), "identifier", "spaces"),
    (minimal(sender="a,b"), "sender", "commas"),
    (minimal(msgType="Update"), "references", "must reference"),
    (minimal(msgType="Cancel", extra="<references>siaga112@cilegon.go.id,x</references>"), "references",
     "sender,identifier,sent"),
    (minimal(extra="<references>a,b,2026-11-12T03:07:02Z</references>"), "references", "'Z'"),
    (minimal(scope="Restricted"), "restriction", "restriction"),
    (minimal(scope="Private"), "addresses", "addresses"),
    (minimal(geo="<altitude>10</altitude><ceiling>20</ceiling>").replace(b"<altitude>10</altitude>", b""),
     "ceiling", "altitude"),
])
def test_rules_beyond_the_schema(data: bytes, path: str, words: str) -> None:
    problems = cap.validate(data)
    assert problems, data
    hits = [p for p in problems if path in p.path and words in p.message]
    assert hits, [str(p) for p in problems]


def test_schema_problems_are_listed_all_at_once() -> None:
    data = minimal(status="Real", scope="Everyone").replace(b"<severity>Extreme</severity>", b"")
    problems = cap.validate(data)
    text = "\n".join(map(str, problems))
    assert "status" in text and "Real" in text
    assert "scope" in text and "Everyone" in text
    assert "severity" in text
    assert all(p.message.startswith("schema:") for p in problems if "line" in p.path)


@pytest.mark.parametrize("data", [b"", b"<alert/>", b"<html><body>502</body></html>", b"not xml at all",
                                  b'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY x "y">]><alert/>'])
def test_not_cap_at_all(data: bytes) -> None:
    problems = cap.validate(data)
    assert len(problems) == 1
    with pytest.raises(FormatError):
        cap.parse(data)


def test_characters_xml_cannot_hold_are_dropped_not_fatal() -> None:
    alert = cap.Alert(identifier="a1", sender="s", sent=datetime(2026, 1, 1, tzinfo=UTC),
                      infos=[cap.Info(event="Gempa\x1b bumi\x00", urgency="Past", severity="Minor",
                                      certainty="Observed")])
    data = cap.to_xml(alert)
    assert cap.validate(data) == []
    assert cap.parse(data).infos[0].event == "Gempa bumi"


def test_format_time() -> None:
    assert cap.format_time(datetime(2026, 11, 12, 3, 7, 2, 123456, tzinfo=UTC)) == "2026-11-12T03:07:02-00:00"
    assert cap.format_time(datetime(2026, 11, 12, 3, 7, 2, tzinfo=UTC), WIB) == "2026-11-12T10:07:02+07:00"
    assert cap.parse_time("2026-11-12T10:07:02+07:00") == datetime(2026, 11, 12, 3, 7, 2, tzinfo=UTC)
    with pytest.raises(ValueError):
        cap.format_time(datetime(2026, 11, 12))


# --- property: whatever we build serialises to valid CAP and reads back the same --------------------------

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).map(str.strip) \
    .filter(bool)
_token = st.from_regex(r"[A-Za-z0-9._:\-]{1,30}", fullmatch=True)
_when = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1),
                     timezones=st.sampled_from([UTC, WIB])).map(lambda d: d.replace(microsecond=0))
_point = st.tuples(st.floats(-89, 89).map(lambda v: round(v, 4)), st.floats(-179, 179).map(lambda v: round(v, 4)))


_circle = st.tuples(st.floats(-89, 89).map(lambda v: round(v, 4)), st.floats(-179, 179).map(lambda v: round(v, 4)),
                    st.floats(0, 500).map(lambda v: round(v, 2)))


@st.composite
def _areas(draw: st.DrawFn) -> cap.Area:
    points = draw(st.lists(_point, min_size=3, max_size=8, unique=True))
    return cap.Area(desc=draw(_text), polygons=[[*points, points[0]]], circles=draw(st.lists(_circle, max_size=2)),
                    geocodes=draw(st.lists(st.tuples(_token, _token), max_size=3)))


@st.composite
def _alerts(draw: st.DrawFn) -> cap.Alert:
    msg_type = draw(st.sampled_from(cap.MSG_TYPES))
    references = [cap.Reference(draw(_token), draw(_token), cap.format_time(draw(_when)))] \
        if msg_type != "Alert" else []
    infos = [cap.Info(event=draw(_text), urgency=draw(st.sampled_from(cap.URGENCIES)),
                      severity=draw(st.sampled_from(cap.SEVERITIES)), certainty=draw(st.sampled_from(cap.CERTAINTIES)),
                      categories=draw(st.lists(st.sampled_from(cap.CATEGORIES), min_size=1, max_size=2)),
                      language=draw(st.sampled_from(["id-ID", "en-US"])),
                      response_types=draw(st.lists(st.sampled_from(cap.RESPONSE_TYPES), max_size=2)),
                      expires=draw(st.none() | _when), headline=draw(st.none() | _text),
                      instruction=draw(st.none() | _text), web=draw(st.none() | st.just("https://example.org/a")),
                      parameters=draw(st.lists(st.tuples(_token, _text), max_size=3)),
                      areas=draw(st.lists(_areas(), max_size=2)))
             for _ in range(draw(st.integers(0, 2)))]
    return cap.Alert(identifier=draw(_token), sender=draw(_token), sent=draw(_when),
                     status=draw(st.sampled_from(cap.STATUSES)), msg_type=msg_type, scope="Public",
                     references=references, infos=infos, note=draw(st.none() | _text))


@settings(max_examples=150, deadline=None)
@given(_alerts())
def test_built_alerts_are_valid_and_read_back(alert: cap.Alert) -> None:
    data = cap.to_xml(alert)
    assert cap.validate(data) == [], (data, cap.validate(data))
    back = cap.parse(data)
    assert back.identifier == alert.identifier and back.msg_type == alert.msg_type
    assert back.sent == alert.sent
    assert [i.event for i in back.infos] == [i.event for i in alert.infos]
    assert [[a.polygons for a in i.areas] for i in back.infos] == [[a.polygons for a in i.areas] for i in alert.infos]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fuzz_mutated_messages_never_crash(data: st.DataObject) -> None:
    original = minimal().decode()
    position = data.draw(st.integers(0, len(original) - 1))
    cut = data.draw(st.integers(0, 20))
    insert = data.draw(st.text(max_size=10))
    mutated = (original[:position] + insert + original[position + cut:]).encode()
    alert, problems = cap.parse_and_validate(mutated)
    assert alert is not None or problems
    for problem in problems:
        assert problem.path and problem.message


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_fuzz_bytes(data: bytes) -> None:
    problems = cap.validate(data)
    assert problems  # random bytes are never a valid alert


def test_schema_is_the_official_one() -> None:
    schema = cap.schema()
    root = etree.fromstring(minimal())
    assert schema.validate(root)
    assert re.search(rb"Copyright OASIS Open 2010", (Path(cap.__file__).parent / "data" / "CAP-v1.2.xsd").read_bytes())


def test_every_problem_is_listed_not_only_the_first_the_schema_meets() -> None:
    """The XSD stops at the first error of a sequence: a missing sender hid a bad msgType, a missing
    urgency a bad severity. Every one of them is listed, each once."""
    data = minimal(sender=None, msgType="Alarm", status="Real",  # type: ignore[arg-type]
                   info="<info><category>Quake</category><event>Gempa</event><severity>Huge</severity>"
                        "<certainty>Likely</certainty></info>")
    problems = [str(p) for p in cap.validate(data)]
    for element, words in (("sender", "missing"), ("msgType", "'Alarm'"), ("status", "'Real'"),
                           ("category", "'Quake'"), ("urgency", "missing"), ("severity", "'Huge'")):
        assert any(p.split(":")[0].split(" (line")[0].endswith(element) and words in p for p in problems), \
            (element, problems)
    assert len([p for p in problems if "'Alarm'" in p]) == 1
    # and the command says so: every problem, exit status 1
    out = io.StringIO()
    with tempfile.NamedTemporaryFile(suffix=".xml") as handle:
        handle.write(data)
        handle.flush()
        with pytest.raises(SystemExit) as exit_code:
            call_command("cap", "validate", handle.name, stdout=out)  # Bahasa Indonesia by default
    assert exit_code.value.code == 1 and f"TIDAK sah sebagai CAP 1.2 ({len(problems)} masalah)" in out.getvalue()


def test_a_value_out_of_its_set_is_said_once() -> None:
    problems = cap.validate(minimal(msgType="Alarm"))
    assert len(problems) == 1 and "Alarm" in problems[0].message
