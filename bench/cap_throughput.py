#!/usr/bin/env python3
"""CAP parse + validate throughput: siaga.formats.cap beside capparselib, in the same run, on the same corpus.

The corpus: the six real CAP 1.2 messages in tests/data/cap/examples (NOAA tsunami warning, USGS quake in
ISO-8859-1, NSW fire, Environment Canada, the OASIS examples) and two Siaga112 alerts of the size the city
issues (eight kecamatan polygons of up to 100 vertices, two languages), built from the bundled boundaries.

Both sides parse every message into data and validate it against the CAP 1.2 schema: siaga with
``cap.parse_and_validate`` (the XSD plus the rules the XSD cannot say), capparselib with ``CAPParser`` (its
objectify parser with the schema). capparselib pins an old lxml, so it is installed for the benchmark only,
without its dependencies (``pip install --no-deps capparselib python-dateutil``), and runs on our lxml.

    .venv/bin/python bench/cap_throughput.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
EXAMPLES = ROOT / "tests" / "data" / "cap" / "examples"

from common import result  # noqa: E402

from siaga.formats import cap  # noqa: E402
from siaga.geo import polygons_of, simplify_ring  # noqa: E402


def ensure_capparselib() -> object:
    try:
        from capparselib.parsers import CAPParser
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "capparselib",
                        "python-dateutil"], check=True)
        from capparselib.parsers import CAPParser
    return CAPParser


def city_alert(identifier: str) -> bytes:
    geojson = json.loads((ROOT / "src/siaga/core/data/geo/cilegon_kecamatan.geojson").read_text())
    areas = []
    for feature in geojson["features"]:
        rings = [simplify_ring(polygon[0], 100) for polygon in polygons_of(feature["geometry"])]
        areas.append(cap.Area(desc=f"Kecamatan {feature['properties'].get('name', '')}",
                              polygons=[[(lat, lon) for lon, lat in ring] for ring in rings],
                              geocodes=[("KEMENDAGRI", "36.72.01"), ("POSTCODE", "42431"), ("POSTCODE", "42435")]))
    infos = [cap.Info(language=language, event="Peringatan Dini Tsunami", urgency="Immediate", severity="Extreme",
                      certainty="Likely", response_types=["Evacuate"], headline="AWAS TSUNAMI: segera evakuasi",
                      description="Gempa bumi M7.4 ... berpotensi tsunami.", instruction="Segera evakuasi.",
                      web="http://127.0.0.1:8112/peringatan/", parameters=[("EWS_LEVEL", "AWAS")], areas=areas)
             for language in ("id-ID", "en-US")]
    alert = cap.Alert(identifier=identifier, sender="siaga112@cilegon.go.id",
                      sent=datetime(2026, 11, 12, 3, 7, 2, tzinfo=UTC), infos=infos)
    return cap.to_xml(alert)


def corpus() -> list[tuple[str, bytes]]:
    found = [(p.name, p.read_bytes()) for p in sorted(EXAMPLES.glob("*"))] if EXAMPLES.exists() else []
    found += [("siaga-cilegon-awas.xml", city_alert("urn:oid:2.25.1.1.20261112100702.101")),
              ("siaga-cilegon-awas-2.xml", city_alert("urn:oid:2.25.1.1.20261112100702.102"))]
    return found


def _text(data: bytes) -> str:
    head = data[:100].lower()
    return data.decode("iso-8859-1" if b"iso-8859-1" in head else "utf-8")


def run(fn: object, messages: list[tuple[str, bytes]], seconds: float) -> tuple[int, float]:
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _, data in messages:
            fn(data)  # type: ignore[operator]
            count += 1
    return count, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="time per library and corpus")
    parser.add_argument("--smoke", action="store_true", help="0.2 s per library and corpus")
    args = parser.parse_args()
    if args.smoke:
        args.seconds = 0.2
    CAPParser = ensure_capparselib()
    every = corpus()

    def siaga(data: bytes) -> None:
        alert, problems = cap.parse_and_validate(data)
        assert alert is not None and not problems, problems

    def capparselib(data: bytes) -> None:
        parsed = CAPParser(_text(data)).as_dict()  # type: ignore[operator]
        assert parsed, "capparselib read nothing"

    for _, data in every:  # both must accept every message before anything is timed
        siaga(data)
        capparselib(data)
    groups = [("real corpus (6 messages)", [m for m in every if not m[0].startswith("siaga-")]),
              ("city-sized Siaga112 alerts (2)", [m for m in every if m[0].startswith("siaga-")]),
              ("all 8 together", every)]
    print(f"messages: {', '.join(n for n, _ in every)}")
    print(f"{'corpus':<32} {'library':<20} {'messages/s':>11} {'us/message':>11} {'MB/s':>7} {'speed-up':>9}")
    for label, messages in groups:
        if not messages:
            continue
        total = sum(len(d) for _, d in messages)
        rates = {}
        for name, fn in (("siaga.formats.cap", siaga), ("capparselib 0.6.6", capparselib)):
            count, elapsed = run(fn, messages, args.seconds)
            rates[name] = count / elapsed
            mbs = count / elapsed * total / len(messages) / 1e6
            ratio = f"{rates['siaga.formats.cap'] / rates[name]:.1f}x" if name != "siaga.formats.cap" else ""
            print(f"{label:<32} {name:<20} {count / elapsed:>11,.0f} {elapsed / count * 1e6:>11,.0f} {mbs:>7.1f} "
                  f"{ratio:>9}")
        if label.startswith("real corpus"):
            result("cap_throughput", "speed-up over capparselib, real corpus, parse + validate",
                   rates["siaga.formats.cap"] / rates["capparselib 0.6.6"], "x", goal=5.0, higher_is_better=True,
                   messages_per_s=rates["siaga.formats.cap"])
    print("goal: >= 5x on the real corpus (parse + validate against the CAP 1.2 schema, both libraries)")


if __name__ == "__main__":
    main()
