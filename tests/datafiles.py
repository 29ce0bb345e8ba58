"""Where the tests find the real documents they read: tests/data/, each folder with its SOURCE.txt."""

from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
CAP_EXAMPLES = DATA / "cap" / "examples"  # real CAP 1.2 messages (NOAA, USGS, NSW RFS, Environment Canada, OASIS)
EIDO_SCHEMA = DATA / "eido"  # NENA's EIDO JSON schema (openapi.yaml and its NIEMComponents)
