"""The set-top box's EWS state machine: what the screen shows for the sections it receives, the remote's keys
and the mains plug. Pure: time comes in as an argument, so tests drive it without waiting.

Profiles (how a level is presented):

- ``seed`` (default; what Siaga112's users asked for): WASPADA -> a scrolling notice at the bottom of the
  picture, which the remote dismisses; SIAGA and AWAS -> a full-screen red notice with the evacuation
  siren and the spoken instruction. Every key is ignored, the remote's power key too; only unplugging the
  mains clears it, and if the warning is still on air when power returns, it comes back.
- ``kominfo2024`` (the officials' 2024 description): WASPADA and SIAGA -> a window over about 30% of the
  screen for 30 s; AWAS -> full screen, persistent, remote locked.
- ``mtk`` (a vendor's receiver): AWAS -> full screen, red, tone, remote locked; SIAGA -> a window over 90%
  of the screen with a tone, dismissable; WASPADA -> bottom strip.

Rules for every profile: only warnings naming this box's postcode count; the most severe one is shown; a
warning that ends on air (level END) clears itself; a warning that just stops being broadcast is not
cleared (a lost signal must not end a tsunami warning). A snapshot whose version is older than the one
applied changes nothing, unless it is all that is on air for :data:`RESYNC_SECONDS` (the head-end was
restarted). A full-screen warning switches a box in standby on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from siaga.ews.sections import CarouselReader, Message, Snapshot

KEYS = ("BACK", "EXIT", "MENU", "OK", "CH_UP", "CH_DOWN", "VOL_UP", "VOL_DOWN", "POWER")
DISMISS_KEYS = ("BACK", "EXIT", "OK")
RESYNC_SECONDS = 5.0
SEVERITY = {"AWAS": 1, "SIAGA": 2, "WASPADA": 3}


@dataclass(frozen=True)
class Presentation:
    overlay: str  # ticker | window | fullscreen
    coverage: int  # percent of the screen
    sound: bool
    locked: bool  # every key ignored (the power key too)
    seconds: float | None = None  # hides itself after this long
    wakes: bool = False  # switches a box in standby on


_TICKER = Presentation("ticker", 12, sound=False, locked=False)
_FULL = Presentation("fullscreen", 100, sound=True, locked=True, wakes=True)

PROFILES: dict[str, dict[str, Presentation]] = {
    "seed": {"WASPADA": _TICKER, "SIAGA": _FULL, "AWAS": _FULL},
    "kominfo2024": {"WASPADA": Presentation("window", 30, sound=False, locked=False, seconds=30),
                    "SIAGA": Presentation("window", 30, sound=True, locked=False, seconds=30),
                    "AWAS": _FULL},
    "mtk": {"WASPADA": _TICKER, "SIAGA": Presentation("window", 90, sound=True, locked=False, wakes=True),
            "AWAS": _FULL},
}


@dataclass
class State:
    plugged: bool = True
    power: str = "on"  # on | off (standby, or no mains)
    overlay: str = "none"  # none | ticker | window | fullscreen
    coverage: int = 0
    level: str | None = None
    text: str = ""
    sound: bool = False
    locked: bool = False
    alert_id: int | None = None
    version: int | None = None
    message: dict[str, Any] = field(default_factory=dict)
    channel: int = 1
    volume: int = 20
    ignored_keys: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"power": self.power, "plugged": self.plugged, "overlay": self.overlay, "coverage": self.coverage,
                "level": self.level, "text": self.text, "sound": "playing" if self.sound else "off",
                "locked": self.locked, "alert_id": self.alert_id, "version": self.version,
                "message": self.message, "channel": self.channel, "volume": self.volume,
                "ignored_keys": self.ignored_keys}


class Receiver:
    def __init__(self, postcode: str, profile: str = "seed",
                 on_change: Callable[[State, str], None] | None = None) -> None:
        if profile not in PROFILES:
            raise ValueError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
        self.postcode = postcode
        self.profile = profile
        self.reader = CarouselReader()
        self.state = State()
        self.on_change = on_change
        self._applied: Snapshot | None = None
        self._seen: dict[int, float] = {}  # version -> when a valid section of it was last received
        self._older: Snapshot | None = None
        self._shown: Message | None = None  # the warning on screen (or dismissed, or hidden by standby)
        self._dismissed = False
        self._shown_at = 0.0
        self._now = 0.0

    # --- input ---------------------------------------------------------------------------------------

    def section(self, data: bytes, now: float) -> None:
        """One EWS section off the air (from the demultiplexer)."""
        self._now = now
        if not self.state.plugged:
            return
        if len(data) > 5 and data[0] == 0x80:
            self._seen[(data[5] >> 1) & 0x1F] = now
        snapshot = self.reader.feed(data)
        if snapshot is not None:
            self._snapshot(snapshot, now)
        self.tick(now)

    def key(self, key: str, now: float) -> bool:
        """A remote-control key; False when it was ignored."""
        self._now = now
        if key not in KEYS:
            raise ValueError(f"unknown key {key!r}; keys are {', '.join(KEYS)}")
        state = self.state
        if not state.plugged:
            return False
        if state.power == "on" and state.locked:
            state.ignored_keys += 1
            self._changed(f"key {key} ignored: the warning is locked")
            return False
        if key == "POWER":
            state.power = "off" if state.power == "on" else "on"
            self._render()
            self._changed(f"power {state.power}")
            return True
        if state.power != "on":
            return False
        if key in DISMISS_KEYS and state.overlay != "none":
            self._dismissed = True
            self._render()
            self._changed(f"key {key}: notice dismissed")
            return True
        if key in ("CH_UP", "CH_DOWN"):
            state.channel = max(1, state.channel + (1 if key == "CH_UP" else -1))
        elif key in ("VOL_UP", "VOL_DOWN"):
            state.volume = min(100, max(0, state.volume + (5 if key == "VOL_UP" else -5)))
        self._changed(f"key {key}")
        return True

    def mains(self, plugged: bool, now: float) -> None:
        """Plug in or pull the mains. Unplugging forgets everything, as a real box does."""
        self._now = now
        if plugged == self.state.plugged:
            return
        if not plugged:
            keep = (self.state.channel, self.state.volume)
            self.state = State(plugged=False, power="off")
            self.state.channel, self.state.volume = keep
            self.reader.forget()
            self._applied, self._older, self._shown, self._dismissed = None, None, None, False
            self._seen.clear()
            self._changed("mains unplugged")
        else:
            self.state.plugged, self.state.power = True, "on"
            self._changed("mains plugged in: the box starts")

    def tick(self, now: float) -> None:
        """Time passes: windows that hide themselves, and the head-end-restart rule."""
        self._now = now
        older = self._older
        if older is not None and self._applied is not None:
            applied_seen = self._seen.get(self._applied.version, float("-inf"))
            if now - applied_seen >= RESYNC_SECONDS and now - self._seen.get(older.version, float("-inf")) < 1.0:
                self._older = None
                self._apply(older, now, note="an older version is all that is on air: taken as the new one")
        shown = self._presentation()
        if (shown is not None and shown.seconds is not None and not self._dismissed
                and now - self._shown_at >= shown.seconds):
            self._dismissed = True
            self._render()
            self._changed(f"the window closed itself after {shown.seconds:g} s")

    # --- logic ---------------------------------------------------------------------------------------

    def _snapshot(self, snapshot: Snapshot, now: float) -> None:
        applied = self._applied
        if applied is not None and snapshot.version != applied.version \
                and not 1 <= (snapshot.version - applied.version) % 32 <= 15:
            self._older = snapshot  # older than what we have: ignored unless it is all there is (tick)
            return
        self._older = None
        self._apply(snapshot, now)

    def _apply(self, snapshot: Snapshot, now: float, note: str = "") -> None:
        self._applied = snapshot
        self.state.version = snapshot.version
        mine = [m for m in snapshot.messages if self.postcode in m.postcodes]
        ending = {m.package_id for m in mine if m.level == "END"}
        live = [m for m in mine if m.level in SEVERITY]
        shown = self._shown
        if shown is not None and shown.package_id in ending:
            self._shown, self._dismissed = None, False
            self._render()
            self._changed(f"warning {shown.package_id} ended on air")
            shown = None
        if not live:
            return
        best = min(live, key=lambda m: (SEVERITY[m.level], -m.package_id))
        if shown is not None and best == shown:
            return  # the same warning again (also when the viewer dismissed it)
        if shown is not None and shown.package_id != best.package_id and SEVERITY[shown.level] < SEVERITY[best.level]:
            return  # a more severe warning is showing (gone from the air without an END: it stays)
        self._shown, self._dismissed, self._shown_at = best, False, now
        presentation = PROFILES[self.profile][best.level]
        if self.state.power == "off" and presentation.wakes:
            self.state.power = "on"
        self._render()
        self._changed((note + "; " if note else "") + f"{best.level} warning {best.package_id}: {best.text[:60]}")

    def _presentation(self) -> Presentation | None:
        if self._shown is None:
            return None
        return PROFILES[self.profile][self._shown.level]

    def _render(self) -> None:
        state, shown, presentation = self.state, self._shown, self._presentation()
        blank = dict(overlay="none", coverage=0, level=None, text="", sound=False, locked=False, alert_id=None,
                     message={})
        if shown is None or presentation is None or state.power != "on" or \
                (self._dismissed and not presentation.locked):
            self.state = replace(state, **blank)  # type: ignore[arg-type]
            return
        self.state = replace(state, overlay=presentation.overlay, coverage=presentation.coverage,
                             level=shown.level, text=shown.text, sound=presentation.sound,
                             locked=presentation.locked, alert_id=shown.package_id, message=shown.as_json())

    def _changed(self, what: str) -> None:
        if self.on_change is not None:
            self.on_change(self.state, what)
