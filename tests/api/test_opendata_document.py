"""The open data in the generated OpenAPI document: every operation public, summarised in
Russian, with its CSV variant, its ETag and its problems."""

from __future__ import annotations

import re

CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)


def _open_operations(document: dict) -> dict[str, dict]:
    return {
        path: operations["get"]
        for path, operations in document["paths"].items()
        if path.startswith("/api/v1/open/")
    }


def test_every_open_operation_is_documented_public_in_russian_with_csv_and_etag(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operations = _open_operations(document)
    assert set(operations) == {
        "/api/v1/open/votes",
        "/api/v1/open/votes/{vote_id}",
        "/api/v1/open/votes/{vote_id}/results",
        "/api/v1/open/votes/{vote_id}/box",
        "/api/v1/open/surveys",
        "/api/v1/open/surveys/{survey_id}/results",
        "/api/v1/open/hearings",
        "/api/v1/open/hearings/{hearing_id}",
        "/api/v1/open/hearings/{hearing_id}/documents",
        "/api/v1/open/hearings/{hearing_id}/draft",
        "/api/v1/open/statistics/regions",
        "/api/v1/open/statistics/regions/{region_id}/figures",
        "/api/v1/open/statistics/regions/{region_id}/hotspots",
        "/api/v1/open/statistics/regions/{region_id}/rating",
        "/api/v1/open/statistics/regions/{region_id}/daily",
        "/api/v1/open/statistics/regions/{region_id}/heatmap",
    }
    for path, operation in operations.items():
        assert CYRILLIC.search(operation["summary"]), path
        assert "security" not in operation, path  # no key, no token
        ok = operation["responses"]["200"]
        assert set(ok["content"]) == {"application/json", "text/csv"}, path
        assert "ETag" in ok["headers"], path
        assert "304" in operation["responses"], path
        names = {p.get("name") for p in operation.get("parameters", []) if "name" in p}
        assert "format" in names, path
        if "{" in path:
            assert "404" in operation["responses"], path


def test_the_box_operation_says_how_to_check_the_hash(client):
    document = client.get("/api/v1/openapi.json").get_json()
    box = document["paths"]["/api/v1/open/votes/{vote_id}/box"]["get"]
    for words in (
        "sha256sum",
        "json_sha256",
        "csv_sha256",
        "receipt_sha256",
        "K7QX-2MHD-VT9C-4PWA",
    ):
        assert words in box["description"], words
    figure = document["components"]["schemas"]["OpenFigureOut"]
    assert figure["properties"]["value"]["type"] == ["number", "null"]
    assert figure["properties"]["suppressed"]["type"] == "boolean"
