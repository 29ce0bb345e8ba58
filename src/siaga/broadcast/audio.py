"""The evacuation sound of the emulator: a wailing siren, the spoken Indonesian instruction (espeak-ng, when
installed), and the siren again. 16 kHz mono 16-bit WAV."""

from __future__ import annotations

import io
import math
import shutil
import struct
import subprocess
import tempfile
import wave
from pathlib import Path

RATE = 16_000


def siren(seconds: float = 3.0, low: float = 600.0, high: float = 1300.0, cycle: float = 1.5) -> bytes:
    """A wail: the pitch rises and falls between low and high every ``cycle`` seconds. Raw 16-bit PCM."""
    frames = bytearray()
    phase = 0.0
    for n in range(int(seconds * RATE)):
        t = n / RATE
        frequency = low + (high - low) * (0.5 - 0.5 * math.cos(2 * math.pi * t / cycle))
        phase += 2 * math.pi * frequency / RATE
        frames += struct.pack("<h", int(0.6 * 32767 * math.sin(phase)))
    return bytes(frames)


def speech(text: str, command: str = "espeak-ng") -> bytes:
    """The text spoken in Indonesian as raw 16 kHz PCM, or nothing when espeak-ng is missing or fails."""
    binary = shutil.which(command)
    if binary is None or not text.strip():
        return b""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "speech.wav"
        try:
            subprocess.run([binary, "-v", "id", "-s", "140", "-w", str(out), text],  # noqa: S603
                           check=True, capture_output=True, timeout=60)
            with wave.open(str(out), "rb") as audio:
                raw, rate, width = audio.readframes(audio.getnframes()), audio.getframerate(), audio.getsampwidth()
        except (OSError, subprocess.SubprocessError, wave.Error):
            return b""
    if width != 2:
        return b""
    if rate != RATE:  # espeak-ng speaks at 22,050 Hz: resample by nearest sample (a siren, not music)
        samples = struct.unpack(f"<{len(raw) // 2}h", raw)
        count = int(len(samples) * RATE / rate)
        raw = struct.pack(f"<{count}h", *(samples[int(i * rate / RATE)] for i in range(count)))
    return raw


def evacuation_wav(text: str) -> bytes:
    pcm = siren(3.0) + speech(text) + siren(2.0)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm)
    return buffer.getvalue()
