"""A set-top box's EWS: how it reads the sections, which warning it shows, what the remote and the mains do.
Pure: time comes in as an argument, so tests drive it without waiting.

Every profile reads the air as MStar's published code does (:mod:`siaga.ews.layout` has the facts and their
sources): it watches only when the PAT lists programme 0x038F, takes sections from PID 0x0080 alone,
gathers each sub-table whole (section numbers 0-31, at most 8,192 bytes kept), reads TCDW and TMDW only
after the TRDW named its postcode, keeps the last matching TRDW location, shows a warning when its three
parts agree, and leaves it the moment a new TRDW version arrives (rebuilding from the new tables: a warning
whose postcode is gone stays off). Sections that stop arriving clear nothing.

Profiles differ in how they read the TMDW and how they present a level:

- ``mstar`` (MStar Chakra3, MApp_EWS.c / MApp_IR.c): AWAS: the picture muted, a full information page, the
  alarm restarted whenever it ends, the volume forced up; SIAGA: the alarm and a window over about 30% of the
  screen; WASPADA: a strip over about 30%, which EXIT dismisses. While a warning shows every key is
  swallowed except POWER, which still puts the box in standby (and standby clears EWS until it is back on).
  TMDW in the MStar form; an F nibble in a location code matches any digit.
- ``mtk`` (a MediaTek receiver, u_dvb_si_eng.h): TMDW in the MediaTek form (an index byte, 8-bit lengths);
  exact postcodes only; AWAS and SIAGA drop every key, POWER too; any key dismisses WASPADA.
- ``seed`` (what Siaga112's users asked for, the default): WASPADA a scrolling notice at the bottom that
  BACK, EXIT or OK dismisses; SIAGA and AWAS a red full screen with the evacuation siren and the spoken
  instruction that no key clears, POWER included, only unplugging; it switches a box in standby on.
  Reads the TMDW in the head-end's form (``tmdw_form``, MStar by default).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from siaga.ews import layout, ts
from siaga.ews.demux import Demux

KEYS = ("BACK", "EXIT", "MENU", "OK", "CH_UP", "CH_DOWN", "VOL_UP", "VOL_DOWN", "POWER")


@dataclass(frozen=True)
class Presentation:
    overlay: str  # ticker | strip | window | fullscreen
    coverage: int  # percent of the screen
    sound: bool  # the alarm (restarted whenever it ends)
    locked: bool  # keys other than those below are swallowed
    dismiss: tuple[str, ...] = ()  # keys that close it
    power_passes: bool = False  # POWER still works (standby) while it shows
    wakes: bool = False  # switches a box in standby on
    video_muted: bool = False
    volume: int | None = None  # forced to at least this


@dataclass(frozen=True)
class Profile:
    name: str
    tmdw_form: str | None  # None: the head-end's form
    wildcards: bool  # a nibble above 9 matches any digit
    levels: dict[str, Presentation]
    standby_clears: bool  # standby forgets the tables (MStar resets EWS in standby)


_SEED_FULL = Presentation("fullscreen", 100, sound=True, locked=True, wakes=True, video_muted=True, volume=80)
PROFILES: dict[str, Profile] = {
    "seed": Profile("seed", None, True, {
        "WASPADA": Presentation("ticker", 12, sound=False, locked=False, dismiss=("BACK", "EXIT", "OK")),
        "SIAGA": _SEED_FULL, "AWAS": _SEED_FULL}, standby_clears=False),
    "mstar": Profile("mstar", "mstar", True, {
        "WASPADA": Presentation("strip", 30, sound=False, locked=True, dismiss=("EXIT",), power_passes=True),
        "SIAGA": Presentation("window", 30, sound=True, locked=True, power_passes=True),
        "AWAS": Presentation("fullscreen", 100, sound=True, locked=True, power_passes=True, video_muted=True,
                             volume=80)}, standby_clears=True),
    "mtk": Profile("mtk", "mtk", False, {
        "WASPADA": Presentation("strip", 30, sound=False, locked=False, dismiss=KEYS),
        "SIAGA": Presentation("window", 30, sound=True, locked=True),
        "AWAS": Presentation("fullscreen", 100, sound=True, locked=True, video_muted=True, volume=80)},
        standby_clears=True),
}


@dataclass
class State:
    plugged: bool = True
    power: str = "on"  # on | off (standby, or no mains)
    watching: bool = False  # the PAT lists programme 0x038F: EWS is monitored
    overlay: str = "none"  # none | ticker | strip | window | fullscreen
    coverage: int = 0
    level: str | None = None
    text: str = ""
    sound: bool = False
    locked: bool = False
    power_passes: bool = False
    dismiss: tuple[str, ...] = ()
    video_muted: bool = False
    alert_id: int | None = None  # the package on screen
    versions: dict[str, int] = field(default_factory=dict)
    message: dict[str, Any] = field(default_factory=dict)
    channel: int = 1
    volume: int = 20
    ignored_keys: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"power": self.power, "plugged": self.plugged, "watching": self.watching, "overlay": self.overlay,
                "coverage": self.coverage, "level": self.level, "text": self.text,
                "sound": "playing" if self.sound else "off", "locked": self.locked, "power_passes": self.power_passes,
                "dismiss": list(self.dismiss), "video_muted": self.video_muted,
                "alert_id": self.alert_id, "versions": dict(self.versions), "message": self.message,
                "channel": self.channel, "volume": self.volume, "ignored_keys": self.ignored_keys}


class _Table:
    """One sub-table as the box gathers it: a bitmap of section numbers 0-31, a count, a byte budget."""

    def __init__(self, extension: int) -> None:
        self.extension = extension
        self.clear()

    def clear(self) -> None:
        self.version: int | None = None
        self.last = -1
        self.seen: set[int] = set()
        self.count = 0
        self.kept: dict[int, bytes] = {}
        self.used = 0
        self.complete = False

    def add(self, number: int, last: int, data: bytes) -> bool:
        """True when this section completed the table."""
        if len(data) > layout.SECTION_BYTES[self.extension]:
            return False  # too big to copy: dropped, the filter restarted
        if number < layout.SUBTABLE_SECTIONS and number in self.seen:
            return False
        if number < layout.SUBTABLE_SECTIONS:
            self.seen.add(number)
        self.last = last
        self.count += 1
        if self.used + len(data) <= layout.SUBTABLE_BYTES:
            self.kept[number] = data
            self.used += len(data)
        if self.count > self.last:
            self.complete = True
        return self.complete

    def in_order(self) -> list[bytes]:
        return [self.kept[n] for n in range(self.count) if n in self.kept]


@dataclass
class _Warning:
    level: str
    package: int
    disaster: int
    name: str
    content: dict[str, str] | None = None
    text: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"package_id": self.package, "level": self.level, "disaster_code": f"{self.disaster:02X}",
                "disaster": layout.DISASTERS.get(self.disaster, ("", ""))[0], "location": self.name,
                "message": self.text or "", **(self.content or {})}


class Receiver:
    def __init__(self, postcode: str, profile: str = "seed",
                 on_change: Callable[[State, str], None] | None = None, *, tmdw_form: str | None = None) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
        if not (len(postcode) == 5 and postcode.isascii() and postcode.isdigit()):
            raise ValueError(f"a box stores a five-digit postcode, not {postcode!r}")
        self.postcode = postcode
        self.profile = PROFILES[profile]
        form = tmdw_form or self.profile.tmdw_form or "mstar"
        if form not in layout.TMDW_FORMS:
            raise ValueError(f"unknown TMDW form {form!r}; choose from {', '.join(layout.TMDW_FORMS)}")
        self.form = "mtk" if form == "mtk" else "mstar"  # what a head-end sends as compatible, MStar reads
        self.state = State()
        self.on_change = on_change
        self.demux = Demux({ts.PAT_PID, layout.PID})
        self.tables = {ext: _Table(ext) for ext in layout.SUBTABLES}
        self._match: _Warning | None = None
        self._shown: _Warning | None = None
        self._dismissed = False
        self.rejected = 0

    @property
    def profile_name(self) -> str:
        return self.profile.name

    # --- input ---------------------------------------------------------------------------------------

    def feed(self, data: bytes, now: float) -> None:
        """TS bytes off the tuner."""
        if not self.state.plugged:
            return
        for pid, data_section in self.demux.feed(data):
            if pid == ts.PAT_PID:
                if data_section[0] == ts.PAT_TABLE:
                    self.pat(data_section, now)
            else:
                self.section(data_section, now)

    def pat(self, section_bytes: bytes, now: float) -> None:
        programmes = ts.parse_pat(section_bytes)
        watching = layout.PROGRAM_NUMBER in programmes or layout.PROGRAM_NUMBER in programmes.values()
        if watching != self.state.watching:
            self.state.watching = watching
            if not watching:
                self._reset("the PAT lists no programme 0x038F: EWS is not watched")
            else:
                self._changed("the PAT lists programme 0x038F: EWS is watched")

    def section(self, data: bytes, now: float) -> None:
        """One CRC-checked section from PID 0x0080 (the demultiplexer drops corrupt ones)."""
        if not self.state.plugged or not self.state.watching or len(data) < 12 or data[0] != layout.TABLE_ID:
            return
        if self.state.power != "on" and self.profile.standby_clears:
            return
        extension = (data[3] << 8) | data[4]
        if extension not in self.tables or not data[5] & 0x01:
            self.rejected += 1
            return
        version, number, last = (data[5] >> 1) & 0x1F, data[6], data[7]
        table = self.tables[extension]
        if extension != layout.TRDW and self._match is None:
            return  # TCDW and TMDW are gathered only once the TRDW named this box
        if table.version is not None and version != table.version:
            if extension == layout.TRDW:
                self._reset(f"TRDW version {table.version} -> {version}: the warning is left and rebuilt")
            else:
                table.clear()
                if self._match is not None:
                    if extension == layout.TCDW:
                        self._match.content = None
                    else:
                        self._match.text = None
        if table.complete:
            return
        table.version = version
        if table.add(number, last, data):
            self._complete(table)
        self.state.versions[layout.SUBTABLES[extension]] = version

    def key(self, key: str, now: float) -> bool:
        """A remote-control key; False when it was swallowed."""
        if key not in KEYS:
            raise ValueError(f"unknown key {key!r}; keys are {', '.join(KEYS)}")
        state = self.state
        if not state.plugged:
            return False
        shown = self._presentation()
        if state.power == "on" and shown is not None and not self._dismissed:
            if key in shown.dismiss:
                self._dismissed = True
                self._render()
                self._changed(f"key {key}: notice dismissed")
                return True
            if shown.locked and not (key == "POWER" and shown.power_passes):
                state.ignored_keys += 1
                self._changed(f"key {key} ignored: a warning is on screen")
                return False
        if key == "POWER":
            state.power = "off" if state.power == "on" else "on"
            if state.power == "off" and self.profile.standby_clears:
                self._reset("standby: EWS is reset")
            self._render()
            self._changed(f"power {state.power}")
            return True
        if state.power != "on":
            return False
        if key in ("CH_UP", "CH_DOWN"):
            state.channel = max(1, state.channel + (1 if key == "CH_UP" else -1))
            if self.profile.standby_clears:
                self._reset("channel change: EWS is reset")
        elif key in ("VOL_UP", "VOL_DOWN"):
            state.volume = min(100, max(0, state.volume + (5 if key == "VOL_UP" else -5)))
        self._changed(f"key {key}")
        return True

    def mains(self, plugged: bool, now: float) -> None:
        """Plug in or pull the mains. Unplugging forgets everything, as a real box does."""
        if plugged == self.state.plugged:
            return
        if not plugged:
            keep = (self.state.channel, self.state.volume)
            self.state = State(plugged=False, power="off")
            self.state.channel, self.state.volume = keep
            self.demux = Demux({ts.PAT_PID, layout.PID})
            for table in self.tables.values():
                table.clear()
            self._match, self._shown, self._dismissed = None, None, False
            self._changed("mains unplugged")
        else:
            self.state.plugged, self.state.power = True, "on"
            self._changed("mains plugged in: the box starts")

    def tick(self, now: float) -> None:
        """Time passes (nothing times out on these boxes; kept for the clock thread)."""

    # --- logic ---------------------------------------------------------------------------------------

    def _reset(self, why: str) -> None:
        for table in self.tables.values():
            table.clear()
        had = self._shown is not None
        self._match, self._shown, self._dismissed = None, None, False
        self.state.versions = {}
        self._render()
        if had:
            self._changed(why)

    def _complete(self, table: _Table) -> None:
        if table.extension == layout.TRDW:
            self._match = None
            for data in table.in_order():
                self._trdw(data[8:-4])
        elif self._match is not None and table.extension == layout.TCDW:
            for data in table.in_order():
                self._tcdw(data[8:-4])
        elif self._match is not None:
            text = b""
            found = False
            for data in table.in_order():
                part = self._tmdw(data[8:-4])
                if part is not None:
                    found = True
                    text = (text + part)[:layout.MESSAGE_CHARS]
            if found:
                self._match.text = layout.decode_text(text)
        self._assemble()

    def _trdw(self, body: bytes) -> None:
        if len(body) < 5:
            return
        count = min(body[4], layout.LOCATIONS_PER_PACKAGE)
        at = 5
        for _ in range(count):
            if at + 4 > len(body):
                return
            code, length = body[at:at + 3], body[at + 3]
            name = body[at + 4:at + 4 + length]
            at += 4 + length
            if layout.matches(code, self.postcode, wildcards=self.profile.wildcards) and body[2] in layout.LEVEL_NAMES:
                self._match = _Warning(layout.LEVEL_NAMES[body[2]], body[3], int.from_bytes(body[0:2], "big"),
                                       layout.decode_text(name))

    def _tcdw(self, body: bytes) -> None:
        match = self._match
        if match is None or not body:
            return
        at = 1
        for _ in range(min(body[0], layout.TCDW_ENTRIES)):
            if at + 4 > len(body):
                return
            package, authority, low = body[at], body[at + 1], body[at + 3]
            strings, at = [], at + 4
            for _name in range(4):
                if at >= len(body):
                    return
                strings.append(layout.decode_text(body[at + 1:at + 1 + body[at]]))
                at += 1 + body[at]
            if package == match.package and low != 0 and low == match.disaster:
                match.content = {"authority": layout.AUTHORITY_NAMES.get(authority, str(authority)),
                                 "disaster_type": strings[0], "position": strings[1], "date": strings[2],
                                 "characteristic": strings[3]}

    def _tmdw(self, body: bytes) -> bytes | None:
        match = self._match
        if match is None or len(body) < 2 or body[0] == 0 or body[0] != layout.LEVELS[match.level] \
                or body[1] != match.package:
            return None
        out = b""
        if self.form == "mtk":
            at = 3
            while at < len(body):
                out += body[at + 1:at + 1 + body[at]]
                at += 1 + body[at]
        else:
            at = 2
            while at + 2 <= len(body):
                length = int.from_bytes(body[at:at + 2], "big")
                out += body[at + 2:at + 2 + length]
                at += 2 + length
        return out

    def _assemble(self) -> None:
        match = self._match
        tables = self.tables
        if match is None or match.content is None or match.text is None or \
                not all(t.complete for t in tables.values()):
            if match is None and self._shown is not None:
                self._shown = None
                self._render()
                self._changed("no warning for this postcode")
            return
        previous = self._shown
        same = previous is not None and (previous.level, previous.package) == (match.level, match.package)
        self._shown = _Warning(match.level, match.package, match.disaster, match.name, dict(match.content),
                               match.text)
        if not same:
            self._dismissed = False
        presentation = self.profile.levels[match.level]
        if self.state.power == "off" and presentation.wakes:
            self.state.power = "on"
        self._render()
        self._changed(f"{match.level} warning {match.package}: {match.text[:60]}")

    def _presentation(self) -> Presentation | None:
        if self._shown is None:
            return None
        return self.profile.levels[self._shown.level]

    def _render(self) -> None:
        state, shown, presentation = self.state, self._shown, self._presentation()
        blank = dict(overlay="none", coverage=0, level=None, text="", sound=False, locked=False, power_passes=False,
                     dismiss=(), video_muted=False, alert_id=None, message={})
        if shown is None or presentation is None or state.power != "on" or self._dismissed:
            self.state = replace(state, **blank)  # type: ignore[arg-type]
            return
        volume = max(state.volume, presentation.volume) if presentation.volume is not None else state.volume
        self.state = replace(state, overlay=presentation.overlay, coverage=presentation.coverage,
                             level=shown.level, text=shown.text or "", sound=presentation.sound,
                             locked=presentation.locked, power_passes=presentation.power_passes,
                             dismiss=presentation.dismiss, video_muted=presentation.video_muted,
                             alert_id=shown.package, message=shown.as_json(), volume=volume)

    def _changed(self, what: str) -> None:
        if self.on_change is not None:
            self.on_change(self.state, what)
