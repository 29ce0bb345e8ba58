"""How the desk and the public pages write CAP terms, policy reasons, displays and feed lags."""

import pytest
from django.utils import translation

from siaga.alerts.templatetags import alert_format as f


@pytest.mark.parametrize(("seconds", "text"), [(0, "0 dtk"), (45.4, "45 dtk"), (600, "10 mnt"), (3 * 3600, "3 jam"),
                                                (107001734, "1238 hari"), (None, "")])
def test_a_feed_lag_reads_as_a_person_says_it(seconds: float | None, text: str) -> None:
    with translation.override("id"):
        assert f.lag(seconds) == text


def test_cap_terms_reasons_and_displays_are_indonesian_first() -> None:
    with translation.override("id"):
        assert [f.cap_term(w) for w in ("Severe", "Immediate", "Alert", "Update", "Cancel")] == [
            "Berat", "Segera", "Peringatan", "Pembaruan", "Pembatalan"]
        assert f.reason("far_or_small") == "Jauh atau kecil: hanya dicatat"
        assert f.display("fullscreen") == "Layar penuh"
        assert f.bare("[LATIHAN] [LATIHAN] Banjir") == "Banjir"
    with translation.override("en"):
        assert f.cap_term("Severe") == "Severe" and f.cap_term("Cancel") == "Cancel"
        assert f.reason("far_or_small") == "Far away or small: recorded only"
    assert f.cap_term("SomethingNew") == "SomethingNew"  # an unknown word as it is
