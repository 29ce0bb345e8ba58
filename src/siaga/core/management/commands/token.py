"""siaga token create USERNAME --name NAME [--days N] | siaga token revoke USERNAME --name NAME."""

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from siaga.core import audit
from siaga.core.errors import LazyText
from siaga.core.models import ApiToken
from siaga.core.roles import Principal


class Command(BaseCommand):
    help = "Issue or revoke a user's API token (the clear text is shown once)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        create = sub.add_parser("create", help="issue a token")
        create.add_argument("username")
        create.add_argument("--name", required=True)
        create.add_argument("--days", type=int, default=None, help="expire after N days")
        revoke = sub.add_parser("revoke", help="revoke tokens by name")
        revoke.add_argument("username")
        revoke.add_argument("--name", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(str(LazyText(pgettext_lazy("cli", "no user {value!r}"), value=options['username'])))
        actor = Principal.system("system:cli")
        if options["verb"] == "create":
            expires = timezone.now() + timedelta(days=options["days"]) if options["days"] else None
            token, key = ApiToken.issue(user, options["name"], expires)
            audit.record(actor, "token.create", token, after={"user": user.username, "name": token.name})
            self.stdout.write(key)
        else:
            now = timezone.now()
            count = 0
            for token in ApiToken.objects.filter(user=user, name=options["name"], revoked_at__isnull=True):
                token.revoked_at = now
                token.save(update_fields=["revoked_at"])
                audit.record(actor, "token.revoke", token)
                count += 1
            self.stdout.write(str(LazyText(pgettext_lazy("cli", "revoked {count} token(s)"), count=count)))
