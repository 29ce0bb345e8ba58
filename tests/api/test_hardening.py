"""Every bad input to the API is a clear 4xx with the JSON error body, and nothing is written (issue 12):
times out of a clock's range or a century old, NUL and lone surrogates, offsets past any table, control
characters in paths, bodies over 1 MiB, ids that are not whole numbers, a boolean where an id belongs."""

import json
from typing import Any

import pytest

from siaga.incidents.models import Incident

pytestmark = pytest.mark.django_db


def post(client: Any, actor: Any, path: str, raw: str) -> Any:
    """As a script that reads English errors (Accept-Language: en)."""
    return client.post("/api/v1" + path, data=raw, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en",
                       **actor.headers())


@pytest.mark.parametrize(("raw", "field", "words"), [
    ('{"category": "kebakaran", "at": "0001-01-01T00:00:00+14:00"}', "at", "outside the years a clock can hold"),
    ('{"category": "kebakaran", "at": "9999-12-31T23:59:59-14:00"}', "at", "outside the years a clock can hold"),
    ('{"category": "kebakaran", "at": "1900-01-01T00:00:00+07:00"}', "at", "before 2000"),
    ('{"category": "kebakaran", "description": "api\\u0000tebal"}', "description", "NUL"),
    ('{"category": "kebakaran", "address": "Jl. \\ud800"}', "address", "lone surrogate"),
    ('{"category": "kebakaran", "lat": NaN, "lon": 106.0}', "lat", "not a finite number"),
    ('{"category": "kebakaran", "lat": -96.0, "lon": 106.0}', "lat", "must be at least -90"),
    ('{"category": "kebakaran", "call_id": false}', "call_id", "must be a whole number"),
    ('{"category": "kebakaran", "priority": 9}', "priority", "must be at most 4"),
])
def test_incident_input_that_cannot_be_stored_is_a_422_naming_the_field(client: Any, actors: Any, raw: str,
                                                                        field: str, words: str) -> None:
    response = post(client, actors["operator"], "/incidents", raw)
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["field"] == field and words in error["message"], error
    assert Incident.objects.count() == 0


def test_duplicate_of_false_is_not_an_incident_id(client: Any, actors: Any) -> None:
    created = post(client, actors["operator"], "/incidents", '{"category": "kebakaran"}')
    assert created.status_code == 201, created.content
    response = post(client, actors["operator"], f"/incidents/{created.json()['id']}/status",
                    '{"status": "duplicate", "duplicate_of": false}')
    assert response.status_code == 422 and response.json()["error"]["field"] == "duplicate_of"
    assert Incident.objects.get().status != "duplicate"


@pytest.mark.parametrize("path", ["/incidents", "/dispatches", "/calls"])
def test_an_offset_past_any_table_is_a_422(client: Any, actors: Any, path: str) -> None:
    response = client.get(f"/api/v1{path}?offset=9223372036854775808", **actors["supervisor"].headers())
    assert response.status_code == 422 and response.json()["error"]["field"] == "offset"
    assert client.get(f"/api/v1{path}?offset=-1", **actors["supervisor"].headers()).status_code == 422
    assert client.get(f"/api/v1{path}?limit=0", **actors["supervisor"].headers()).status_code == 422


def test_a_control_character_in_a_path_is_a_400_not_a_database_error(client: Any, actors: Any) -> None:
    for path in ("/api/v1/callers/%00", "/api/v1/callers/0812%00", "/api/v1/callers/%1b[2J"):
        response = client.get(path, **actors["supervisor"].headers())
        assert response.status_code == 400, (path, response.content)
        assert response.json()["error"]["field"] == "path"


def test_a_body_over_1_mib_is_a_413_with_the_json_error(client: Any, actors: Any) -> None:
    big = json.dumps({"category": "kebakaran", "description": "x" * (1100 * 1024)})
    response = post(client, actors["operator"], "/incidents", big)
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert Incident.objects.count() == 0


@pytest.mark.parametrize("path", ["/api/v1/alerts/abc", "/api/v1/roster/abc", "/api/v1/no-such-thing"])
def test_a_path_that_names_nothing_is_the_json_404(client: Any, actors: Any, path: str) -> None:
    response = client.get(path, **actors["supervisor"].headers())
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found" and path in response.json()["error"]["message"]


def test_pages_outside_the_api_keep_their_own_404(client: Any, actors: Any) -> None:
    client.force_login(actors["operator"].user)
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and not response["Content-Type"].startswith("application/json")


def test_the_openapi_document_states_the_errors_bounds_and_value_sets(client: Any, actors: Any) -> None:
    """What clients and schemathesis read: every operation lists its 4xx answers with the error body,
    list filters their bounds, status filters their value sets."""
    client.force_login(actors["operator"].user)
    schema = client.get("/api/v1/openapi.json").json()
    assert "ErrorOut" in schema["components"]["schemas"] and "ErrorDetail" in schema["components"]["schemas"]
    for path, methods in schema["paths"].items():
        for method, spec in methods.items():
            codes = {str(code) for code in spec["responses"]}
            assert {"401", "403"} <= codes, (method, path, codes)
            if spec.get("parameters") or spec.get("requestBody"):
                assert "422" in codes, (method, path, codes)
            if "{" in path:
                assert {"400", "404"} <= codes, (method, path, codes)
            if spec.get("requestBody"):
                assert {"400", "413"} <= codes, (method, path, codes)
            for code in codes - {"200", "201", "202", "204"}:
                assert "ErrorOut" in json.dumps(spec["responses"][code]), (method, path, code)
    params = {(path, p["name"]): p["schema"] for path, methods in schema["paths"].items()
              for spec in methods.values() for p in spec.get("parameters", [])}
    for path in ("/api/v1/incidents", "/api/v1/calls", "/api/v1/dispatches", "/api/v1/audit",
                 "/api/v1/alerts/threads", "/api/v1/hazards/events"):
        limit = params[(path, "limit")]
        assert limit["minimum"] == 1 and limit["maximum"] >= 500, (path, limit)
    assert params[("/api/v1/calls", "offset")]["minimum"] == 0
    components = schema["components"]["schemas"]

    def values(parameter: dict[str, Any]) -> list[str]:
        refs = [item["$ref"] for item in parameter.get("anyOf", [parameter]) if "$ref" in item]
        return components[refs[0].rsplit("/", 1)[-1]]["enum"] if refs else parameter.get("enum", [])

    assert "resolved" in values(params[("/api/v1/incidents", "status")])
    assert "en_route" in values(params[("/api/v1/dispatches", "status")])
    assert values(params[("/api/v1/regions/geojson", "level")]) == ["kelurahan", "kecamatan"]
    assert set(values(params[("/api/v1/reports/{kind}", "kind")])) == {"shift", "daily", "monthly"}
    # and the server keeps to it: a value outside the set is a 422 naming the parameter
    response = client.get("/api/v1/incidents?status=exploded", **actors["operator"].headers())
    assert response.status_code == 422 and "status" in json.dumps(response.json())


def test_resending_many_deliveries_is_audited_whole_and_bad_ids_are_refused(client: Any, actors: Any) -> None:
    """Found by schemathesis: fifteen long ids overflowed the audit row's object id (a 500 on PostgreSQL)."""
    from siaga.core.models import AuditLog

    ids = [10**15 + n for n in range(15)]
    response = post(client, actors["admin"], "/alerts/deliveries/resend", json.dumps({"ids": ids}))
    assert response.status_code == 200 and response.json() == {"queued": 0}
    row = AuditLog.objects.get(action="alert.resend")
    assert row.after["ids"] == ids and len(row.object_id) <= 64
    for bad in ([-5], [0], [True], list(range(1, 1002))):
        response = post(client, actors["admin"], "/alerts/deliveries/resend", json.dumps({"ids": bad}))
        assert response.status_code == 422 and response.json()["error"]["field"].startswith("ids"), bad


def test_ids_in_a_query_string_are_read_as_numbers(client: Any, actors: Any) -> None:
    """A query string is text: ?alert=5 is the id 5 (a strict body id type refused it with a 422)."""
    headers = actors["admin"].headers()
    assert client.get("/api/v1/alerts/deliveries?alert=5", **headers).status_code == 200
    assert client.get("/api/v1/incidents?kecamatan_id=3", **headers).status_code == 200
    for bad in ("0", "-1", "abc", "9223372036854775808"):
        response = client.get(f"/api/v1/alerts/deliveries?alert={bad}", **headers)
        assert response.status_code == 422 and response.json()["error"]["field"] == "alert", bad


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/alerts/threads/1/cancel", {}, "reason"),
    ("/alerts/threads/1/cancel", {"reason": "   "}, "reason"),
    ("/incidents/1/notes", {"text": ""}, "text"),
    ("/handovers", {"note": " \t"}, "note"),
    ("/incidents/1/status", {"status": "exploded"}, "status"),
    ("/calls/1/tag", {"outcome": ""}, "outcome"),
])
def test_required_texts_and_value_sets_are_the_documented_ones(client: Any, actors: Any, path: str, body: Any,
                                                               field: str) -> None:
    response = post(client, actors["supervisor"], path, json.dumps(body))
    assert response.status_code == 422 and response.json()["error"]["field"] == field
    assert "body" not in response.json()["error"]["message"]
