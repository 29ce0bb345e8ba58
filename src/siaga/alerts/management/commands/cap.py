"""``siaga cap validate FILE [--verify [--cert CERT]]``, ``siaga cap sign``, ``siaga cap keygen`` and
``siaga cap from-bmkg FILE``.

validate: exit 0 for a valid CAP 1.2 message, 1 with every problem listed (one per line, with the element
it is about); with ``--verify`` also the signature (exit 1 naming what failed: no signature, a digest that
does not match, a signature that does not match, a certificate that is not the trusted one). sign: an
enveloped XML-DSig with a PEM key and certificate. keygen: a self-signed key and certificate for a test or a
first deployment. from-bmkg: print the CAP alert this system would issue for the first quake in a BMKG /
InaTEWS / USGS file (exit 1 when the file cannot be read; a quake that shows nothing prints a note on
standard error and exits 0 with no output, as nothing would be issued).
"""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core.errors import LazyText
from siaga.formats import cap, capsign, feeds, googlecap
from siaga.formats.errors import FormatError


class Command(BaseCommand):
    help = "CAP 1.2: validate messages, or show the alert issued for a BMKG record."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        validate = sub.add_parser("validate", help="check a CAP 1.2 message against the XSD and the spec's rules")
        validate.add_argument("files", nargs="+", metavar="FILE")
        validate.add_argument("--quiet", "-q", action="store_true", help="print problems only")
        validate.add_argument("--verify", action="store_true", help="also check the XML signature")
        validate.add_argument("--cert", help="with --verify: the certificate the signature must be made with (PEM)")
        validate.add_argument("--google", action="store_true",
                              help="also what Google Public Alerts asks beyond CAP 1.2 (areaDesc, polygons, languages)")
        signer = sub.add_parser("sign", help="sign a CAP message (enveloped XML-DSig)")
        signer.add_argument("file", metavar="IN.xml")
        signer.add_argument("--key", required=True, help="the private key (PEM, unencrypted)")
        signer.add_argument("--cert", required=True, help="its X.509 certificate (PEM)")
        signer.add_argument("--out", required=True, help="where to write the signed message ('-': standard output)")
        keygen = sub.add_parser("keygen", help="make a self-signed signing key and certificate")
        keygen.add_argument("--out", required=True, help="folder for signing-key.pem and signing-cert.pem")
        keygen.add_argument("--name", default="", help="the certificate's name (default: SIAGA_CAP_SENDER_NAME)")
        keygen.add_argument("--days", type=int, default=730)
        keygen.add_argument("--ec", action="store_true", help="an EC P-256 key (ECDSA) instead of RSA 3072")
        build = sub.add_parser("from-bmkg", help="print the CAP alert for the first quake in a feed file")
        build.add_argument("file", metavar="FILE")
        build.add_argument("--exercise", action="store_true", help="as an exercise (status Exercise)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "validate":
            self.validate(options["files"], options["quiet"], options["verify"], options["cert"], options["google"])
        elif options["verb"] == "sign":
            self.sign(options["file"], options["key"], options["cert"], options["out"])
        elif options["verb"] == "keygen":
            self.keygen(options["out"], options["name"], options["days"], options["ec"])
        else:
            self.from_bmkg(options["file"], options["exercise"])

    def _read(self, name: str) -> bytes:
        try:
            return sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
        except OSError as exc:
            self.stderr.write(str(LazyText(
                pgettext_lazy("cli", "siaga cap: {name}: cannot read ({value})"), name=name,
                value=exc.strerror or exc)))
            sys.exit(1)

    def validate(self, names: list[str], quiet: bool, verify: bool = False, cert: str | None = None,
                 google: bool = False) -> None:
        failed = False
        trusted = self._read(cert) if cert else None
        for name in names:
            data = self._read(name)
            problems = cap.validate(data)
            if google and not problems:
                findings = googlecap.findings(data)
                if findings:
                    failed = True
                    self.stdout.write(str(LazyText(pgettext_lazy(
                        "cli", "{name}: not as Google Public Alerts asks ({count} finding(s))"), name=name,
                        count=len(findings))))
                    for finding in findings:
                        self.stdout.write(f"  {finding}")
            if verify:
                verdict = capsign.verify(data, trusted_pem=trusted)
                if verdict.status == capsign.UNSIGNED:
                    failed = True
                    self.stdout.write(str(LazyText(pgettext_lazy("cli", "{name}: NOT signed (no XML signature)"),
                                                   name=name)))
                elif not verdict.valid:
                    failed = True
                    self.stdout.write(str(LazyText(pgettext_lazy("cli", "{name}: signature NOT valid: {reason}"),
                                                   name=name, reason=verdict.reason)))
                elif not quiet and not verdict.signer:
                    self.stdout.write(str(LazyText(
                        pgettext_lazy("cli", "{name}: signature valid, made with a bare key and no certificate{note}"),
                        name=name, note=str(pgettext_lazy("cli", ": the trusted certificate's key")) if verdict.trusted
                        else str(pgettext_lazy("cli", ": the signer is not named")))))
                elif not quiet:
                    self.stdout.write(str(LazyText(
                        pgettext_lazy("cli", "{name}: signature valid, by {signer} (SHA-256 {fingerprint}){note}"),
                        name=name, signer=verdict.signer or "?", fingerprint=verdict.fingerprint[:16] or "-",
                        note="" if verdict.trusted else str(pgettext_lazy("cli", "; no trusted certificate given")))))
            if problems:
                failed = True
                plural = "s" if len(problems) > 1 else ""
                self.stdout.write(str(LazyText(
                    pgettext_lazy("cli", "{name}: NOT valid CAP 1.2 ({len} problem{plural})"), name=name,
                    len=len(problems), plural=plural)))
                for problem in problems:
                    self.stdout.write(f"  {problem}")
            elif not quiet:
                self.stdout.write(str(LazyText(pgettext_lazy("cli", "{name}: valid CAP 1.2"), name=name)))
        if failed:
            sys.exit(1)

    def sign(self, name: str, key: str, cert: str, out: str) -> None:
        try:
            signed = capsign.sign(self._read(name), self._read(key), self._read(cert))
        except capsign.SigningError as exc:
            self.stderr.write(str(LazyText(pgettext_lazy("cli", "siaga cap: {name}: cannot sign: {problem}"),
                                           name=name, problem=exc)))
            sys.exit(1)
        if out == "-":
            sys.stdout.buffer.write(signed)
            sys.stdout.flush()
            return
        Path(out).write_bytes(signed)
        self.stdout.write(str(LazyText(pgettext_lazy("cli", "signed: {out}"), out=out)))

    def keygen(self, folder: str, name: str, days: int, elliptic: bool) -> None:
        from django.conf import settings

        target = Path(folder)
        key_path, cert_path = target / "signing-key.pem", target / "signing-cert.pem"
        if key_path.exists() or cert_path.exists():
            self.stderr.write(str(LazyText(pgettext_lazy("cli", "siaga cap: {path} exists; it is not replaced"),
                                           path=key_path if key_path.exists() else cert_path)))
            sys.exit(1)
        key, cert = capsign.keygen(name or settings.CAP_SENDER_NAME, days=days, elliptic=elliptic)
        target.mkdir(parents=True, exist_ok=True)
        key_path.write_bytes(key)
        key_path.chmod(0o600)
        cert_path.write_bytes(cert)
        self.stdout.write(f"key: {key_path}")
        self.stdout.write(f"certificate: {cert_path}")

    def from_bmkg(self, name: str, exercise: bool) -> None:
        from siaga.alerts.actions import preview

        try:
            readings = feeds.read(self._read(name))
        except FormatError as exc:
            field = f" (field {exc.field})" if exc.field else ""
            self.stderr.write(str(LazyText(
                pgettext_lazy("cli", "siaga cap: {name}{field_}: {message_}"), name=name, field_=field,
                message_=exc.message)))
            sys.exit(1)
        if not readings:
            self.stderr.write(str(LazyText(pgettext_lazy("cli", "siaga cap: {name}: no quake in the file"), name=name)))
            sys.exit(1)
        xml = preview(readings[0], exercise=exercise)
        if xml is None:
            self.stderr.write(str(LazyText(
                pgettext_lazy("cli", "siaga cap: {name}: this quake shows nothing in {value}: no alert is issued"),
                name=name, value=self._city())))
            return
        sys.stdout.buffer.write(xml)
        sys.stdout.flush()

    def _city(self) -> str:
        from django.conf import settings

        return str(settings.CITY_NAME)
