"""Signed CAP: our XML-DSig, checked against an independent implementation (Debian's xmlsec1) both ways."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from siaga.formats import cap, capsign
from tests.datafiles import CAP_EXAMPLES

EXAMPLES = CAP_EXAMPLES
AMBER = EXAMPLES / "oasis_cap12_spec_example_amber_alert.xml"
RSA_KEY, RSA_CERT = capsign.keygen("Siaga112 Kota Cilegon (uji)")
EC_KEY, EC_CERT = capsign.keygen("Siaga112 Kota Cilegon (uji, EC)", elliptic=True)


def xmlsec1() -> str:
    binary = shutil.which("xmlsec1")
    if binary is None:
        if os.environ.get("SIAGA_REQUIRE_XMLSEC") == "1":
            pytest.fail("xmlsec1 is not installed (SIAGA_REQUIRE_XMLSEC=1)")
        pytest.skip("xmlsec1 is not installed (apt install xmlsec1)")
    return binary


@pytest.mark.parametrize(("key", "cert"), [(RSA_KEY, RSA_CERT), (EC_KEY, EC_CERT)], ids=["rsa", "ecdsa"])
def test_a_signed_alert_is_still_valid_cap_and_verifies(key: bytes, cert: bytes) -> None:
    signed = capsign.sign(AMBER.read_bytes(), key, cert)
    assert cap.validate(signed) == []
    assert cap.parse(signed).identifier == cap.parse(AMBER.read_bytes()).identifier
    verdict = capsign.verify(signed, trusted_pem=cert)
    assert verdict.valid and verdict.trusted and "Cilegon" in verdict.signer
    untrusted = capsign.verify(signed)
    assert untrusted.valid and not untrusted.trusted  # it holds for the certificate it carries, nothing more
    assert b"rsa-sha256" in signed if key is RSA_KEY else b"ecdsa-sha256" in signed
    # signing again replaces the signature, never stacks a second one
    again = etree.fromstring(capsign.sign(signed, key, cert))
    assert len(again.findall(f"{{{capsign.DSIG}}}Signature")) == 1


def test_what_fails_is_named() -> None:
    signed = capsign.sign(AMBER.read_bytes(), RSA_KEY, RSA_CERT)
    assert capsign.verify(AMBER.read_bytes()).status == capsign.UNSIGNED
    changed = signed.replace(b"<urgency>Immediate</urgency>", b"<urgency>Past</urgency>")
    assert changed != signed
    verdict = capsign.verify(changed, trusted_pem=RSA_CERT)
    assert (verdict.status, verdict.reason.split(":")[0]) == (capsign.INVALID, "digest mismatch")
    other = capsign.verify(signed, trusted_pem=EC_CERT)
    assert other.status == capsign.INVALID and other.reason.startswith("certificate not trusted")
    forged = signed.replace(b"<ds:SignatureValue>", b"<ds:SignatureValue>AAAA")
    assert capsign.verify(forged).status == capsign.INVALID
    with pytest.raises(capsign.SigningError, match="not the signing key's"):
        capsign.sign(AMBER.read_bytes(), RSA_KEY, EC_CERT)
    with pytest.raises(capsign.SigningError, match="not an unencrypted PEM private key"):
        capsign.sign(AMBER.read_bytes(), b"nonsense", RSA_CERT)


def test_a_certificate_issued_by_a_trusted_authority_is_trusted_and_an_expired_one_is_not() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    authority_key = ec.generate_private_key(ec.SECP256R1())
    authority = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "BPBD Provinsi Banten CA")])
    ca = (x509.CertificateBuilder().subject_name(authority).issuer_name(authority)
          .public_key(authority_key.public_key()).serial_number(1).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=365))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(authority_key.public_key()), critical=False)
          .sign(authority_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Siaga112")]))
            .issuer_name(authority).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(authority_key.public_key()),
                           critical=False)
            .sign(authority_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    signed = capsign.sign(AMBER.read_bytes(), key_pem, leaf.public_bytes(pem))
    by_authority = capsign.verify(signed, ca_pem=ca.public_bytes(pem))
    assert by_authority.valid and by_authority.trusted, by_authority
    stranger = capsign.verify(signed, ca_pem=RSA_CERT)
    assert stranger.status == capsign.INVALID and stranger.reason.startswith("certificate not trusted")
    later = capsign.verify(signed, ca_pem=ca.public_bytes(pem), at=now + dt.timedelta(days=60))
    assert later.status == capsign.INVALID and later.reason.startswith("certificate not trusted")


@pytest.mark.parametrize(("key", "cert"), [(RSA_KEY, RSA_CERT), (EC_KEY, EC_CERT)], ids=["rsa", "ecdsa"])
def test_xmlsec1_verifies_what_we_sign(tmp_path: Path, key: bytes, cert: bytes) -> None:
    binary = xmlsec1()
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "signed.xml").write_bytes(capsign.sign(AMBER.read_bytes(), key, cert))
    done = subprocess.run([binary, "--verify", "--trusted-pem", str(tmp_path / "cert.pem"),
                           str(tmp_path / "signed.xml")], capture_output=True, text=True)
    assert done.returncode == 0 and "OK" in done.stdout + done.stderr, done.stderr
    (tmp_path / "changed.xml").write_bytes((tmp_path / "signed.xml").read_bytes().replace(b"Immediate", b"Past"))
    refused = subprocess.run([binary, "--verify", "--trusted-pem", str(tmp_path / "cert.pem"),
                              str(tmp_path / "changed.xml")], capture_output=True, text=True)
    assert refused.returncode != 0


TEMPLATE = """<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>
<CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>
<SignatureMethod Algorithm="{method}"/>
<Reference URI=""><Transforms><Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>
<Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></Transforms>
<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo>
<SignatureValue/><KeyInfo><X509Data/></KeyInfo></Signature>"""


@pytest.mark.parametrize(("key", "cert", "method"), [
    (RSA_KEY, RSA_CERT, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"),
    (EC_KEY, EC_CERT, "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256")], ids=["rsa", "ecdsa"])
def test_we_verify_what_xmlsec1_signs(tmp_path: Path, key: bytes, cert: bytes, method: str) -> None:
    binary = xmlsec1()
    text = AMBER.read_text(encoding="utf-8")
    (tmp_path / "template.xml").write_text(text.replace("</alert>", TEMPLATE.format(method=method) + "</alert>"))
    (tmp_path / "key.pem").write_bytes(key)
    (tmp_path / "cert.pem").write_bytes(cert)
    done = subprocess.run([binary, "--sign", "--privkey-pem", f"{tmp_path / 'key.pem'},{tmp_path / 'cert.pem'}",
                           "--output", str(tmp_path / "signed.xml"), str(tmp_path / "template.xml")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    signed = (tmp_path / "signed.xml").read_bytes()
    verdict = capsign.verify(signed, trusted_pem=cert)
    assert verdict.valid and verdict.trusted, verdict
    assert capsign.verify(signed.replace(b"Immediate", b"Past"), trusted_pem=cert).status == capsign.INVALID


@settings(max_examples=80, deadline=None)
@given(st.binary(max_size=600) | st.text(max_size=600).map(str.encode))
def test_property_any_document_gets_a_verdict_never_an_error(data: bytes) -> None:
    assert capsign.verify(data).status in (capsign.UNSIGNED, capsign.VALID, capsign.INVALID)


GOOGLE = EXAMPLES / "google_cap-library_earthquake-iso8859-1.cap"

INCLUSIVE = """<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo><CanonicalizationMethod
 Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"/><SignatureMethod
 Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><Reference URI=""><Transforms><Transform
 Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></Transforms><DigestMethod
 Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue/></Reference></SignedInfo><SignatureValue/>
<KeyInfo><KeyValue/></KeyInfo></Signature>"""


def test_a_real_senders_inclusive_c14n_signature_verifies_as_xmlsec1_says(tmp_path: Path) -> None:
    """Google's CAP library signs with inclusive C14N, the XML-DSig namespace as the default and a bare RSA
    key (the sample from its repository, signed by USGS's feed). xmlsec1 says it holds; so must we: lxml
    alone renders its SignedInfo with a spurious xmlns="" and called it forged."""
    binary = xmlsec1()
    original = GOOGLE.read_bytes()
    done = subprocess.run([binary, "--verify", str(GOOGLE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    verdict = capsign.verify(original)
    assert verdict.valid and not verdict.trusted and not verdict.signer, verdict
    assert "bare key" in verdict.reason
    changed = original.replace(b"<severity>Unknown</severity>", b"<severity>Extreme</severity>")
    assert changed != original
    assert capsign.verify(changed).reason.startswith("digest mismatch")
    # a bare key is nobody's certificate: asked to trust ours, or an authority, it does not hold
    assert capsign.verify(original, trusted_pem=RSA_CERT).reason.startswith("certificate not trusted")
    assert capsign.verify(original, ca_pem=RSA_CERT).reason.startswith("certificate not trusted")


def test_an_inclusive_c14n_bare_key_signature_by_xmlsec1_is_trusted_only_for_its_own_key(tmp_path: Path) -> None:
    binary = xmlsec1()
    text = AMBER.read_text(encoding="utf-8")
    (tmp_path / "template.xml").write_text(text.replace("</alert>", INCLUSIVE + "</alert>"))
    (tmp_path / "key.pem").write_bytes(RSA_KEY)
    done = subprocess.run([binary, "--sign", "--privkey-pem", str(tmp_path / "key.pem"), "--output",
                           str(tmp_path / "signed.xml"), str(tmp_path / "template.xml")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    signed = (tmp_path / "signed.xml").read_bytes()
    assert b"<Modulus>" in signed and b"X509Certificate" not in signed
    assert capsign.verify(signed).valid
    mine = capsign.verify(signed, trusted_pem=RSA_CERT)
    assert mine.valid and mine.trusted, mine
    assert capsign.verify(signed, trusted_pem=EC_CERT).reason.startswith("certificate not trusted")
    _, other_cert = capsign.keygen("Bukan kami")
    assert capsign.verify(signed, trusted_pem=other_cert).reason.startswith("certificate not trusted")
    assert capsign.verify(signed.replace(b"Immediate", b"Past"), trusted_pem=RSA_CERT).status == capsign.INVALID
