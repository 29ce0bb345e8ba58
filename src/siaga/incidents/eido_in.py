"""Incidents handed over by a partner command centre as EIDO documents (``POST /api/v1/eido``).

A registered partner (an integration of kind ``partner``: its token, or its HMAC signature like a PBX)
posts the EIDO of an incident. The document's ``$id`` (the incident tracking identifier) says which
incident it is: one of ours handed back (our own tracking identifier), one the partner handed over before
(kept on the incident), or a new one, created here. Receiving the same document again changes nothing.

What is taken: for a new incident its type (through the admin's mapping table, the partner's Siaga112 code,
or NENA's registry term), priority, place and description; on every document the partner's notes (each
once, by its ``$id``, with the partner's agency in the timeline), a status the partner moved the incident
to when our lifecycle allows it, and dispatches to agencies we know (mapped the same way). Every step is an
audited action as ``eido:<partner agency>``; the changes it causes are not sent back to that partner's
webhooks (:func:`siaga.core.events.changes_from`). What cannot be mapped is said in the timeline, never
guessed: an unknown incident type becomes "lainnya" with the partner's term noted.

A document that does not follow NENA's schema (when the deployment has it: ``SIAGA_EIDO_SCHEMA_DIR``) or
cannot be read is refused with the path of what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime
from django.utils.translation import pgettext_lazy

from siaga.core import audit
from siaga.core.errors import ActionError, ValidationFailed
from siaga.core.events import changes_from
from siaga.core.models import Agency, Integration
from siaga.core.roles import Principal, Role
from siaga.formats import eido
from siaga.incidents import actions, lifecycle
from siaga.incidents.models import Category, Dispatch, EidoMapping, Incident, IncidentEvent, IncidentStatus

FALLBACK_CATEGORY = "lainnya"
_COMMON_TYPES = {text: code for code, text in eido.INCIDENT_TYPES.items()}
_COMMON_STATUSES = {text: code for code, text in eido.INCIDENT_STATUSES.items()}


@dataclass
class Outcome:
    incident: Incident
    created: bool
    changes: list[str] = field(default_factory=list)


def check(document: Any) -> eido.Received:
    """Read and check a document; ValidationFailed naming the path of the first problem."""
    if settings.EIDO_SCHEMA_DIR:
        from siaga.formats import eidoschema

        problems = eidoschema.problems(document, settings.EIDO_SCHEMA_DIR)
        if problems:
            path, message = problems[0]
            raise ValidationFailed(pgettext_lazy("error", "not an EIDO by NENA's schema at {path}: {problem}"),
                                   field=path, path=path, problem=message)
    try:
        return eido.read(document)
    except eido.EidoError as exc:
        raise ValidationFailed(pgettext_lazy("error", "the EIDO cannot be taken at {path}: {problem}"),
                               field=exc.path, path=exc.path, problem=exc.message) from None


def _mapped(kind: str, partner: Integration, *terms: str) -> str | None:
    for term in (t for t in terms if t):
        row = (EidoMapping.objects.filter(kind=kind, partner=partner, external=term).first()
               or EidoMapping.objects.filter(kind=kind, partner__isnull=True, external=term).first())
        if row is not None:
            return row.local
    return None


def _category(received: eido.Received, partner: Integration) -> tuple[str, bool]:
    """(our category code, whether it was known) for the partner's incident type."""
    mapped = _mapped(EidoMapping.Kind.CATEGORY, partner, received.type_code, received.type_text)
    if mapped and Category.objects.filter(code=mapped, active=True).exists():
        return mapped, True
    if received.type_code and Category.objects.filter(code=received.type_code, active=True).exists():
        return received.type_code, True
    common = _COMMON_TYPES.get(received.type_text)
    if common and Category.objects.filter(code=common, active=True).exists():
        return common, True
    return FALLBACK_CATEGORY, False


def _agency(dispatch: eido.ReceivedDispatch, partner: Integration) -> Agency | None:
    code = _mapped(EidoMapping.Kind.AGENCY, partner, dispatch.agency) or dispatch.agency_code
    return Agency.objects.filter(code=code, active=True).first() if code else None


def _actor(partner: Integration, agency: str) -> Principal:
    """The partner acting on our incidents: a supervisor's steps, under its own name in audit and timeline."""
    return Principal(roles=frozenset({Role.SUPERVISOR}), integration=partner,
                     label=f"eido:{agency or partner.name}"[:100])


def _find(received: eido.Received) -> Incident | None:
    found = Incident.objects.filter(eido_tracking_id=received.tracking_id).first()
    if found is not None:
        return found
    prefix = "urn:emergency:uid:incidentid:"
    suffix = f":{settings.EIDO_ISSUER}"
    if received.tracking_id.startswith(prefix) and received.tracking_id.endswith(suffix):
        return Incident.objects.filter(ticket=received.tracking_id[len(prefix):-len(suffix)]).first()
    return None


def receive(partner_principal: Principal, document: Any) -> Outcome:
    """Create or update the incident a partner's EIDO describes (see the module's text)."""
    partner = partner_principal.integration
    if partner is None or partner.kind != Integration.Kind.PARTNER:
        from siaga.core.errors import Forbidden

        raise Forbidden(pgettext_lazy("error", "only a registered partner may post EIDO documents"))
    received = check(document)
    agency = received.updated_by or received.issuer
    actor = _actor(partner, agency)
    name = received.agencies.get(agency, agency)
    with changes_from(partner.pk), transaction.atomic():
        incident = _find(received)
        created = incident is None
        changes: list[str] = []
        if incident is None:
            category, known = _category(received, partner)
            incident, _ = actions.do_create_incident(
                actor, category=category, priority=received.priority, description=received.description[:4000],
                lat=received.lat, lon=received.lon, location_accuracy_m=received.accuracy_m,
                location_source="eido" if received.lat is not None else "", address=received.address[:300])
            Incident.objects.filter(pk=incident.pk).update(eido_tracking_id=received.tracking_id[:200],
                                                           eido_partner=partner)
            incident.refresh_from_db()
            _timeline(incident, actor, "eido", f"Diterima dari mitra {name} (EIDO {received.tracking_id})",
                      {"eido_agency": agency, "tracking_id": received.tracking_id})
            if not known:
                _timeline(incident, actor, "eido", f"Jenis kejadian mitra tidak dikenal: {received.type_code or ''} "
                                                    f"{received.type_text}; petakan di admin (Pemetaan EIDO)",
                          {"eido_agency": agency})
            changes.append("created")
        changes += _notes(incident, actor, received)
        changes += _status(incident, actor, received)
        changes += _dispatches(incident, actor, received, partner)
        if changes:
            audit.record(actor, "eido.receive", incident, after={"tracking_id": received.tracking_id,
                                                                 "agency": agency, "changes": changes})
    return Outcome(incident, created, changes)


def _timeline(incident: Incident, actor: Principal, kind: str, message: str, data: dict[str, Any]) -> None:
    IncidentEvent.objects.create(incident=incident, kind=kind, actor=actor.label[:100], message=message[:4000],
                                 data=data)


def _notes(incident: Incident, actor: Principal, received: eido.Received) -> list[str]:
    """The partner's notes not seen before (by their $id; our own notes come back under ids we made)."""
    ours = f"urn:siaga112:{settings.EIDO_ISSUER}:note:"
    known = {e.data.get("eido_note") for e in incident.timeline.filter(kind="note") if e.data.get("eido_note")}
    added = []
    for note in received.notes:
        if note.id in known or note.id.startswith(ours) or not note.text.strip():
            continue
        when = parse_datetime(note.at) if note.at else None
        IncidentEvent.objects.create(
            incident=incident, kind="note", actor=actor.label[:100], message=note.text[:4000],
            data={"eido_note": note.id, "eido_agency": note.agency or actor.label}, **({"at": when} if when else {}))
        added.append(f"note {note.id}")
    if added:
        from siaga.core.events import publish_on_commit

        publish_on_commit("incident.updated", actions.incident_summary(incident))
    return added


def _status(incident: Incident, actor: Principal, received: eido.Received) -> list[str]:
    wanted = received.status if received.status in IncidentStatus.values else _COMMON_STATUSES.get(received.status)
    if not wanted or wanted == incident.status or wanted in (IncidentStatus.NEW, IncidentStatus.DISPATCHED,
                                                             IncidentStatus.ON_SCENE):
        return []  # dispatched and on scene follow the dispatches here; "new" never goes back
    refusal = lifecycle.step_refusal(incident.status, wanted, list(incident.dispatches.values_list("status",
                                                                                                 flat=True)))
    if refusal is not None:
        _timeline(incident, actor, "eido", f"Status mitra '{received.status}' tidak diterapkan ({refusal})",
                  {"eido_status": received.status})
        return []
    actions.do_change_incident_status(actor, incident.pk, wanted, note="EIDO")
    return [f"status {wanted}"]


def _dispatches(incident: Incident, actor: Principal, received: eido.Received, partner: Integration) -> list[str]:
    done = []
    for dispatch in received.dispatches:
        agency = _agency(dispatch, partner)
        if agency is None:
            said = f"instansi mitra {dispatch.agency_name}"
            if not incident.timeline.filter(kind="eido", data__eido_unmapped_agency=dispatch.agency).exists():
                _timeline(incident, actor, "eido", f"Penugasan ke {said} tidak dipetakan; petakan di admin",
                          {"eido_unmapped_agency": dispatch.agency})
            continue
        current = (Dispatch.objects.filter(incident=incident, agency=agency, status__in=lifecycle.ACTIVE)
                   .order_by("-requested_at").first())
        if current is None:
            if dispatch.status not in lifecycle.ACTIVE or incident.status not in lifecycle.DISPATCHABLE:
                continue
            try:
                current, _ = actions.do_dispatch(actor, incident.pk, agency.code, unit_name=dispatch.unit[:100])
            except ActionError:
                continue
            done.append(f"dispatch {agency.code}")
        if dispatch.status in lifecycle.DISPATCH_TIME_FIELD and dispatch.status != current.status and \
                lifecycle.dispatch_step_allowed(current.status, dispatch.status):
            try:
                actions.do_update_dispatch(actor, current.pk, dispatch.status,
                                           reason="EIDO" if dispatch.status == "declined" else "")
            except ActionError:
                continue
            done.append(f"dispatch {agency.code} {dispatch.status}")
    return done
