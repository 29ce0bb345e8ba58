"""siaga load-demo: demo users (one per role) and demo PBX / AML integrations. Never in production."""

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import pgettext_lazy

from siaga.core.errors import LazyText
from siaga.runtime.demo import DEMO_USERS, credentials_path, load_demo


class Command(BaseCommand):
    help = "Create the demo logins and integrations (refused when SIAGA_ENV=production)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            load_demo()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(str(pgettext_lazy("cli", "demo logins (for the demo only):"))))
        for username, role, agency, _ext, password in DEMO_USERS:
            suffix = f", {agency}" if agency else ""
            self.stdout.write(f"  {username:<11} {password:<22} ({role}{suffix})")
        self.stdout.write(str(LazyText(
            pgettext_lazy("cli", "demo tokens written to {credentials_path}"), credentials_path=credentials_path())))
