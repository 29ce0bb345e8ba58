"""`siaga aml parse` prints JSON for a good message and exits 1 naming the problem for a bad one."""

import json
import subprocess

from tests import clock

SMS = ('A"ML=1;lt=+51.53321;lg=-0.12601;rd=14;top=20220131171748;lc=68;pm=W;si=234159000000000;'
       "ei=123456789012345;mcc=234;mnc=15;ml=126")


def siaga(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*clock.siaga(), *args], capture_output=True, text=True, input=stdin,
                          timeout=60)


def test_parse_prints_the_fix() -> None:
    result = siaga("aml", "parse", SMS)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["lat"] == 51.53321 and data["lon"] == -0.12601 and data["radius_m"] == 14
    assert data["time_utc"] == "2022-01-31T17:17:48Z" and data["method"] == "wifi" and data["has_fix"] is True


def test_parse_no_fix_and_stdin() -> None:
    text = ('A"ML=1;lt=+00.00000;lg=+000.00000;rd=N;top=20220131173734;lc=0;pm=N;si=234159000000000;'
            "ei=123456789012345;mcc=234;mnc=15;ml=127")
    result = siaga("aml", "parse", "-", stdin=text)
    assert result.returncode == 0 and json.loads(result.stdout)["has_fix"] is False


def test_parse_malformed_exits_1_with_reason() -> None:
    result = siaga("aml", "parse", SMS[:60])
    assert result.returncode == 1
    assert "pesan AML rusak" in result.stderr and "cut short" in result.stderr  # Bahasa Indonesia first
    assert result.stdout == ""
    english = siaga("aml", "parse", SMS[:60], "--lang", "en")
    assert english.returncode == 1 and "malformed AML message" in english.stderr


def test_an_unknown_language_is_refused_in_one_sentence() -> None:
    result = siaga("aml", "parse", SMS, "--lang=fr")
    assert result.returncode == 2 and "--lang must be one of id, en" in result.stderr
