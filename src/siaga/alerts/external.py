"""CAP from other senders (e.g. BMKG's weather nowcasts for Banten): read, validated, shown, never re-sent.

A CAP feed URL may serve one CAP alert, or an Atom or RSS list whose entries link to CAP files (or carry
them inline, as Atom content). Linked files are fetched once each (at most ``MAX_FETCH`` new ones per
poll). Every alert is stored with its validation problems; an invalid one is shown marked as such.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urljoin

import httpx
from django.db import transaction

from siaga.alerts import signing
from siaga.alerts.models import ExternalAlert
from siaga.core.events import publish_on_commit
from siaga.formats import cap, xmlsafe
from siaga.formats.errors import FormatError
from siaga.formats.quake import iso_utc

log = logging.getLogger("siaga.alerts")
ATOM = "http://www.w3.org/2005/Atom"
MAX_FETCH = 20
TIMEOUT = 5.0


def ingest_document(feed: Any, body: bytes, client: httpx.Client | None = None) -> list[ExternalAlert]:
    root = xmlsafe.parse(body, feed.name if feed is not None else "CAP feed")
    name = xmlsafe.local(root.tag)
    if name == "alert":
        stored = store(body, feed, feed.url if feed is not None else "")
        return [stored] if stored is not None else []
    links: list[str] = []
    inline: list[bytes] = []
    from lxml import etree

    if name == "feed":  # Atom
        for entry in root:
            if xmlsafe.local(entry.tag) != "entry":
                continue
            for child in entry:
                local = xmlsafe.local(child.tag)
                if local == "content":
                    alerts = [c for c in child if xmlsafe.local(c.tag) == "alert"]
                    inline.extend(etree.tostring(a) for a in alerts)
                elif local == "link" and child.get("href"):
                    kind = (child.get("type") or "").lower()
                    if not kind or "cap" in kind or "xml" in kind:
                        links.append(urljoin(feed.url if feed is not None else "", child.get("href") or ""))
    elif name == "rss":
        for item in root.iter():
            if xmlsafe.local(item.tag) == "item":
                for child in item:
                    if xmlsafe.local(child.tag) == "link" and (child.text or "").strip():
                        links.append(urljoin(feed.url if feed is not None else "", (child.text or "").strip()))
    else:
        raise FormatError(f"a CAP feed must be a CAP alert, Atom or RSS, not <{name}>", "document")
    stored = [a for a in (store(data, feed, "") for data in inline) if a is not None]
    known = set(ExternalAlert.objects.filter(source_url__in=links).values_list("source_url", flat=True))
    fresh = [link for link in dict.fromkeys(links) if link not in known][:MAX_FETCH]
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)
    try:
        for link in fresh:
            try:
                response = http.get(link)
            except httpx.HTTPError as exc:
                log.warning("CAP feed %s: %s: %s", getattr(feed, "name", ""), link, exc)
                continue
            if response.status_code != 200:
                log.warning("CAP feed %s: %s answered %s", getattr(feed, "name", ""), link, response.status_code)
                continue
            try:
                alert = store(response.content, feed, link)
            except FormatError as exc:
                log.warning("CAP feed %s: %s is not CAP: %s", getattr(feed, "name", ""), link, exc)
                continue
            if alert is not None:
                stored.append(alert)
    finally:
        if own:
            http.close()
    return stored


def store(data: bytes, feed: Any, source_url: str) -> ExternalAlert | None:
    """Validate and keep one CAP message; a repeat (same sender and identifier) changes nothing."""
    parsed, problems = cap.parse_and_validate(data)
    if parsed is None:
        raise FormatError("; ".join(str(p) for p in problems) or "not a CAP alert", "document")
    info = parsed.info_for("id") or (parsed.infos[0] if parsed.infos else None)
    verdict = signing.check(data)  # on the bytes as they came: a signature covers exactly those
    with transaction.atomic():
        alert, created = ExternalAlert.objects.get_or_create(
            sender=parsed.sender[:300], identifier=parsed.identifier[:300],
            defaults={
                "sent": parsed.sent, "status": parsed.status[:10], "msg_type": parsed.msg_type[:10],
                "event": (info.event if info else "")[:200], "headline": (info.headline or "" if info else "")[:500],
                "severity": (info.severity if info else "")[:10], "urgency": (info.urgency if info else "")[:10],
                "area_desc": "; ".join(a.desc for a in (info.areas if info else []))[:500],
                "expires": info.expires if info else None, "valid": not problems,
                "problems": [str(p) for p in problems], "xml": data.decode("utf-8", errors="replace"),
                "feed": feed if getattr(feed, "pk", None) else None, "source_url": source_url[:500],
                "signature": verdict.status, "signature_detail": verdict.reason[:300],
                "signer": verdict.signer[:300], "signer_trusted": verdict.trusted,
            })
        if created:
            publish_on_commit("alert.external", {
                "id": alert.pk, "sender": alert.sender, "headline": alert.headline, "event": alert.event,
                "severity": alert.severity, "sent": iso_utc(alert.sent), "valid": alert.valid,
                "signature": alert.signature})
    return alert if created else None
