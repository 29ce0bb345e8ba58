"""Demo logins and integrations for ``make run``: one user per role, a PBX and an AML provider.

Refused in production. Passwords are documented in the README and are for the demo only; the tokens are
new on every run and written to var/demo/credentials.json (readable by the owner only).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from siaga.core import audit
from siaga.core.models import Agency, ApiToken, Integration, UserProfile
from siaga.core.roles import Principal

# username, role group, agency code, PBX extension, password (demo only)
DEMO_USERS = [
    ("operator", "operator", None, "2001", "demo-operator-112"),
    ("supervisor", "supervisor", None, "2000", "demo-supervisor-112"),
    ("damkar", "agency", "damkar", None, "demo-damkar-112"),
    ("wall", "wall", None, None, "demo-wall-112"),
    ("admin", "admin", None, None, "demo-admin-112"),
]
# the names people see (the roster, the wall, handovers) instead of the login names
DEMO_NAMES = {"operator": ("Operator", "Demo"), "supervisor": ("Supervisor", "Demo"), "damkar": ("Petugas", "Damkar"),
              "wall": ("Layar", "CC"), "admin": ("Admin", "Demo")}


def credentials_path() -> Path:
    return Path(settings.VAR_DIR) / "demo" / "credentials.json"


# Fictitious numbers for the demo's SMS crews and subscribers (never loaded in production)
DEMO_CREWS = [("damkar", "Regu 1 Damkar", "+6281299000101"), ("polres", "Piket Polres", "+6281299000201"),
              ("psc119", "Ambulans PSC 119", "+6281299000301"), ("bpbd", "TRC BPBD", "+6281299000401")]


def _demo_sms() -> None:
    """A crew number per main agency and two SMS subscribers per kecamatan (an RT head, a siren keeper)."""
    from siaga.core.models import Kecamatan
    from siaga.sms.models import CrewMember, Subscriber

    for code, name, number in DEMO_CREWS:
        CrewMember.objects.get_or_create(phone=number, defaults={"agency": Agency.objects.get(code=code),
                                                                 "name": name})
    for index, kecamatan in enumerate(Kecamatan.objects.order_by("code"), start=1):
        for serial, (kind, label) in enumerate((("rtrw", "Ketua RT"), ("sirine", "Penjaga sirene")), start=1):
            Subscriber.objects.get_or_create(phone=f"+62812990010{index}{serial}", defaults={
                "kecamatan": kecamatan, "kind": kind, "name": f"{label} {kecamatan.name}", "source": "admin"})


@transaction.atomic
def load_demo() -> dict[str, Any]:
    if settings.ENVIRONMENT == "production":
        raise ImproperlyConfigured("demo users are never created in production (SIAGA_ENV=production)")
    user_model = get_user_model()
    system = Principal.system("system:load-demo")
    for username, role, agency_code, extension, password in DEMO_USERS:
        user, created = user_model.objects.get_or_create(username=username)
        if created:
            user.set_password(password)
        if not user.first_name:
            user.first_name, user.last_name = DEMO_NAMES[username]
        user.is_staff = role == "admin"
        user.is_superuser = role == "admin"
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        agency = Agency.objects.get(code=agency_code) if agency_code else None
        UserProfile.objects.update_or_create(user=user, defaults={"agency": agency, "extension": extension})
        if created:
            audit.record(system, "demo.user", user, object_type="auth.user", after={"role": role})
    pbx, _ = Integration.objects.get_or_create(name="demo-pbx", defaults={
        "kind": Integration.Kind.PBX, "description": "PBX simulated by `siaga demo calls`"})
    aml_provider, _ = Integration.objects.get_or_create(name="demo-aml", defaults={
        "kind": Integration.Kind.AML, "description": "AML provider simulated by `siaga demo calls`"})
    if not aml_provider.hmac_secret:
        aml_provider.hmac_secret = secrets.token_hex(32)
        aml_provider.save(update_fields=["hmac_secret"])
    supervisor = user_model.objects.get(username="supervisor")
    operator = user_model.objects.get(username="operator")
    ApiToken.objects.filter(user__in=[supervisor, operator], name="demo").delete()
    _, supervisor_token = ApiToken.issue(supervisor, "demo")
    _, operator_token = ApiToken.issue(operator, "demo")
    credentials = {
        "pbx_token": pbx.rotate_token(),
        "aml_token": aml_provider.rotate_token(),
        "aml_hmac_secret": aml_provider.hmac_secret,
        "supervisor_token": supervisor_token,
        "operator_token": operator_token,
    }
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(credentials, indent=2))
    path.chmod(0o600)
    from siaga.shifts.demo import demo_roster

    roster = demo_roster()
    _demo_sms()
    audit.record(system, "demo.load", object_type="demo", object_id="cilegon",
                 after={"users": [u[0] for u in DEMO_USERS], "roster": roster})
    return credentials
