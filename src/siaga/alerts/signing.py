"""Signing the CAP messages we issue, and checking other senders' signatures (:mod:`siaga.formats.capsign`).

The key and certificate are PEM files named by ``SIAGA_CAP_SIGNING_KEY_FILE`` and
``SIAGA_CAP_SIGNING_CERT_FILE``, never in the repository. Outside production a self-signed pair is made
under ``<var>/cap/`` the first time one is needed, so the demo and the tests sign too; in production a
missing or broken pair is an error of ``siaga check --deploy``. A warning is never held back for its
signature: if signing fails, the message goes out unsigned and the failure is logged as an error.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from pathlib import Path

from django.conf import settings

from siaga.formats import capsign

log = logging.getLogger("siaga.alerts")
_lock = threading.Lock()


def default_paths() -> tuple[Path, Path]:
    folder = Path(settings.VAR_DIR) / "cap"
    return folder / "signing-key.pem", folder / "signing-cert.pem"


def paths() -> tuple[Path, Path] | None:
    """Where the key and the certificate are (None: production without them)."""
    if settings.CAP_SIGNING_KEY_FILE and settings.CAP_SIGNING_CERT_FILE:
        return Path(settings.CAP_SIGNING_KEY_FILE), Path(settings.CAP_SIGNING_CERT_FILE)
    if settings.ENVIRONMENT == "production":
        return None
    key_path, cert_path = default_paths()
    with _lock:
        if not key_path.exists() or not cert_path.exists():
            key, cert = capsign.keygen(f"{settings.CAP_SENDER_NAME} (uji, bukan untuk produksi)")
            key_path.parent.mkdir(parents=True, exist_ok=True)
            key_path.write_bytes(key)
            key_path.chmod(0o600)
            cert_path.write_bytes(cert)
            log.warning("CAP signing: made a self-signed key and certificate in %s (not for production)",
                        key_path.parent)
    return key_path, cert_path


@lru_cache(maxsize=4)
def _pair(key_path: str, cert_path: str) -> tuple[bytes, bytes]:
    return Path(key_path).read_bytes(), Path(cert_path).read_bytes()


def pair() -> tuple[bytes, bytes]:
    """(key, certificate) PEM; raises OSError / SigningError when they cannot be had."""
    found = paths()
    if found is None:
        raise capsign.SigningError("SIAGA_CAP_SIGNING_KEY_FILE and SIAGA_CAP_SIGNING_CERT_FILE are not set")
    return _pair(str(found[0]), str(found[1]))


def certificate() -> bytes:
    return pair()[1]


def sign(xml: bytes) -> bytes:
    """``xml`` signed with our key; unsigned (and an error logged) when it cannot be signed."""
    try:
        key, cert = pair()
        return capsign.sign(xml, key, cert)
    except (OSError, capsign.SigningError) as exc:
        log.error("CAP message sent UNSIGNED: %s", exc)
        return xml


def trusted() -> list[bytes]:
    out = []
    for name in settings.CAP_TRUSTED_CERTS:
        try:
            out.append(Path(name).read_bytes())
        except OSError as exc:
            log.error("SIAGA_CAP_TRUSTED_CERTS: %s cannot be read: %s", name, exc)
    return out


def check(xml: bytes) -> capsign.Verdict:
    """Another sender's signature: valid and trusted when one of SIAGA_CAP_TRUSTED_CERTS is its certificate
    or its issuer (a bare key: when it is the key of one of them), valid (not trusted) when it holds for the
    certificate or key it carries."""
    verdict = capsign.verify(xml)
    if verdict.status != capsign.VALID:
        return verdict
    for pem in trusted():
        pinned = capsign.verify(xml, trusted_pem=pem)
        if pinned.valid:
            return pinned
        issued = capsign.verify(xml, ca_pem=pem)
        if issued.valid:
            return issued
    return verdict
