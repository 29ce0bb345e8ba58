"""Small builders for CTI traffic in tests."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)


def ev(kind: str, call: str = "c-1", at: float = 0.0, **extra: Any) -> dict[str, Any]:
    """A CTI event ``at`` seconds after T0; event ids derive from call and kind unless given."""
    body = {"event_id": extra.pop("event_id", f"{call}:{kind}"), "type": f"call.{kind}", "call_id": call,
            "occurred_at": (T0 + timedelta(seconds=at)).isoformat().replace("+00:00", "Z")}
    body.update(extra)
    return body


def post_event(client: Any, machine: Any, body: Any, raw: bytes | None = None) -> Any:
    data = raw if raw is not None else json.dumps(body)
    return client.post("/api/v1/cti/events", data=data, content_type="application/json", **machine.headers())
