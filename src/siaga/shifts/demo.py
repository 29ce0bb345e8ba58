"""Demo staff and a realistic roster: 4 teams of 3 operators and 4 supervisors rotating through the shifts.

Day d: team d%4 works Pagi, team (d+1)%4 Siang, team (d+2)%4 Malam, one team is off, so nobody works two
shifts in a row and every shift has 3 operators and 1 supervisor. Never in production.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from siaga.core.models import UserProfile
from siaga.shifts import queries
from siaga.shifts.actions import month_bounds
from siaga.shifts.models import RosterEntry, ShiftDefinition

TEAMS = 4
NAMES = ["Ahmad", "Siti", "Budi", "Dewi", "Rizky", "Nur", "Agus", "Fitri", "Hendra", "Lestari", "Yusuf", "Ratna"]
SUPERVISORS = ["Bambang", "Wulan", "Iwan", "Sari"]


def _staff() -> tuple[list[list[int]], list[int]]:
    users = get_user_model()
    operator_group, supervisor_group = Group.objects.get(name="operator"), Group.objects.get(name="supervisor")
    operators: list[list[int]] = [[] for _ in range(TEAMS)]
    supervisors: list[int] = []
    for index, name in enumerate(NAMES):
        user, created = users.objects.get_or_create(username=f"op{index + 1:02d}",
                                                    defaults={"first_name": name, "last_name": "(demo)"})
        if created:
            user.set_unusable_password()
            user.save()
            user.groups.add(operator_group)
            UserProfile.objects.get_or_create(user=user, defaults={"extension": f"21{index + 1:02d}"})
        operators[index % TEAMS].append(user.pk)
    for index, name in enumerate(SUPERVISORS):
        user, created = users.objects.get_or_create(username=f"sup{index + 1:02d}",
                                                    defaults={"first_name": name, "last_name": "(demo)"})
        if created:
            user.set_unusable_password()
            user.save()
            user.groups.add(supervisor_group)
        supervisors.append(user.pk)
    return operators, supervisors


@transaction.atomic
def demo_roster(month: str | None = None) -> list[tuple[str, int]]:
    if settings.ENVIRONMENT == "production":
        raise ImproperlyConfigured("demo staff are never created in production")
    today = timezone.localdate()
    months = [month] if month else [today.strftime("%Y-%m"),
                                    (today.replace(day=28) + timedelta(days=4)).strftime("%Y-%m")]
    operators, supervisors = _staff()
    order = [d.code for d in ShiftDefinition.objects.filter(active=True).order_by("start")]
    # Pagi, Siang, Malam when the day starts in the morning; otherwise in start order.
    results = []
    for wanted in months:
        first, last = month_bounds(wanted)
        added = 0
        day = first
        while day <= last:
            offset = (day - date(2026, 1, 1)).days
            for position, code in enumerate(order[:3]):
                team = (offset + position) % TEAMS
                shift = queries.get_shift(day, ShiftDefinition.objects.get(code=code).pk)
                people = [(uid, "operator") for uid in operators[team]] + [(supervisors[team], "supervisor")]
                for user_id, role in people:
                    _, created = RosterEntry.objects.get_or_create(shift=shift, user_id=user_id,
                                                                   defaults={"role": role})
                    added += created
            day += timedelta(days=1)
        results.append((wanted, added))
    return results
