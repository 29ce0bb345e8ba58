"""``siaga audit verify`` walks the audit log's hash chain and says where it is broken; ``siaga audit seal``
seals rows left unsealed (a process that died between commit and seal). Exit status 1 when the chain is
broken, so a cron job or a monitoring check can alert on it."""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "The audit log's hash chain: verify it, or seal what is left unsealed."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True)
        verify = verbs.add_parser("verify", help="check every seal against its row and the one before it")
        verify.add_argument("--json", action="store_true", help="print the report as one JSON object")
        verify.add_argument("--no-seal", action="store_true",
                            help="do not seal unsealed rows first (a read-only check)")
        verbs.add_parser("seal", help="seal every audit row that has no seal yet")

    def handle(self, *args: Any, **options: Any) -> None:
        from siaga.core.auditchain import seal_pending, verify

        if options["verb"] == "seal":
            self.stdout.write(f"sealed {seal_pending('all')} audit row(s)")
            return
        sealed = 0 if options["no_seal"] else seal_pending("all")
        report = verify()
        if options["json"]:
            self.stdout.write(json.dumps({"ok": report.ok, "rows": report.rows, "seals": report.seals,
                                          "sealed_now": sealed, "unsealed": report.unsealed, "head": report.head,
                                          "problems": report.problems}))
        else:
            state = "intact" if report.ok else "BROKEN"
            self.stdout.write(f"audit chain {state}: {report.seals} seal(s) over {report.rows} row(s), "
                              f"{report.unsealed} unsealed, {sealed} sealed just now")
            self.stdout.write(f"head: {report.head or '-'}")
            for problem in report.problems:
                self.stdout.write(f"  {problem}")
        if not report.ok:
            sys.exit(1)
