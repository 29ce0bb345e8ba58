"""``siaga audit verify [--expect HEAD]`` walks the audit log's hash chain and says where it is broken (it
never seals anything); ``siaga audit head`` prints the head to keep outside the database; ``siaga audit
seal`` seals rows left unsealed (a process that died between commit and seal), after a person has checked
what verify reported. Exit status 1 when the chain is broken, 2 when HEAD is not a head, so a cron job or a
monitoring check can alert on it."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import pgettext_lazy

from siaga.core.errors import LazyText


def write_report(stdout: Any, report: Any) -> None:
    """A verify report as a person reads it (`siaga audit verify`, and the end of `siaga restore`)."""
    state = "intact" if report.ok else "BROKEN"
    stdout.write(str(LazyText(
        pgettext_lazy("cli", "audit chain {state}: {seals} seal(s) over {rows} row(s), {unsealed} unsealed"),
        state=state, seals=report.seals, rows=report.rows, unsealed=report.unsealed)))
    stdout.write(str(LazyText(pgettext_lazy("cli", "head: {anchor}"), anchor=report.anchor)))
    for problem in report.problems:
        stdout.write(f"  {problem}")


class Command(BaseCommand):
    help = "The audit log's hash chain: verify it, or seal what is left unsealed."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        verify = verbs.add_parser("verify", help="check every seal against its row and the one before it")
        verify.add_argument("--json", action="store_true", help="print the report as one JSON object")
        verify.add_argument("--expect", metavar="HEAD",
                            help="a head kept earlier (`siaga audit head`, or a daily report's seal:hash): the "
                                 "chain must still pass through it")
        verify.add_argument("--no-seal", action="store_true",
                            help="accepted for older cron lines: verify never seals any more")
        verbs.add_parser("head", help="print the chain's head as SEAL:HASH, to keep outside the database")
        verbs.add_parser("seal", help="seal every audit row that has no seal yet")

    def handle(self, *args: Any, **options: Any) -> None:
        from siaga.core.auditchain import last_seal_anchor, parse_anchor, seal_pending, verify
        from siaga.core.models import AuditChainHead

        if options["verb"] == "seal":
            self.stdout.write(str(LazyText(
                pgettext_lazy("cli", "sealed {seal_pending} audit row(s)"), seal_pending=seal_pending('all'))))
            return
        if options["verb"] == "head":
            anchor = last_seal_anchor()
            recorded = AuditChainHead.objects.filter(name="default").values_list("last_hash", flat=True).first()
            if anchor != "0:" and recorded not in (None, anchor.split(":", 1)[1]):
                self.stderr.write(str(
                    pgettext_lazy("cli", "the chain head and the last seal disagree: run `siaga audit verify`")))
                sys.exit(1)
            self.stdout.write(anchor)
            return
        if options["expect"]:
            try:
                parse_anchor(options["expect"])
            except ValueError as exc:
                self.stderr.write(str(exc))
                sys.exit(2)
        report = verify(expect=options["expect"])
        if options["json"]:
            self.stdout.write(json.dumps({"ok": report.ok, "rows": report.rows, "seals": report.seals,
                                          "unsealed": report.unsealed, "head": report.head,
                                          "anchor": report.anchor, "problems": report.problems}))
        else:
            write_report(self.stdout, report)
        if not report.ok:
            sys.exit(1)
