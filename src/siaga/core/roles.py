"""Who may do what: the roles of Siaga112 and the principal that acts.

Roles are Django groups of the same name (created by ``siaga load-reference``); a superuser is an admin.
Machines (a PBX, an AML provider) act as :class:`Principal` objects with the role of their kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from siaga.core.models import Integration


class Role(StrEnum):
    OPERATOR = "operator"  # call-taker
    SUPERVISOR = "supervisor"  # supervisor / dispatcher
    AGENCY = "agency"  # agency liaison: only its own agency's dispatches
    WALL = "wall"  # command-centre wall: read-only
    ADMIN = "admin"
    PBX = "pbx"  # a PBX posting CTI events
    AML = "aml"  # an AML location provider
    MONITOR = "monitor"  # a monitoring system (Prometheus) reading /metrics, nothing else
    PARTNER = "partner"  # another command centre handing incidents over as EIDO documents


HUMAN_ROLES = (Role.OPERATOR, Role.SUPERVISOR, Role.AGENCY, Role.WALL, Role.ADMIN)
STAFF = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)  # the call centre itself
MANAGERS = (Role.SUPERVISOR, Role.ADMIN)


def user_roles(user: Any) -> frozenset[Role]:
    """The roles of a Django user, cached on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, "_siaga_roles", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    names = set(user.groups.values_list("name", flat=True))
    roles = {role for role in HUMAN_ROLES if role.value in names}
    if user.is_superuser:
        roles.add(Role.ADMIN)
    result = frozenset(roles)
    user._siaga_roles = result
    return result


@dataclass(frozen=True)
class Principal:
    """Whoever makes a request or calls an action: a user, an integration, or the system itself."""

    roles: frozenset[Role]
    user: Any = None
    integration: Integration | None = None
    label: str = "system"
    agency_id: int | None = field(default=None)
    via: str = ""  # how the actor reached us when it is not a page or the API ("sms": a crew's reply)

    @classmethod
    def for_user(cls, user: Any) -> Principal:
        profile = getattr(user, "siaga_profile", None) if user is not None else None
        try:
            agency_id = profile.agency_id if profile is not None else None
        except Exception:  # profile missing in the database
            agency_id = None
        return cls(roles=user_roles(user), user=user, label=f"user:{user.get_username()}", agency_id=agency_id)

    @classmethod
    def for_integration(cls, integration: Integration) -> Principal:
        role = {"pbx": Role.PBX, "aml": Role.AML, "monitor": Role.MONITOR,
                "partner": Role.PARTNER}[integration.kind]
        return cls(roles=frozenset({role}), integration=integration, label=f"integration:{integration.name}")

    @classmethod
    def for_crew(cls, agency_id: int, phone: str, name: str) -> Principal:
        """A crew answering a dispatch by SMS from its registered number: its agency's rights, nothing more."""
        return cls(roles=frozenset({Role.AGENCY}), label=f"sms:{phone} {name}"[:100], agency_id=agency_id,
                   via="sms")

    @classmethod
    def system(cls, label: str = "system") -> Principal:
        return cls(roles=frozenset({Role.ADMIN}), label=label)

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_agency_only(self) -> bool:
        """An agency liaison without a wider role sees only its agency's work."""
        return Role.AGENCY in self.roles and not self.has(Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN, Role.WALL)
