"""Writing audit rows. Only actions call :func:`record`; nothing else writes the audit table."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import models

from siaga.core.models import AuditLog
from siaga.core.roles import Principal


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    return value


# Never copied into the audit log: a fingerprint shows that they changed, not what they are.
SECRET_FIELDS = frozenset({"password", "hmac_secret", "secret", "token_hash", "key_hash"})


def _fingerprint(value: Any) -> str | None:
    if not value:
        return None
    if isinstance(value, str) and value.startswith("sha256:") and len(value) == 15:
        return value  # already one
    return "sha256:" + hashlib.sha256(str(value).encode()).hexdigest()[:8]


def masked(data: Any) -> Any:
    """``data`` with every value under a secret field's name fingerprinted, at any depth. Applied to what
    is recorded, and to what is shown of rows recorded before a field was known to be secret."""
    if isinstance(data, dict):
        return {key: _fingerprint(value) if key in SECRET_FIELDS else masked(value) for key, value in data.items()}
    if isinstance(data, list):
        return [masked(item) for item in data]
    return data


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of ``obj`` as JSON-safe data (foreign keys as ids, secrets fingerprinted)."""
    names = fields or [f.attname for f in obj._meta.concrete_fields]
    return {name: _fingerprint(getattr(obj, name)) if name in SECRET_FIELDS else _plain(getattr(obj, name))
            for name in names}


def record(
    actor: Principal,
    action: str,
    obj: models.Model | None = None,
    *,
    object_type: str | None = None,
    object_id: Any = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str = "",
) -> AuditLog:
    """Append one audit row. Call inside the action's transaction so the row and the change commit together;
    the row is sealed into the hash chain right after that transaction commits (:mod:`siaga.core.auditchain`)."""
    from siaga.core.auditchain import seal_soon

    user = actor.user if actor.user is not None and getattr(actor.user, "pk", None) else None
    row = AuditLog.objects.create(
        actor_user=user,
        actor=actor.label[:100],
        action=action,
        object_type=(object_type or (obj._meta.label_lower if obj is not None else ""))[:64],
        # a list of ids can be longer than the column: the row keeps its start (the full list is in `after`)
        object_id=str(object_id if object_id is not None else (obj.pk if obj is not None else ""))[:64],
        before=masked(before),
        after=masked(after),
        note=note[:500],
    )
    seal_soon()  # outside a transaction: at once
    return row


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose values differ, to keep audit rows readable."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}
