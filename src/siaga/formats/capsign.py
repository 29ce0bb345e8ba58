"""Signed CAP: an enveloped XML Signature (XML-DSig) over the whole alert, with the signer's certificate.

CAP 1.2 lets an alert end with ``<Signature>`` elements of the XML-DSig namespace (its schema's ``any``),
and that is how the US tsunami warning centres and WMO's cap-composer sign: the signature covers the
whole ``<alert>`` (``URI=""`` with the enveloped-signature transform), so a receiver can prove that nothing
was changed since and who signed it. Here: RSA-SHA256 for an RSA key, ECDSA-SHA256 for an EC key, SHA-256
digests, exclusive canonicalisation, the X.509 certificate in ``KeyInfo`` (signxml does the XML-DSig;
``xmlsec1``, an independent implementation, reads what we make and we read what it makes, in the tests).

:func:`verify` says which of four things a document is: unsigned; signed and valid (the signature and the
digest hold for the certificate it carries, and, when given, that certificate is the trusted one or is
issued by a trusted authority); signed but invalid, naming what failed (the digest: the alert was changed
after signing; the signature; the certificate: not the trusted one).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
from dataclasses import dataclass

from lxml import etree
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod
from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
from signxml.signer import XMLSigner
from signxml.verifier import SignatureConfiguration, XMLVerifier

from siaga.formats import xmlsafe
from siaga.formats.errors import FormatError

DSIG = "http://www.w3.org/2000/09/xmldsig#"
UNSIGNED, VALID, INVALID = "unsigned", "valid", "invalid"


class SigningError(ValueError):
    """A key or certificate that cannot sign (unreadable, not a pair, an unsupported kind of key)."""


@dataclass(frozen=True)
class Verdict:
    status: str  # unsigned | valid | invalid
    reason: str = ""  # what failed (invalid), or "" (valid, unsigned)
    signer: str = ""  # the certificate's subject
    fingerprint: str = ""  # SHA-256 of the certificate (DER), hex
    trusted: bool = False  # checked against a trusted certificate or authority, and it held

    @property
    def valid(self) -> bool:
        return self.status == VALID


def _private_key(key_pem: bytes) -> object:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"the signing key is not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise SigningError(f"the signing key is {type(key).__name__}; an RSA or EC key is needed")
    return key


def _certificate(cert_pem: bytes) -> object:
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise SigningError(f"the certificate is not a PEM X.509 certificate: {exc}") from None


def _without_signatures(root: etree._Element) -> etree._Element:
    for old in root.findall(f"{{{DSIG}}}Signature"):
        root.remove(old)
    return root


def sign(xml: bytes, key_pem: bytes, cert_pem: bytes) -> bytes:
    """``xml`` (a CAP alert) with an enveloped signature by ``key_pem`` and ``cert_pem`` in place of any it had."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = _private_key(key_pem)
    certificate = _certificate(cert_pem)
    if certificate.public_key().public_numbers() != key.public_key().public_numbers():  # type: ignore[attr-defined]
        raise SigningError("the certificate is not the signing key's (their public keys differ)")
    try:
        root = xmlsafe.parse(xml, "CAP", exact=True)
    except FormatError as exc:
        raise SigningError(f"not XML that can be signed: {exc.message}") from None
    method = SignatureMethod.ECDSA_SHA256 if isinstance(key, ec.EllipticCurvePrivateKey) else SignatureMethod.RSA_SHA256
    signer = XMLSigner(signature_algorithm=method, digest_algorithm=DigestAlgorithm.SHA256,
                       c14n_algorithm=CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0)
    signed = signer.sign(_without_signatures(root), key=key, cert=cert_pem.decode())  # type: ignore[arg-type]
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def is_signed(xml: bytes) -> bool:
    try:
        root = xmlsafe.parse(xml, "CAP", exact=True)
    except FormatError:
        return False
    return root.find(f"{{{DSIG}}}Signature") is not None


def _subject(cert: object) -> str:
    return cert.subject.rfc4514_string()  # type: ignore[attr-defined,no-any-return]


def _fingerprint(cert: object) -> str:
    from cryptography.hazmat.primitives import serialization

    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()  # type: ignore[attr-defined]


def verify(xml: bytes, *, trusted_pem: bytes | None = None, ca_pem: bytes | None = None,
           at: dt.datetime | None = None) -> Verdict:
    """Whether ``xml`` is unsigned, signed and valid, or signed but invalid (and why).

    ``trusted_pem``: the signer's certificate as we know it (the signature must be made with exactly that
    one); ``ca_pem``: authorities that may have issued the signer's certificate. Without either, a signature
    that holds for the certificate it carries is valid but not ``trusted``."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature as KeyMismatch

    try:
        root = xmlsafe.parse(xml, "CAP", exact=True)
    except FormatError as exc:
        return Verdict(INVALID, f"not XML: {exc.message}")
    signatures = root.findall(f"{{{DSIG}}}Signature")
    if not signatures:
        return Verdict(UNSIGNED)
    if len(signatures) > 1:
        return Verdict(INVALID, f"{len(signatures)} signatures; one over the whole alert is expected")
    carried = signatures[0].findtext(f".//{{{DSIG}}}X509Certificate")
    if not carried:
        return _bare_key(root, trusted_pem=trusted_pem, ca_pem=ca_pem)
    try:
        embedded = x509.load_der_x509_certificate(base64.b64decode("".join(carried.split())))
    except (ValueError, binascii.Error) as exc:
        return Verdict(INVALID, f"the certificate in the signature cannot be read: {exc}")
    signer, fingerprint = _subject(embedded), _fingerprint(embedded)
    if trusted_pem is not None:
        trusted = x509.load_pem_x509_certificate(trusted_pem)
        if _fingerprint(trusted) != fingerprint:
            return Verdict(INVALID, f"certificate not trusted: the alert is signed by {signer}, not by the "
                                    f"trusted {_subject(trusted)}", signer, fingerprint)
    options: dict[str, object] = {"x509_cert": embedded}
    authorities = None
    if ca_pem is not None and trusted_pem is None:
        import tempfile

        authorities = tempfile.NamedTemporaryFile(suffix=".pem")  # noqa: SIM115 (signxml reads a file)
        authorities.write(ca_pem)
        authorities.flush()
        options = {"ca_pem_file": authorities.name}
    try:
        config = _Verifier().verify(root, expect_config=_config(at), **options)  # type: ignore[arg-type]
    except InvalidDigest as exc:
        return Verdict(INVALID, f"digest mismatch: the alert was changed after it was signed ({exc})", signer,
                       fingerprint)
    except InvalidCertificate as exc:
        return Verdict(INVALID, f"certificate not trusted: {exc}", signer, fingerprint)
    except (InvalidSignature, KeyMismatch) as exc:
        return Verdict(INVALID, f"the signature does not match the certificate{_detail(exc)}", signer, fingerprint)
    except InvalidInput as exc:
        return Verdict(INVALID, f"the signature cannot be read: {exc}", signer, fingerprint)
    finally:
        if authorities is not None:
            authorities.close()
    del config
    return Verdict(VALID, "", signer, fingerprint, trusted=trusted_pem is not None or ca_pem is not None)


def _detail(exc: Exception) -> str:
    return f" ({exc})" if str(exc) else ""


def _bare_key(root: etree._Element, *, trusted_pem: bytes | None = None,
              ca_pem: bytes | None = None) -> Verdict:
    """A signature with only a key (``KeyValue``), no certificate: it can be checked, but it names nobody
    (older senders, e.g. SHA-1 signatures made with Google's CAP library). Asked to trust a certificate,
    it holds only when its key is that certificate's key; no authority can have issued a bare key."""

    if root.find(f"{{{DSIG}}}Signature//{{{DSIG}}}KeyValue") is None:
        return Verdict(INVALID, "the signature carries neither a certificate nor a key")
    if ca_pem is not None and trusted_pem is None:
        return Verdict(INVALID, "certificate not trusted: the signature carries a bare key, no certificate an "
                                "authority could have issued")
    if trusted_pem is not None:
        from cryptography import x509

        trusted = x509.load_pem_x509_certificate(trusted_pem)
        if _key_value(root) != trusted.public_key().public_numbers():  # type: ignore[union-attr]
            return Verdict(INVALID, f"certificate not trusted: the signature's bare key is not the key of the "
                                    f"trusted {_subject(trusted)}")
    config = SignatureConfiguration(require_x509=False, expect_references=1,
                                    signature_methods=frozenset(SignatureMethod),
                                    digest_algorithms=frozenset(DigestAlgorithm))
    from cryptography.exceptions import InvalidSignature as KeyMismatch

    try:
        _Verifier().verify(root, expect_config=config)
    except InvalidDigest as exc:
        return Verdict(INVALID, f"digest mismatch: the alert was changed after it was signed ({exc})")
    except (InvalidSignature, InvalidInput, KeyMismatch) as exc:
        return Verdict(INVALID, f"the signature does not match its key{_detail(exc)}; it carries no certificate")
    if trusted_pem is not None:
        return Verdict(VALID, "signed with a bare key: the trusted certificate's", trusted=True)
    return Verdict(VALID, "signed with a bare key and no certificate: the signer is not named")


def _key_value(root: etree._Element) -> object:
    """The public numbers of the signature's ``RSAKeyValue`` (None for any other kind of bare key)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    value = root.find(f"{{{DSIG}}}Signature//{{{DSIG}}}RSAKeyValue")
    if value is None:
        return None
    try:
        modulus, exponent = (int.from_bytes(base64.b64decode("".join((value.findtext(f"{{{DSIG}}}{name}") or "")
                                                                     .split())), "big")
                             for name in ("Modulus", "Exponent"))
    except (ValueError, binascii.Error):
        return None
    return rsa.RSAPublicNumbers(exponent, modulus)


class _Verifier(XMLVerifier):
    """signxml's verifier, with SignedInfo canonicalised as other implementations do.

    Under inclusive canonicalisation (C14N 1.0, what Google's CAP library and many Java signers use),
    lxml renders a ``SignedInfo`` cut out of its document with a spurious ``xmlns=""`` on elements two
    levels down when the signature uses the XML-DSig namespace as its default (seen on the Google sample:
    ``<Transforms xmlns="">``), so a signature that ``xmlsec1`` verifies fails here. Every element of
    ``SignedInfo`` is in the XML-DSig namespace, so such a declaration can only be that artefact: it is
    removed there, and only there. The signed content (the reference) is canonicalised untouched: an
    ``xmlns=""`` in the alert itself changes what an element means and must keep breaking the digest.
    """

    def _c14n(self, nodes, algorithm, inclusive_ns_prefixes=None):  # type: ignore[no-untyped-def]
        out = super()._c14n(nodes, algorithm, inclusive_ns_prefixes=inclusive_ns_prefixes)
        first = nodes[0] if isinstance(nodes, list) and nodes else nodes
        exclusive = algorithm.value.startswith("http://www.w3.org/2001/10/xml-exc-c14n#")
        if not exclusive and getattr(first, "tag", None) == f"{{{DSIG}}}SignedInfo":
            out = out.replace(b' xmlns=""', b"")
        return out


def _config(at: dt.datetime | None) -> object:

    return SignatureConfiguration(expect_references=1, verification_time=at)


def keygen(common_name: str, *, days: int = 730, elliptic: bool = False,
           now: dt.datetime | None = None) -> tuple[bytes, bytes]:
    """(key PEM, self-signed certificate PEM) for signing CAP: for a test or a first deployment; a city
    should sign with a certificate its partners can check (issued by an authority they trust)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1()) if elliptic else rsa.generate_private_key(65537, 3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "ID")])
    start = (now or dt.datetime.now(dt.UTC)) - dt.timedelta(minutes=5)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(start)
                   .not_valid_after(start + dt.timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                                key_encipherment=False, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=False, crl_sign=False,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
                   .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM)
