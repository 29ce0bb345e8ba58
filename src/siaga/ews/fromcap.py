"""The EWS message for a CAP 1.2 alert (ours, or anyone's).

Level: the ``EWS_LEVEL`` parameter; lacking it, severity Extreme -> AWAS, Severe -> SIAGA, else WASPADA.
A Cancel, or a ``SIAGA112_DISPLAY`` of ``none``, is the END of the warning. Disaster code: the
``EWS_DISASTER_CODE`` parameter or event code, else a guess from the event's words. Postcodes: the
``POSTCODE`` geocodes of the areas, named after their area. Authority: BMKG for what BMKG reported, BNPB
(the disaster-management side) otherwise. The message is the Indonesian headline and instruction, cut at
a word to fit on air (an alert is never refused for being long: it goes out shorter).
"""

from __future__ import annotations

import re
from datetime import timedelta, timezone

from siaga.ews import layout
from siaga.ews.sections import Location, Message
from siaga.formats import cap

WIB = timezone(timedelta(hours=7), "WIB")
_SEVERITY_LEVEL = {"Extreme": "AWAS", "Severe": "SIAGA"}
_KEYWORDS = [(0x02, ("tsunami",)), (0x01, ("gempa", "earthquake")), (0x03, ("gunung", "erupsi", "volcan")),
             (0x05, ("banjir", "flood")), (0x04, ("longsor", "landslide")), (0x07, ("hutan", "forest")),
             (0x09, ("kebakaran", "fire")), (0x0B, ("cuaca", "hujan", "angin", "weather", "storm", "thunder")),
             (0x0A, ("gelombang", "abrasi", "wave")),
             (0x0C, ("kimia", "chemical", "industri", "industrial", "teknologi", "gas", "ledakan", "explosion"))]
MESSAGE_LIMIT = 1500  # bytes of text: a few screens of scrolling notice; keeps every section small
END_TEXT_LIMIT = 200  # bytes of an END's text


class NotBroadcastable(ValueError):
    """A CAP alert that names no postcode: no set-top box could match it."""


def _value(pairs: list[tuple[str, str]], name: str) -> str:
    return next((value for key, value in pairs if key == name and value), "")


def _info(alert: cap.Alert) -> cap.Info:
    if not alert.infos:
        raise NotBroadcastable("the CAP alert has no info block")
    return next((i for i in alert.infos if i.language.lower().startswith("id")), alert.infos[0])


def level_of(alert: cap.Alert, info: cap.Info) -> str:
    if alert.msg_type == "Cancel" or _value(info.parameters, "SIAGA112_DISPLAY") == "none":
        return "END"
    level = _value(info.parameters, "EWS_LEVEL").upper()
    return level if level in layout.LEVELS else _SEVERITY_LEVEL.get(info.severity, "WASPADA")


def disaster_of(info: cap.Info) -> int:
    code = _value(info.parameters, "EWS_DISASTER_CODE") or _value(info.event_codes, "EWS_DISASTER_CODE")
    if re.fullmatch(r"[0-9A-Fa-f]{1,4}", code):
        return int(code, 16)
    words = f"{info.event} {info.headline or ''}".lower()
    return next((number for number, keys in _KEYWORDS if any(k in words for k in keys)), 0x0C)


def _area_name(desc: str) -> str:
    name = re.sub(r"^(kecamatan|kelurahan|desa)\s+", "", desc.split(",")[0].strip(), flags=re.I)
    return name[:60]


def _clip(text: str, limit: int) -> str:
    raw = text.encode("utf-8")
    if len(raw) <= limit:
        return text
    cut = raw[:limit - 3].decode("utf-8", errors="ignore")
    return cut[:cut.rfind(" ")].rstrip(" ,.;") + "..." if " " in cut else cut + "..."


def _position(info: cap.Info) -> str:
    epicentre = _value(info.parameters, "EPICENTRE")
    if epicentre:
        lat, lon = (float(v) for v in epicentre.split(","))
        return f"{abs(lat):.2f} {'LS' if lat < 0 else 'LU'} {abs(lon):.2f} {'BT' if lon >= 0 else 'BB'}"
    return _clip(", ".join(_area_name(a.desc) for a in info.areas), 200)


def _characteristic(info: cap.Info) -> str:
    parts = []
    if magnitude := _value(info.parameters, "MAGNITUDE"):
        parts.append(f"M{magnitude}")
    if depth := _value(info.parameters, "DEPTH_KM"):
        parts.append(f"kedalaman {depth} km")
    if distance := _value(info.parameters, "DISTANCE_KM"):
        parts.append(f"{distance} km dari kota")
    parts.append(f"{info.severity}/{info.urgency}")
    return _clip(", ".join(parts), 200)


def _headline(alert: cap.Alert, info: cap.Info) -> str:
    headline = info.headline or info.event
    if alert.status == "Exercise" and "LATIHAN" not in headline.upper():
        headline = "[LATIHAN] " + headline
    return headline


def end_text(alert: cap.Alert) -> str:
    """What an END of this warning says: the headline only (an END stays on air for minutes, in every
    repetition of the carousel, so it is kept short)."""
    return _clip(f"BERAKHIR: {_headline(alert, _info(alert))}", END_TEXT_LIMIT)


def message_of(alert: cap.Alert, package_id: int) -> Message:
    info = _info(alert)
    locations: dict[str, Location] = {}
    for area in info.areas:
        for name, value in area.geocodes:
            if name.upper() == "POSTCODE" and re.fullmatch(r"\d{5}", value) and value not in locations:
                locations[value] = Location(value, _area_name(area.desc))
    if not locations:
        raise NotBroadcastable("the CAP alert names no POSTCODE geocode: no receiver could match it")
    level = level_of(alert, info)
    disaster = disaster_of(info)
    exercise = alert.status == "Exercise"
    said = f"{_headline(alert, info)}. {info.instruction or ''}".strip().rstrip(".") + "."
    text = end_text(alert) if level == "END" else said
    authority = "BMKG" if _value(info.parameters, "BMKG_EVENT") or "bmkg" in (
        f"{alert.sender} {info.sender_name or ''}".lower()) else "BNPB"
    when = info.onset or info.effective or alert.sent
    return Message(
        package_id=package_id, level=level, disaster_code=disaster, authority=authority,
        locations=tuple(sorted(locations.values(), key=lambda loc: loc.postcode))[:layout.MAX_LOCATIONS],
        disaster_type=_clip(layout.DISASTERS.get(disaster, (info.event, ""))[0], 200),
        position=_position(info), date=f"{when.astimezone(WIB):%d-%m-%Y %H:%M:%S} WIB",
        characteristic=("LATIHAN; " if exercise else "") + _characteristic(info),
        text=_clip(text, MESSAGE_LIMIT))
