"""A node computes at its start what the first warning would otherwise compute on its way (bench/
warning_latency.py measured the first tsunami warning after a start 1.5-3.5 s later than the next ones)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from siaga.alerts import capbuild, signing
from siaga.hazards import config
from siaga.runtime.roles import warm_warning_path

pytestmark = pytest.mark.django_db


def _clear() -> None:
    config.city.cache_clear()
    capbuild._all_areas.cache_clear()
    signing._pair.cache_clear()


def test_warming_fills_the_caches_the_first_warning_reads(reference: None, settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path  # a signing pair of its own (made outside production)
    _clear()
    try:
        warm_warning_path()
        assert config.city.cache_info().currsize == 1
        assert capbuild._all_areas.cache_info().currsize == 1
        assert signing._pair.cache_info().currsize == 1
        hits = capbuild._all_areas.cache_info().hits
        capbuild.city_areas()  # what the first warning asks for is already there
        assert capbuild._all_areas.cache_info().hits == hits + 1
    finally:
        _clear()


def test_what_is_not_ready_is_said_and_does_not_stop_the_rest(reference: None, settings: Any, caplog: Any) -> None:
    settings.ENVIRONMENT = "production"  # production without a signing pair: signing cannot be warmed
    settings.CAP_SIGNING_KEY_FILE = settings.CAP_SIGNING_CERT_FILE = ""
    _clear()
    try:
        with caplog.at_level(logging.WARNING, logger="siaga.runtime"):
            warm_warning_path()  # does not raise
        assert "CAP signing not ready" in " ".join(r.getMessage() for r in caplog.records)
        assert config.city.cache_info().currsize == 1 and capbuild._all_areas.cache_info().currsize == 1
        assert signing._pair.cache_info().currsize == 0
    finally:
        _clear()
