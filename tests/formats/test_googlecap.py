"""Our CAP messages against Google Public Alerts' requirements (what one message can be checked for)."""

from typing import Any

import pytest

from siaga.formats import googlecap
from tests.alerts.conftest import issue

pytestmark = pytest.mark.django_db

CAP = ('<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><info><language>id-ID</language><area>'
       '<areaDesc>{desc}</areaDesc><polygon>{polygon}</polygon></area></info>{more}</alert>')


def test_every_message_we_issue_meets_them(actors: Any) -> None:
    from siaga.alerts import actions

    city = issue(actors, area_codes=[])  # the whole city: eight kecamatan polygons
    one = issue(actors, area_codes=["36.72.04"], headline="Kebocoran gas di Ciwandan", hazard="kimia")
    cancel = actions.do_cancel_thread(actors["supervisor"].principal, one.thread_id, "aman")
    for alert in (city, one, cancel):
        assert googlecap.findings(alert.xml.encode()) == [], alert.msg_type


def test_what_google_would_not_take_is_named() -> None:
    bad = CAP.format(desc="Kecamatan Ciwandan, Kecamatan Citangkil dan Kecamatan Pulomerak",
                     polygon="-6.1234567,106.1 -6.1,106.2 -6.2,106.1 -6.2,106.2 -6.1234567,106.1",
                     more='<info><language>ID-id</language></info>')
    found = {(p.path, p.message.split(";")[0].split(":")[0]) for p in googlecap.findings(bad.encode())}
    assert found == {("info[0]/area[0]/areaDesc", "63 characters"),
                     ("info[0]/area[0]/polygon[0]", "2 coordinate pair(s) with more than 6 decimals"),
                     ("info[0]/area[0]/polygon[0]", "edges 2 and 4 cross"),
                     ("info[1]/language", "id-id again (info[0] has it)")}
    short = CAP.format(desc="Ciwandan", polygon="-6.1,106.1 -6.1,106.2 -6.2,106.1", more="")
    assert [p.message for p in googlecap.findings(short.encode())] == [
        "3 coordinate pairs; at least 4 are needed"]
