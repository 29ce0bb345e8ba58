"""The EWS warning for a CAP 1.2 alert (ours, or anyone's).

Level on air: what Siaga112 decided for the city's screens (``SIAGA112_DISPLAY``): ``fullscreen`` goes on
air as AWAS, because only AWAS takes the whole screen with the alarm on real boxes (SIAGA is a 30% window),
and ``ticker`` as WASPADA; the CAP itself keeps BMKG's own level (``EWS_LEVEL``). An alert of another sender
(no ``SIAGA112_DISPLAY``): its ``EWS_LEVEL``, else severity Extreme -> AWAS, Severe -> SIAGA, else WASPADA.
A Cancel, or a display of ``none``, is not on air at all (:func:`level_of` is None): the warning leaves the
carousel. Disaster code: the ``EWS_DISASTER_CODE`` parameter or event code, else a guess from the event's
words. Postcodes: the ``POSTCODE`` geocodes of the areas, named after their area. Authority: BMKG for what
BMKG reported, BNPB (the disaster-management side) otherwise. The message is the Indonesian headline and
instruction; :func:`siaga.ews.sections.plan` fits it to the receivers (an alert is never refused for being
long: it goes out shorter).
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone

from siaga.ews import layout
from siaga.ews.sections import Location, Message
from siaga.formats import cap

WIB = timezone(timedelta(hours=7), "WIB")
_SEVERITY_LEVEL = {"Extreme": "AWAS", "Severe": "SIAGA"}
_DISPLAY_LEVEL = {"fullscreen": "AWAS", "ticker": "WASPADA"}
_KEYWORDS = [(0x02, ("tsunami",)), (0x01, ("gempa", "earthquake")), (0x03, ("gunung", "erupsi", "volcan")),
             (0x05, ("banjir", "flood")), (0x04, ("longsor", "landslide")), (0x07, ("hutan", "forest")),
             (0x09, ("kebakaran", "fire")), (0x0B, ("cuaca", "hujan", "angin", "weather", "storm", "thunder")),
             (0x0A, ("gelombang", "abrasi", "wave")),
             (0x0C, ("kimia", "chemical", "industri", "industrial", "teknologi", "gas", "ledakan", "explosion"))]


class NotBroadcastable(ValueError):
    """A CAP alert that names no postcode: no set-top box could match it."""


def _value(pairs: list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in pairs if key == name and value), "")


def info_of(alert: cap.Alert) -> cap.Info:
    if not alert.infos:
        raise NotBroadcastable("the CAP alert has no info block")
    return next((i for i in alert.infos if i.language.lower().startswith("id")), alert.infos[0])


def level_of(alert: cap.Alert, info: cap.Info) -> str | None:
    """The level on air, or None when this message takes the warning off the air."""
    display = _value(info.parameters, "SIAGA112_DISPLAY")
    if alert.msg_type == "Cancel" or display == "none":
        return None
    if display in _DISPLAY_LEVEL:
        return _DISPLAY_LEVEL[display]
    level = _value(info.parameters, "EWS_LEVEL").upper()
    return level if level in layout.LEVELS else _SEVERITY_LEVEL.get(info.severity, "WASPADA")


def disaster_of(info: cap.Info) -> int:
    code = _value(info.parameters, "EWS_DISASTER_CODE") or _value(info.event_codes, "EWS_DISASTER_CODE")
    if re.fullmatch(r"[0-9A-Fa-f]{1,2}", code) and int(code, 16) in layout.DISASTERS:
        return int(code, 16)
    words = f"{info.event} {info.headline or ''}".lower()
    return next((number for number, keys in _KEYWORDS if any(k in words for k in keys)), 0x0C)


def _area_name(desc: str) -> str:
    return re.sub(r"^(kecamatan|kelurahan|desa)\s+", "", desc.split(",")[0].strip(), flags=re.I)[:60]


def _position(info: cap.Info) -> str:
    epicentre = _value(info.parameters, "EPICENTRE")
    if epicentre:
        try:
            lat, lon = (float(v) for v in epicentre.split(","))
        except ValueError:
            pass
        else:
            return f"{abs(lat):.2f} {'LS' if lat < 0 else 'LU'} {abs(lon):.2f} {'BT' if lon >= 0 else 'BB'}"
    return ", ".join(_area_name(a.desc) for a in info.areas)


def _characteristic(info: cap.Info, exercise: bool) -> str:
    parts = ["LATIHAN"] if exercise else []
    if magnitude := _value(info.parameters, "MAGNITUDE"):
        parts.append(f"M{magnitude}")
    if depth := _value(info.parameters, "DEPTH_KM"):
        parts.append(f"kedalaman {depth} km")
    if distance := _value(info.parameters, "DISTANCE_KM"):
        parts.append(f"{distance} km dari kota")
    parts.append(f"{info.severity}/{info.urgency}")
    return ", ".join(parts)


def headline(alert: cap.Alert, info: cap.Info) -> str:
    text = info.headline or info.event
    if alert.status == "Exercise" and "LATIHAN" not in text.upper():
        text = "[LATIHAN] " + text
    return text


def message_of(alert: cap.Alert, key: str = "", order: int = 0) -> Message:
    """The warning on air for this message of a thread. NotBroadcastable when it names no postcode; the level
    of a Cancel is the level it had (callers take Cancels off the air with :func:`level_of`)."""
    info = info_of(alert)
    locations: dict[str, Location] = {}
    for area in info.areas:
        for name, value in area.geocodes:
            if name.upper() == "POSTCODE" and re.fullmatch(r"\d{5}", value) and value not in locations:
                locations[value] = Location(value, _area_name(area.desc))
    if not locations:
        raise NotBroadcastable("the CAP alert names no POSTCODE geocode: no receiver could match it")
    level = level_of(alert, info) or "WASPADA"
    disaster = disaster_of(info)
    said = f"{headline(alert, info)}. {info.instruction or ''}".strip().rstrip(".") + "."
    authority = "BMKG" if _value(info.parameters, "BMKG_EVENT") or "bmkg" in (
        f"{alert.sender} {info.sender_name or ''}".lower()) else "BNPB"
    when = info.onset or info.effective or alert.sent
    return Message(
        key=key or alert.identifier, level=level, disaster_code=disaster, authority=authority,
        locations=tuple(sorted(locations.values(), key=lambda loc: loc.postcode)),
        disaster_type=layout.DISASTERS[disaster][0], position=_position(info),
        date=f"{when.astimezone(WIB):%d-%m-%Y %H:%M:%S} WIB",
        characteristic=_characteristic(info, alert.status == "Exercise"), text=said, order=order)
