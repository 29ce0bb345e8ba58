"""What Google Public Alerts asks of a CAP message beyond CAP 1.2 (its "Google CAP requirements").

The checks that can be made on one message: one ``<info>`` per language (a multilingual alert is one
``<alert>`` with an ``<info>`` block per language, never two of the same language); an ``<areaDesc>`` shorter
than 50 characters (Google may put it in the alert's title); polygons that are closed, have at least four
coordinate pairs, no edge crossing another, and at most six decimals per coordinate; no circle of zero
radius. What concerns a feed (stale alerts removed, ``<status>Test</status>`` for end-to-end tests,
non-contiguous areas as separate alerts) is said in docs/operations.md.
"""

from __future__ import annotations

import itertools
import re

from siaga.formats import xmlsafe
from siaga.formats.cap import NS12, Problem

AREA_DESC_MAX = 49  # "less than 50 characters"
DECIMALS_MAX = 6
_NUMBER = re.compile(r"^-?\d+(?:\.(\d+))?$")


def _crosses(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float], d: tuple[float, float]) -> bool:
    """Do segments ab and cd cross (properly: not only touch at an end)?"""
    def side(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2, d3, d4 = side(c, d, a), side(c, d, b), side(a, b, c), side(a, b, d)
    return ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4))


def _polygon(text: str, path: str) -> list[Problem]:
    problems: list[Problem] = []
    points: list[tuple[float, float]] = []
    too_precise = 0
    for pair in text.split():
        parts = pair.split(",")
        if len(parts) != 2 or not all(_NUMBER.match(p) for p in parts):
            return [Problem(path, f"{pair!r} is not a lat,lon pair")]
        too_precise += any(len(_NUMBER.match(p).group(1) or "") > DECIMALS_MAX for p in parts)  # type: ignore[union-attr]
        points.append((float(parts[0]), float(parts[1])))
    if too_precise:
        problems.append(Problem(path, f"{too_precise} coordinate pair(s) with more than {DECIMALS_MAX} decimals"))
    if len(points) < 4:
        problems.append(Problem(path, f"{len(points)} coordinate pairs; at least 4 are needed"))
        return problems
    if points[0] != points[-1]:
        problems.append(Problem(path, "the polygon is not closed (its first and last pairs differ)"))
    edges = list(itertools.pairwise(points))
    crossing = next(((i, j) for i in range(len(edges)) for j in range(i + 2, len(edges))
                     if not (i == 0 and j == len(edges) - 1) and _crosses(*edges[i], *edges[j])), None)
    if crossing is not None:
        problems.append(Problem(path, f"edges {crossing[0] + 1} and {crossing[1] + 1} cross: the polygon "
                                      "intersects itself"))
    return problems


def findings(data: bytes) -> list[Problem]:
    """What in ``data`` (a CAP 1.2 alert) Google Public Alerts would not take, each with its element."""
    root = xmlsafe.parse(data, "CAP")
    ns = {"c": NS12}
    out: list[Problem] = []
    languages: dict[str, int] = {}
    for i, info in enumerate(root.findall("c:info", ns)):
        language = (info.findtext("c:language", default="en-US", namespaces=ns) or "en-US").strip().lower()
        if language in languages:
            out.append(Problem(f"info[{i}]/language", f"{language} again (info[{languages[language]}] has it): one "
                                                      "<info> per language"))
        languages.setdefault(language, i)
        for j, area in enumerate(info.findall("c:area", ns)):
            desc = (area.findtext("c:areaDesc", default="", namespaces=ns) or "").strip()
            if len(desc) > AREA_DESC_MAX:
                out.append(Problem(f"info[{i}]/area[{j}]/areaDesc", f"{len(desc)} characters; Google asks for less "
                                                                   "than 50"))
            for k, polygon in enumerate(area.findall("c:polygon", ns)):
                out += _polygon(polygon.text or "", f"info[{i}]/area[{j}]/polygon[{k}]")
            for k, circle in enumerate(area.findall("c:circle", ns)):
                radius = (circle.text or "").split()[-1:] or ["0"]
                try:
                    zero = float(radius[0]) <= 0
                except ValueError:
                    zero = True
                if zero:
                    out.append(Problem(f"info[{i}]/area[{j}]/circle[{k}]", "a circle of zero radius cannot be shown"))
    return out
