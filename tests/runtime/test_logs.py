"""SIAGA_LOG_FORMAT=json: every log line one JSON object, time in UTC, for a log collector."""

import json
import os
import subprocess
from datetime import datetime
from pathlib import Path

from tests import clock


def _log(tmp_path: Path, form: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
    env.update({"SIAGA_VAR_DIR": str(tmp_path), "SIAGA_ENV": "development", "SIAGA_LOG_FORMAT": form})
    code = ("import logging\nlog = logging.getLogger('siaga.test')\nlog.warning('gempa %s', 'M5,1')\n"
            "try:\n    1 / 0\nexcept ZeroDivisionError:\n    log.exception('gagal')\n")
    done = subprocess.run([*clock.siaga(), "shell", "-c", code], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_json_logs_are_one_object_a_line(tmp_path: Path) -> None:
    lines = [json.loads(line) for line in _log(tmp_path, "json").splitlines() if line.startswith("{")]
    first, second = lines
    assert (first["level"], first["logger"], first["message"]) == ("WARNING", "siaga.test", "gempa M5,1")
    assert datetime.fromisoformat(first["time"]).utcoffset().total_seconds() == 0
    assert second["level"] == "ERROR" and "ZeroDivisionError" in second["exc_info"]


def test_plain_logs_stay_the_default_and_a_bad_value_is_named(tmp_path: Path) -> None:
    assert "WARNING siaga.test: gempa M5,1" in _log(tmp_path, "plain")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIAGA_")}
    env.update({"SIAGA_VAR_DIR": str(tmp_path), "SIAGA_ENV": "development", "SIAGA_LOG_FORMAT": "xml"})
    done = subprocess.run([*clock.siaga(), "check"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "SIAGA_LOG_FORMAT" in done.stderr
