"""A local stand-in for BMKG's feed servers: serves recorded records, publishes drill scenarios, injects faults.

The real BMKG servers cannot be reached here (and must never be hammered by tests), so the demo, the tests
and the drill point the pollers at this server instead. It speaks the same wire format: the recorded
captures are served byte for byte until something is published, then documents of the same shape.

Paths (as on data.bmkg.go.id): ``/DataMKG/TEWS/autogempa.json`` and ``.xml``, ``gempaterkini``,
``gempadirasakan``; ``/inatews/warning.json`` (and ``.xml``) for InaTEWS; ``/usgs/summary.geojson``.
Responses carry ``ETag`` and ``Last-Modified`` and answer conditional requests with 304.

Control (loopback only, with the ``X-Replay-Token`` header when a token is set):
``POST /control/publish`` ``{"feed": "autogempa", "scenario": "<file>", "shift_to_now": true}`` or with
``"record": {...}`` (a BMKG ``gempa`` object or an InaTEWS document); ``POST /control/fault``
``{"path": "/DataMKG/TEWS/autogempa.json", "mode": "500|hang|truncate|html|drip|huge|none", "count": 3}``
(``drip``: the document one byte every ``drip_seconds``; ``huge``: 60 MB of padding with no length);
``POST /control/document`` ``{"feed": "gempaterkini", "body": "<the document as text>"}`` serves a document
as given (a list with a malformed record, say); ``POST /control/reset``; ``GET /control/state``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any

from siaga.formats import bmkg, inatews, usgs
from siaga.formats.quake import WIB

BMKG_FEEDS = ("autogempa", "gempaterkini", "gempadirasakan")
RECORDED = {
    "autogempa": "autogempa_2024-01-10_sumedang.json",
    "gempaterkini": "gempaterkini_2023-07-12.json",
    "gempadirasakan": None,
    "inatews": "inatews_warning_2023-04-25_mentawai_PD1_original.json",
}
MAX_LIST = 15


def data_file(folder: str, name: str) -> bytes:
    return (resources.files("siaga.hazards") / "data" / folder / name).read_bytes()


def scenario(name: str) -> bytes:
    return data_file("scenarios", name)


@dataclass
class Document:
    body_json: bytes
    body_xml: bytes | None
    changed_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))


@dataclass
class Fault:
    mode: str
    remaining: int


def _shift_bmkg(record: dict[str, Any], when: datetime) -> dict[str, Any]:
    local = when.astimezone(WIB)
    shifted = dict(record)
    shifted["DateTime"] = when.astimezone(UTC).isoformat()
    shifted["Tanggal"] = f"{local.day:02d} {bmkg._MONTH_NAMES[local.month - 1]} {local.year}"
    shifted["Jam"] = local.strftime("%H:%M:%S") + " WIB"
    if "Shakemap" in shifted:
        shifted["Shakemap"] = local.strftime("%Y%m%d%H%M%S") + ".mmi.jpg"
    return shifted


def _shift_inatews(document: dict[str, Any], delta: timedelta, latest: datetime | None = None) -> dict[str, Any]:
    """Every time in an InaTEWS document moved by ``delta`` (identifiers follow the sent time); the sent time
    no later than ``latest`` (a message published now about a quake that just happened is sent now, never in
    the future)."""
    doc = copy.deepcopy(document)
    sent = inatews.parse(json.dumps(document).encode()).sent_utc + delta
    if latest is not None:
        sent = min(sent, latest)
    sent_local = sent.astimezone(WIB)
    stamp = sent_local.strftime("%Y%m%d%H%M%S")
    doc["sent"] = sent_local.strftime("%Y-%m-%dT%H:%M:%S") + "WIB"
    doc["identifier"] = f"Indonesia-InaTEWS-{stamp}"
    info = doc["info"]
    origin = inatews.parse(json.dumps(document).encode()).quake.time_utc + delta
    origin_local = origin.astimezone(WIB)
    info["date"] = origin_local.strftime("%d-%m-%y")
    info["time"] = origin_local.strftime("%H:%M:%S") + " WIB"
    info["eventid"] = stamp
    info["timesent"] = sent_local.strftime("%d/%m/%Y %H:%M:%S") + "WIB"
    for zone in info.get("wzarea") or []:
        if zone.get("date") and zone.get("time"):
            arrival = datetime.strptime(f"{zone['date']} {zone['time'][:8]}", "%d-%m-%Y %H:%M:%S").replace(tzinfo=WIB)
            arrival += delta
            zone["date"] = arrival.strftime("%d-%m-%Y")
            zone["time"] = arrival.strftime("%H:%M:%S") + " WIB"
    return doc


class ReplayState:
    def __init__(self, *, recorded: bool = True) -> None:
        self.lock = threading.Lock()
        self.documents: dict[str, Document] = {}
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.faults: dict[str, Fault] = {}
        self.requests: dict[str, int] = {}
        self.recorded = recorded
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.documents.clear()
            self.records.clear()
            self.faults.clear()
            for feed in BMKG_FEEDS:
                name = RECORDED.get(feed) if self.recorded else None
                if name:
                    raw = data_file("recorded", name)
                    gempa = json.loads(raw)["Infogempa"]["gempa"]
                    self.records[feed] = gempa if isinstance(gempa, list) else [gempa]
                    self.documents[feed] = Document(raw, bmkg.to_xml(bmkg.parse(raw, feed)))
                else:
                    self.records[feed] = []
                    self._render(feed)
            name = RECORDED["inatews"] if self.recorded else None
            self.documents["inatews"] = Document(data_file("recorded", name) if name else b"", None)
            self.records["usgs"] = []
            self.documents["usgs"] = Document(b'{"type":"FeatureCollection","metadata":{},"features":[]}', None)

    def _render(self, feed: str) -> None:
        records = self.records[feed]
        body: Any = records[0] if feed == "autogempa" and records else records
        raw = json.dumps({"Infogempa": {"gempa": body}}, ensure_ascii=False).encode()
        xml = bmkg.to_xml(bmkg.parse(raw, feed)) if records else b'<?xml version="1.0"?>\n<Infogempa></Infogempa>\n'
        self.documents[feed] = Document(raw, xml)

    def publish(self, feed: str, record: dict[str, Any] | None = None, scenario_name: str | None = None,
                shift_to_now: bool = False, at: datetime | None = None) -> dict[str, Any]:
        if scenario_name:
            loaded = json.loads(scenario(scenario_name))
            record = loaded["Infogempa"]["gempa"] if "Infogempa" in loaded else loaded
        if not isinstance(record, dict):
            raise ValueError("give a record (object) or a scenario file name")
        now = (at or datetime.now(UTC)).replace(microsecond=0)
        with self.lock:
            if feed == "inatews":
                if shift_to_now:
                    quake_time = inatews.parse(json.dumps(record).encode()).quake.time_utc
                    record = _shift_inatews(record, now - quake_time, latest=now)
                raw = json.dumps(record, ensure_ascii=False).encode()
                inatews.parse(raw)  # refuse to serve what our own parser cannot read
                self.documents["inatews"] = Document(raw, None)
                return record
            if feed == "usgs":  # a GeoJSON Feature, newest first as USGS lists them
                usgs.feature_to_quake(record, 0)
                self.records["usgs"] = [record, *self.records["usgs"]][:MAX_LIST]
                body = {"type": "FeatureCollection", "metadata": {}, "features": self.records["usgs"]}
                self.documents["usgs"] = Document(json.dumps(body).encode(), None)
                return record
            if feed not in BMKG_FEEDS:
                raise ValueError(f"unknown feed {feed!r}")
            if shift_to_now:
                record = _shift_bmkg(record, now)
            bmkg.record_to_quake(record, feed)
            if feed == "autogempa":
                self.records[feed] = [record]
            else:
                self.records[feed] = [record, *self.records[feed]][:MAX_LIST]
            self._render(feed)
            return record

    def publish_document(self, feed: str, body: bytes) -> None:
        """Serve ``body`` as the JSON document of ``feed``, as it is (nothing is checked: a test puts a
        malformed record in a list this way); the XML form is left empty."""
        if feed not in (*BMKG_FEEDS, "inatews", "usgs"):
            raise ValueError(f"unknown feed {feed!r}")
        with self.lock:
            self.documents[feed] = Document(body, b'<?xml version="1.0"?>\n<Infogempa></Infogempa>\n'
                                            if feed in BMKG_FEEDS else None, datetime.now(UTC).replace(microsecond=0))

    def document(self, path: str) -> tuple[bytes, str, datetime] | None:
        with self.lock:
            self.requests[path] = self.requests.get(path, 0) + 1
            for feed in BMKG_FEEDS:
                for suffix, kind in ((".json", "application/json"), (".xml", "application/xml")):
                    if path == f"/DataMKG/TEWS/{feed}{suffix}":
                        doc = self.documents[feed]
                        body = doc.body_json if suffix == ".json" else (doc.body_xml or b"")
                        return body, kind, doc.changed_at
            if path == "/inatews/warning.json":
                doc = self.documents["inatews"]
                return doc.body_json, "application/json", doc.changed_at
            if path == "/usgs/summary.geojson":
                doc = self.documents["usgs"]
                return doc.body_json, "application/geo+json", doc.changed_at
        return None

    def take_fault(self, path: str) -> str | None:
        with self.lock:
            fault = self.faults.get(path)
            if fault is None or fault.remaining == 0:
                return None
            if fault.remaining > 0:
                fault.remaining -= 1
            return fault.mode


class _Handler(BaseHTTPRequestHandler):
    server: ReplayServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _send(self, status: int, body: bytes, kind: str = "application/json", extra: dict[str, str] | None = None
              ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/control/state":
            if not self._authorised():
                return
            state = self.server.state
            with state.lock:
                data = {"requests": dict(state.requests),
                        "faults": {p: f.__dict__ for p, f in state.faults.items()},
                        "records": {k: len(v) for k, v in state.records.items()}}
            self._send(200, json.dumps(data).encode())
            return
        fault = self.server.state.take_fault(path)
        if fault == "hang":
            time.sleep(self.server.hang_seconds)
            self._send(503, b"")
            return
        if fault == "500":
            self._send(500, b"<html><body><h1>500 Internal Server Error</h1></body></html>", "text/html")
            return
        if fault == "html":
            self._send(200, b"<!DOCTYPE html><html><head><title>Pemeliharaan</title></head><body>"
                            b"<p>Situs sedang dalam pemeliharaan</p></body></html>", "text/html")
            return
        found = self.server.state.document(path)
        if found is None:
            self._send(404, b'{"error": "not found"}')
            return
        body, kind, changed = found
        if not body:  # InaTEWS with no warning in force: nothing to report
            self._send(204, b"", kind)
            return
        if fault == "truncate":
            self._send(200, body[: max(1, len(body) // 2)], kind)
            return
        if fault == "drip":  # a slow server: the whole document, one byte at a time
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for at in range(len(body)):
                    self.wfile.write(body[at:at + 1])
                    self.wfile.flush()
                    time.sleep(self.server.drip_seconds)
            except OSError:  # the client gave up, as it should
                pass
            return
        if fault == "huge":  # 60 MB with no length: only the reader's limit stops it
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            padding = b"{" + b" " * (1024 * 1024 - 1)
            try:
                for _ in range(60):
                    self.wfile.write(padding)
                    padding = b" " * len(padding)
            except OSError:
                pass
            return
        etag = '"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Last-Modified": format_datetime(changed, usegmt=True), "Cache-Control": "no-cache"}
        if self.headers.get("If-None-Match") == etag:
            self._send(304, b"", kind, headers)
            return
        since = self.headers.get("If-Modified-Since")
        if since and not self.headers.get("If-None-Match"):
            try:
                if parsedate_to_datetime(since) >= changed:
                    self._send(304, b"", kind, headers)
                    return
            except (TypeError, ValueError):
                pass
        self._send(200, body, kind, headers)

    do_HEAD = do_GET

    def _authorised(self) -> bool:
        if self.client_address[0] not in ("127.0.0.1", "::1"):
            self._send(403, b'{"error": "control is for loopback only"}')
            return False
        if self.server.token and self.headers.get("X-Replay-Token") != self.server.token:
            self._send(401, b'{"error": "X-Replay-Token is missing or wrong"}')
            return False
        return True

    def do_POST(self) -> None:
        if not self._authorised():
            return
        length = int(self.headers.get("Content-Length") or 0)
        try:
            data = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            self._send(400, b'{"error": "the body is not JSON"}')
            return
        state = self.server.state
        try:
            if self.path == "/control/publish":
                record = state.publish(data.get("feed", ""), data.get("record"), data.get("scenario"),
                                       bool(data.get("shift_to_now")))
                self._send(200, json.dumps({"published": record}, ensure_ascii=False).encode())
            elif self.path == "/control/fault":
                mode = data.get("mode", "none")
                if mode not in ("500", "hang", "truncate", "html", "drip", "huge", "none"):
                    raise ValueError(f"unknown fault mode {mode!r}")
                with state.lock:
                    state.faults[data["path"]] = Fault(mode, int(data.get("count", -1)) if mode != "none" else 0)
                self._send(200, b'{"ok": true}')
            elif self.path == "/control/document":
                state.publish_document(data.get("feed", ""), str(data.get("body", "")).encode())
                self._send(200, b'{"ok": true}')
            elif self.path == "/control/reset":
                state.reset()
                self._send(200, b'{"ok": true}')
            else:
                self._send(404, b'{"error": "not found"}')
        except (ValueError, KeyError) as exc:
            self._send(400, json.dumps({"error": str(exc)}).encode())
        except Exception as exc:
            self._send(400, json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())


class ReplayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0, token: str = "", recorded: bool = True,
                 hang_seconds: float = 30.0, drip_seconds: float = 0.5) -> None:
        super().__init__((host, port), _Handler)
        self.state = ReplayState(recorded=recorded)
        self.token = token
        self.hang_seconds = hang_seconds
        self.drip_seconds = drip_seconds

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def feed_urls(self) -> dict[str, str]:
        base = self.url
        urls = {feed: f"{base}/DataMKG/TEWS/{feed}.json" for feed in BMKG_FEEDS}
        urls["inatews"] = f"{base}/inatews/warning.json"
        urls["usgs"] = f"{base}/usgs/summary.geojson"
        return urls

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="siaga-replay", daemon=True)
        thread.start()
        return thread
