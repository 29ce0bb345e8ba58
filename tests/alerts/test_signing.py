"""Every CAP message we issue is signed; other senders' signatures are checked and shown on the desk."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from siaga.alerts import actions, signing
from siaga.alerts.external import store
from siaga.formats import cap, capsign
from tests.alerts.conftest import issue
from tests.formats.test_capsign import AMBER, xmlsec1

pytestmark = pytest.mark.django_db


def test_every_issued_message_is_signed_and_verifies_with_xmlsec1(actors: Any, client: Client,
                                                                   tmp_path: Path) -> None:
    first = issue(actors)
    cancel = actions.do_cancel_thread(actors["supervisor"].principal, first.thread_id, "air surut")
    certificate = signing.certificate()
    for alert in (first, cancel):
        served = client.get(f"/peringatan/{alert.pk}.xml").content
        verdict = capsign.verify(served, trusted_pem=certificate)
        assert verdict.valid and verdict.trusted, verdict
        assert cap.validate(served) == []
    binary = xmlsec1()
    (tmp_path / "cert.pem").write_bytes(certificate)
    (tmp_path / "cancel.xml").write_bytes(cancel.xml.encode())
    done = subprocess.run([binary, "--verify", "--trusted-pem", str(tmp_path / "cert.pem"),
                           str(tmp_path / "cancel.xml")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_a_warning_goes_out_unsigned_rather_than_not_at_all(actors: Any, settings: Any, tmp_path: Path,
                                                            caplog: Any) -> None:
    settings.CAP_SIGNING_KEY_FILE = str(tmp_path / "missing-key.pem")
    settings.CAP_SIGNING_CERT_FILE = str(tmp_path / "missing-cert.pem")
    alert = issue(actors)
    assert capsign.verify(alert.xml.encode()).status == capsign.UNSIGNED and alert.deliveries.exists()
    assert "UNSIGNED" in caplog.text


def test_other_senders_signatures_are_checked_and_shown(actors: Any, settings: Any, tmp_path: Path,
                                                        client: Client) -> None:
    key, cert = capsign.keygen("BPBD Provinsi Banten")
    stranger_key, stranger_cert = capsign.keygen("Somebody")
    (tmp_path / "banten.pem").write_bytes(cert)
    settings.CAP_TRUSTED_CERTS = [str(tmp_path / "banten.pem")]
    text = AMBER.read_bytes()

    def variant(name: str) -> bytes:
        return text.replace(b"<identifier>", f"<identifier>{name}-".encode())

    trusted = store(capsign.sign(variant("a"), key, cert), None, "")
    unknown = store(capsign.sign(variant("b"), stranger_key, stranger_cert), None, "")
    tampered = store(capsign.sign(variant("c"), key, cert).replace(b"Immediate", b"Past"), None, "")
    unsigned = store(variant("d"), None, "")
    assert (trusted.signature, trusted.signer_trusted) == ("valid", True)
    assert trusted.signer == "C=ID,CN=BPBD Provinsi Banten"
    assert (unknown.signature, unknown.signer_trusted) == ("valid", False)
    assert tampered.signature == "invalid" and tampered.signature_detail.startswith("digest mismatch")
    assert unsigned.signature == "unsigned"
    # a bare-key signature (Google's CAP library): valid, nobody named, never trusted by a certificate not its
    google = store((AMBER.parent / "google_cap-library_earthquake-iso8859-1.cap").read_bytes(), None, "")
    assert (google.signature, google.signer_trusted, google.signer) == ("valid", False, ""), google.signature_detail
    client.force_login(actors["supervisor"].user)
    desk = client.get("/peringatan/kelola/").content.decode()
    for state in ("valid", "invalid", "unsigned"):
        assert f'data-signature="{state}"' in desk
    listed = {a["identifier"]: a for a in client.get("/api/v1/alerts/external").json()}
    assert listed[trusted.identifier]["signer_trusted"] is True
    assert listed[tampered.identifier]["signature"] == "invalid"


def test_cap_keygen_sign_and_validate_verify_on_the_command_line(tmp_path: Path) -> None:
    from tests.e2e.servers import SIAGA

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*SIAGA, *args, "--lang", "en"], capture_output=True, text=True, timeout=120)

    assert run("cap", "keygen", "--out", str(tmp_path / "keys")).returncode == 0
    key, cert = tmp_path / "keys" / "signing-key.pem", tmp_path / "keys" / "signing-cert.pem"
    assert run("cap", "keygen", "--out", str(tmp_path / "keys")).returncode == 1  # never replaces a key
    signed = tmp_path / "signed.xml"
    assert run("cap", "sign", str(AMBER), "--key", str(key), "--cert", str(cert), "--out", str(signed)).returncode == 0
    ok = run("cap", "validate", str(signed), "--verify", "--cert", str(cert))
    assert ok.returncode == 0 and "signature valid" in ok.stdout
    unsigned = run("cap", "validate", str(AMBER), "--verify")
    assert unsigned.returncode == 1 and "NOT signed" in unsigned.stdout
    changed = tmp_path / "changed.xml"
    changed.write_bytes(signed.read_bytes().replace(b"Immediate", b"Past"))
    broken = run("cap", "validate", str(changed), "--verify", "--cert", str(cert))
    assert broken.returncode == 1 and "digest mismatch" in broken.stdout
    run("cap", "keygen", "--out", str(tmp_path / "other"))
    foreign = run("cap", "validate", str(signed), "--verify", "--cert", str(tmp_path / "other" / "signing-cert.pem"))
    assert foreign.returncode == 1 and "certificate not trusted" in foreign.stdout
    # another sender's signature with a bare key (Google's CAP library, inclusive C14N): valid, signer unnamed;
    # asked to trust our certificate, it does not hold
    google = AMBER.parent / "google_cap-library_earthquake-iso8859-1.cap"
    bare = run("cap", "validate", str(google), "--verify")
    assert bare.returncode == 0 and "bare key and no certificate: the signer is not named" in bare.stdout, bare.stdout
    stranger = run("cap", "validate", str(google), "--verify", "--cert", str(cert))
    assert stranger.returncode == 1 and "certificate not trusted" in stranger.stdout
    indonesian = subprocess.run([*SIAGA, "cap", "validate", str(google), "--verify", "--lang", "id"],
                                capture_output=True, text=True, timeout=120)
    assert "kunci tanpa sertifikat: penandatangan tidak disebutkan" in indonesian.stdout, indonesian.stdout
