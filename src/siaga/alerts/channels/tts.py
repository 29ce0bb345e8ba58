"""Spoken warnings: a WAV of the Indonesian text, made with espeak-ng, for radio and sirens.

Written to ``<SIAGA_VAR_DIR>/alerts/tts/<alert id>.wav`` and served at ``/peringatan/<id>.wav``. An exercise
begins and ends with "Ini hanya latihan".
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path
from typing import Any

from django.conf import settings

from siaga.alerts.channels import ChannelError
from siaga.alerts.models import Alert, Delivery

TIMEOUT = 60


def wav_path(alert_id: int) -> Path:
    return Path(settings.VAR_DIR) / "alerts" / "tts" / f"{alert_id}.wav"


def spoken_text(alert: Alert) -> str:
    from siaga.alerts.public import texts_of

    text = texts_of(alert).get("id") or {}
    parts = ["Perhatian, perhatian."]
    if alert.exercise:
        parts.append("Ini hanya latihan.")
    parts += [text.get("headline", alert.headline) + ".", text.get("instruction", "")]
    if alert.exercise:
        parts.append("Sekali lagi, ini hanya latihan.")
    return " ".join(p for p in parts if p).replace("\n", " ")


class TtsChannel:
    name = "tts"

    def enabled(self) -> bool:
        return bool(settings.TTS_COMMAND)

    def targets(self, alert: Alert) -> list[str]:
        return ["wav"]

    def send(self, delivery: Delivery, alert: Alert) -> dict[str, Any]:
        binary = shutil.which(settings.TTS_COMMAND)
        if binary is None:
            raise ChannelError(f"{settings.TTS_COMMAND!r} is not installed (apt install espeak-ng)")
        path = wav_path(alert.pk)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part.wav")
        try:
            subprocess.run([binary, "-v", "id", "-s", "140", "-w", str(partial), spoken_text(alert)],  # noqa: S603
                           check=True, capture_output=True, timeout=TIMEOUT)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            raise ChannelError(f"espeak-ng failed: {exc} {detail.decode(errors='replace')[:200]}") from None
        with wave.open(str(partial), "rb") as audio:
            seconds = audio.getnframes() / float(audio.getframerate())
        partial.replace(path)
        return {"path": str(path), "url": f"/peringatan/{alert.pk}.wav", "seconds": round(seconds, 2),
                "bytes": path.stat().st_size}


CHANNEL = TtsChannel()
