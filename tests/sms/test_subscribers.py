"""Subscribers in bulk: CSV, all or nothing, through the importer, the admin page and the command line."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siaga.core.models import AuditLog
from siaga.sms import gateway, subscribers
from siaga.sms.models import Subscriber

pytestmark = pytest.mark.django_db

GOOD = """nomor,nama,jenis,kelurahan,kecamatan,aktif
0811-0000-001,Pak RT 01,rtrw,Kepuh,,ya
+62 811 0000 002,Penjaga sirene Merak,sirine,,Pulomerak,
6281100000003,Bu Lurah,pejabat,Jombang Wetan,Jombang,ya
"""


def test_a_good_file_is_imported_and_again_changes_nothing(reference: None) -> None:
    first = subscribers.import_csv(GOOD)
    assert first.ok and (first.created, first.updated) == (3, 0)
    kepuh = Subscriber.objects.get(phone="+628110000001")
    assert (kepuh.kind, kepuh.kelurahan.name, kepuh.kecamatan.name, kepuh.source) == ("rtrw", "Kepuh", "Ciwandan",
                                                                                       "csv")
    assert Subscriber.objects.get(phone="+628110000002").kelurahan is None
    again = subscribers.import_csv(GOOD)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = subscribers.import_csv(GOOD.replace("Kepuh,,ya", "Kepuh,,tidak"))
    assert changed.updated == 1 and not Subscriber.objects.get(phone="+628110000001").active


def test_one_bad_row_refuses_the_whole_file_naming_every_problem(reference: None) -> None:
    bad = GOOD + ("halo,X,warga,Kepuh,,ya\n"  # not a number
                  "081100000009,Y,nelayan,Kepuh,,ya\n"  # unknown kind
                  "081100000010,Z,warga,Atlantis,,ya\n"  # unknown kelurahan
                  "081100000011,W,warga,Kepuh,Jombang,ya\n"  # kelurahan not in that kecamatan
                  "0811-0000-001,dup,warga,Kepuh,,ya\n")  # the same number twice
    result = subscribers.import_csv(bad)
    assert not result.ok and Subscriber.objects.count() == 0
    assert [p.split(":")[0] for p in result.problems] == ["line 5", "line 6", "line 7", "line 8", "line 9"]
    assert "already on line 2" in result.problems[-1]


def test_a_header_without_the_number_or_with_unknown_columns_is_refused(reference: None) -> None:
    assert subscribers.import_csv("nama,kelurahan\nA,Kepuh\n").problems == ["line 1: the column nomor (phone) is "
                                                                           "missing"]
    assert "unknown column(s) email" in subscribers.import_csv("nomor,email\n0811,a@b\n").problems[0]
    semicolons = subscribers.import_csv("nomor;kecamatan\n081100000001;Grogol\n")
    assert semicolons.ok and semicolons.created == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_property_any_text_is_imported_or_refused_never_an_error(reference: None, text: str) -> None:
    before = Subscriber.objects.count()
    result = subscribers.import_csv(text)
    assert result.ok or Subscriber.objects.count() == before


def test_the_admin_imports_a_file_or_shows_every_problem(client: Any, actors: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(actors["admin"].user)
    page = client.get("/admin/sms/subscriber/import/")
    assert page.status_code == 200
    refused = client.post("/admin/sms/subscriber/import/",
                          {"file": SimpleUploadedFile("x.csv", (GOOD + "x,y,warga,Kepuh,,ya\n").encode())})
    assert refused.status_code == 200 and "line 5" in refused.content.decode() and not Subscriber.objects.exists()
    done = client.post("/admin/sms/subscriber/import/", {"file": SimpleUploadedFile("ok.csv", GOOD.encode())})
    assert done.status_code == 302 and Subscriber.objects.count() == 3
    assert AuditLog.objects.filter(action="sms.subscribers_import", object_id="ok.csv").exists()
    client.force_login(actors["supervisor"].user)
    assert client.get("/admin/sms/subscriber/import/").status_code in (302, 403)


def test_the_command_line_imports_and_prints_kannels_lines(tmp_path: Path, settings: Any) -> None:
    from tests.e2e.servers import SIAGA, prepared_env

    env = prepared_env(tmp_path, "siaga_sms_cli", {"SIAGA_SMS_SECRET": "cli-secret",
                                                   "SIAGA_SMS_CALLBACK_URL": "http://10.0.0.5:8112"})
    bad = tmp_path / "bad.csv"
    bad.write_text("nomor,kecamatan\n0811,Atlantis\n")
    refused = subprocess.run([*SIAGA, "sms", "import", str(bad)], env=env, capture_output=True, text=True)
    assert refused.returncode == 1 and "line 2" in refused.stderr
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    done = subprocess.run([*SIAGA, "sms", "import", str(good), "--lang", "en"], env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0 and "3 new" in done.stdout
    config = subprocess.run([*SIAGA, "sms", "kannel-config"], env=env, capture_output=True, text=True).stdout
    settings.SMS_SECRET, settings.SMS_CALLBACK_URL = "cli-secret", "http://10.0.0.5:8112"
    assert f'get-url = "{gateway.mo_url()}"' in config and "http://10.0.0.5:8112/sms/kannel/mo/" in config
