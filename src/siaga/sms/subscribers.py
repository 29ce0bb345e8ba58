"""Subscribers in bulk: a CSV file an admin imports, all of it or nothing.

Columns (a header row, names in Indonesian or English, any order): ``nomor``/``phone`` (required),
``nama``/``name``, ``jenis``/``kind`` (warga, rtrw, sirine, pejabat; default warga), ``kelurahan`` and/or
``kecamatan`` (a name or a Kemendagri code; one is required), ``aktif``/``active`` (ya/tidak, default ya).
Every row is checked first; one bad row (an unknown area, a number that is not a phone's, the same number
twice) refuses the whole file with every problem and its line number, and nothing is written. A number
already subscribed is updated (the file is the truth for its numbers): importing the same file twice
changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from siaga.formats import phone
from siaga.sms.inbound import _fold
from siaga.sms.models import Subscriber, SubscriberKind

COLUMNS = {"nomor": "phone", "phone": "phone", "telepon": "phone", "nama": "name", "name": "name",
           "jenis": "kind", "kind": "kind", "kelurahan": "kelurahan", "kecamatan": "kecamatan",
           "aktif": "active", "active": "active"}
YES, NO = {"", "ya", "y", "yes", "1", "true", "aktif"}, {"tidak", "t", "no", "n", "0", "false", "nonaktif"}
MAX_ROWS = 200_000


@dataclass
class Imported:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _areas() -> tuple[dict[str, Any], dict[str, list[Any]], dict[str, Any]]:
    from siaga.core.models import Kecamatan, Kelurahan

    kecamatan = {}
    for k in Kecamatan.objects.all():
        kecamatan[_fold(k.name)] = k
        kecamatan[k.code] = k
    kelurahan: dict[str, list[Any]] = {}
    codes = {}
    for k in Kelurahan.objects.select_related("kecamatan"):
        kelurahan.setdefault(_fold(k.name), []).append(k)
        codes[k.code] = k
    return kecamatan, kelurahan, codes


def import_csv(text: str, *, source: str = "csv") -> Imported:
    """Check every row, then write them all in one transaction (or nothing, with every problem)."""
    result = Imported()
    try:
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=_delimiter(text))
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        result.problems.append(f"not a CSV file: {exc}")
        return result
    unknown = [h for h in header if h and h not in COLUMNS]
    if unknown:
        result.problems.append(f"line 1: unknown column(s) {', '.join(unknown)}; the columns are "
                               "nomor, nama, jenis, kelurahan, kecamatan, aktif")
    if "nomor" not in header and "phone" not in header and "telepon" not in header:
        result.problems.append("line 1: the column nomor (phone) is missing")
    if result.problems:
        return result
    kecamatan, kelurahan, kelurahan_codes = _areas()
    rows: dict[str, dict[str, Any]] = {}
    for line, raw in enumerate(reader, start=2):
        if line - 1 > MAX_ROWS:
            result.problems.append(f"more than {MAX_ROWS} rows: split the file")
            break
        row = {COLUMNS[k.strip().lower()]: (v or "").strip() for k, v in raw.items()
               if k and k.strip().lower() in COLUMNS}
        if not any(row.values()):
            continue
        number = phone.normalise(row.get("phone"), settings.PHONE_REGION)
        if not number.e164:
            result.problems.append(f"line {line}: {row.get('phone')!r} is not a phone number")
            continue
        if number.e164 in rows:
            result.problems.append(f"line {line}: {number.e164} is already on line {rows[number.e164]['line']}")
            continue
        kind = (row.get("kind") or "warga").lower()
        if kind not in SubscriberKind.values:
            result.problems.append(f"line {line}: jenis {kind!r} is not one of {', '.join(SubscriberKind.values)}")
            continue
        active = (row.get("active") or "").lower()
        if active not in YES | NO:
            result.problems.append(f"line {line}: aktif {row.get('active')!r} is not ya or tidak")
            continue
        village = None
        if row.get("kelurahan"):
            wanted = row["kelurahan"]
            found = [kelurahan_codes[wanted]] if wanted in kelurahan_codes else kelurahan.get(_fold(wanted), [])
            if row.get("kecamatan") and len(found) > 1:
                district = kecamatan.get(_fold(row["kecamatan"])) or kecamatan.get(row["kecamatan"])
                found = [k for k in found if district is not None and k.kecamatan_id == district.pk]
            if len(found) != 1:
                result.problems.append(f"line {line}: kelurahan {wanted!r} is "
                                       f"{'not known' if not found else 'in several kecamatan: name the kecamatan'}")
                continue
            village = found[0]
        district = village.kecamatan if village is not None else (
            kecamatan.get(_fold(row.get("kecamatan", ""))) or kecamatan.get(row.get("kecamatan", "")))
        if district is None:
            result.problems.append(f"line {line}: kecamatan {row.get('kecamatan', '')!r} is not known" if
                                   row.get("kecamatan") else f"line {line}: no kelurahan or kecamatan")
            continue
        if village is not None and row.get("kecamatan") and district != (
                kecamatan.get(_fold(row["kecamatan"])) or kecamatan.get(row["kecamatan"])):
            result.problems.append(f"line {line}: kelurahan {village.name} is in Kec. {district.name}, "
                                   f"not {row['kecamatan']}")
            continue
        rows[number.e164] = {"line": line, "name": row.get("name", "")[:100], "kind": kind, "kecamatan": district,
                             "kelurahan": village, "active": active not in NO}
    if result.problems:
        return result
    now = timezone.now()
    with transaction.atomic():
        existing = {s.phone: s for s in Subscriber.objects.select_for_update().filter(phone__in=list(rows))}
        new, changed = [], []
        for number, row in rows.items():
            subscriber = existing.get(number)
            values = {k: row[k] for k in ("name", "kind", "kecamatan", "kelurahan", "active")}
            if subscriber is None:
                new.append(Subscriber(phone=number, source=source, created_at=now, updated_at=now,
                                      stopped_at=None if values["active"] else now, **values))
                continue
            if all(getattr(subscriber, k) == v for k, v in values.items()):
                result.unchanged += 1
                continue
            for k, v in values.items():
                setattr(subscriber, k, v)
            subscriber.updated_at = now
            subscriber.stopped_at = None if subscriber.active else (subscriber.stopped_at or now)
            changed.append(subscriber)
        Subscriber.objects.bulk_create(new, batch_size=1000)
        Subscriber.objects.bulk_update(changed, ["name", "kind", "kecamatan", "kelurahan", "active", "updated_at",
                                                 "stopped_at"], batch_size=1000)
        result.created, result.updated = len(new), len(changed)
    return result


def _delimiter(text: str) -> str:
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","
