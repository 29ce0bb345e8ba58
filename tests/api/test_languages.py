"""API errors are Bahasa Indonesia unless the request asks for English (issue 13): Accept-Language for a
script, the language switch's cookie for a browser, and the console's own scripts send the page's language."""

import json
from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def post(client: Any, actor: Any, path: str, body: dict[str, Any], **headers: str) -> Any:
    return client.post("/api/v1" + path, data=json.dumps(body), content_type="application/json",
                       **actor.headers(), **headers)


def test_an_action_refusal_is_indonesian_by_default_and_english_on_request(client: Any, actors: Any) -> None:
    op = actors["operator"]
    default = post(client, op, "/incidents", {"category": "alien"})
    assert default.status_code == 422
    assert default.json()["error"]["message"] == "kategori 'alien' tidak dikenal atau tidak aktif"
    assert default["Content-Language"] == "id"
    english = post(client, op, "/incidents", {"category": "alien"}, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert english.json()["error"]["message"] == "category 'alien' is unknown or inactive"
    preferred = post(client, op, "/incidents", {"category": "alien"}, HTTP_ACCEPT_LANGUAGE="en;q=0.5, id;q=0.9")
    assert preferred.json()["error"]["message"].startswith("kategori")
    client.cookies["django_language"] = "en"  # the switch wins over the header
    switched = post(client, op, "/incidents", {"category": "alien"}, HTTP_ACCEPT_LANGUAGE="id")
    assert switched.json()["error"]["message"].startswith("category")


def test_a_nested_step_name_is_in_the_same_language(client: Any, actors: Any) -> None:
    op = actors["operator"]
    created = post(client, op, "/incidents", {"category": "kebakaran"}).json()
    step = {"status": "resolved"}
    indonesian = post(client, op, f"/incidents/{created['id']}/status", step).json()["error"]["message"]
    english = post(client, op, f"/incidents/{created['id']}/status", step, HTTP_ACCEPT_LANGUAGE="en").json()
    assert indonesian.startswith(f"kejadian {created['ticket']}")
    assert "cannot become resolved" in english["error"]["message"]
    late = post(client, op, "/incidents", {"category": "kebakaran", "at": "2999-01-01T00:00:00+07:00"})
    assert late.json()["error"]["message"].startswith("laporan pada 2998-12-31T17:00:00+00:00 ada di masa depan")
    forbidden = post(client, actors["wall"], "/incidents", {"category": "kebakaran"})
    assert forbidden.status_code == 403 and forbidden.json()["error"]["message"].startswith("ini memerlukan")


def test_schema_errors_read_as_sentences_in_both_languages(client: Any, actors: Any) -> None:
    op = actors["operator"]
    body = {"category": "kebakaran", "priority": 9}
    assert post(client, op, "/incidents", body).json()["error"]["message"] == "priority: paling besar 4"
    english = post(client, op, "/incidents", body, HTTP_ACCEPT_LANGUAGE="en").json()["error"]["message"]
    assert english == "priority: must be at most 4"
    missing = post(client, op, "/incidents", {}).json()["error"]
    assert missing["field"] == "category" and missing["message"] == "category: wajib diisi"
    anonymous = client.get("/api/v1/incidents")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["message"].startswith("perlu autentikasi")
