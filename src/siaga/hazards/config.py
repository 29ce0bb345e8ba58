"""The policy configuration and city shape from the settings (``SIAGA_POLICY_*``)."""

from __future__ import annotations

from functools import lru_cache

from django.conf import settings

from siaga.hazards.policy import City, PolicyConfig, default_city


def policy_config() -> PolicyConfig:
    return PolicyConfig(
        city_name=settings.CITY_NAME,
        tsunami_km=settings.POLICY_TSUNAMI_KM,
        ticker_km=settings.POLICY_TICKER_KM,
        ticker_magnitude=settings.POLICY_TICKER_MAGNITUDE,
        felt_places=tuple(settings.POLICY_FELT_PLACES),
        zone_provinces=tuple(settings.POLICY_ZONE_PROVINCES),
        zone_districts=tuple(settings.POLICY_ZONE_DISTRICTS),
        criteria_magnitude=settings.POLICY_CRITERIA_MAGNITUDE,
        criteria_depth_km=settings.POLICY_CRITERIA_DEPTH_KM,
    )


@lru_cache(maxsize=1)
def city() -> City:
    return default_city()
