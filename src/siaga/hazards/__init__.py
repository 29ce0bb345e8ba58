"""Hazard intake: BMKG, InaTEWS and USGS pollers, quake events, the warning policy for this city."""
