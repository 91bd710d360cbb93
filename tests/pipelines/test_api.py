"""The pipelines API: drafts and versions, validation, import/export, the module catalog and
auth; and that malformed or hostile input gets a structured 4xx, never a 500."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from designer.engine.pipeline_file import MAX_FILE_BYTES
from designer.pipelines import services
from designer.pipelines.models import Pipeline
from designer.runs.models import Run

from .conftest import document

pytestmark = pytest.mark.django_db


def codes(response) -> list[str]:
    return [e["code"] for e in response.json()["errors"]]


def pinned(nodes: dict) -> dict:
    """Nodes as saved: each records its module's version (all of them at 1 here)."""
    return {node_id: {**node, "version": 1} for node_id, node in nodes.items()}


# -- create, read, list ---------------------------------------------------------------------


def test_create_from_a_name_starts_an_empty_graph(api):
    response = api.post("/api/pipelines/", {"name": "churn"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "churn" and body["current_version"] == 1
    assert body["document"] == {"format": "atelier/pipeline@1", "name": "churn", "nodes": {}}


def test_create_from_a_document_keeps_its_layout_and_takes_a_new_name(api):
    response = api.post("/api/pipelines/", {"document": document(), "name": "renamed"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == body["document"]["name"] == "renamed"
    assert body["document"]["layout"] == document()["layout"]
    assert body["document"]["nodes"]["split"]["inputs"] == {"dataset": "typed.dataset"}


def test_a_draft_may_be_an_invalid_graph(api):
    draft = document(lonely={"module": "split_data"}, odd={"module": "no_such_module"})
    response = api.post("/api/pipelines/", {"document": draft}, format="json")
    assert response.status_code == 201
    result = api.post(f"/api/pipelines/{response.json()['id']}/validate/", {}, format="json").json()
    assert result["valid"] is False
    assert {(e["code"], e["node"]) for e in result["errors"]} >= {("unknown_module", "odd")}
    assert any(e["node"] == "lonely" and e.get("port") == "dataset" for e in result["errors"])


def test_a_malformed_document_is_refused_naming_the_node(api):
    bad = document()
    bad["nodes"]["split"]["colour"] = "blue"
    response = api.post("/api/pipelines/", {"document": bad}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"code": "unknown_key", "message": "unknown key 'colour' in nodes.split", "node": "split"}
    ]
    assert not Pipeline.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": "x", "colour": "blue"}, "colour"),
    ({"name": 12 * "long name " * 20}, "name"),
    ({"name": "nul\x00"}, "name"),
])
def test_create_refuses_malformed_requests(api, body, field):
    response = api.post("/api/pipelines/", body, format="json")
    assert response.status_code == 400
    assert field in [e.get("field") for e in response.json()["errors"]]


def test_list_is_paginated_filtered_and_newest_first(api, user):
    for name in ("alpha", "beta", "gamma"):
        api.post("/api/pipelines/", {"name": name}, format="json")
    body = api.get("/api/pipelines/?limit=2").json()
    assert body["count"] == 3 and [p["name"] for p in body["results"]] == ["gamma", "beta"]
    assert "document" not in body["results"][0]
    assert [p["name"] for p in api.get("/api/pipelines/?name=ET").json()["results"]] == ["beta"]
    # An offset no database integer can hold is just past the end.
    assert api.get(f"/api/pipelines/?offset={10**30}").json()["results"] == []


def test_retrieve(api, pipeline):
    body = api.get(f"/api/pipelines/{pipeline.pk}/").json()
    assert body["id"] == pipeline.pk and body["document"]["nodes"].keys() == {"typed", "split"}


# -- saves and versions ---------------------------------------------------------------------


def test_every_save_is_a_new_version_and_keeps_the_name_in_sync(api, pipeline):
    changed = document(name="regression v2")
    changed["nodes"]["split"]["params"]["seed"] = 7
    response = api.put(
        f"/api/pipelines/{pipeline.pk}/", {"document": changed, "base_version": 1, "message": "seed"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["current_version"] == 2 and body["name"] == "regression v2"
    assert body["document"]["nodes"]["split"]["params"]["seed"] == 7

    versions = api.get(f"/api/pipelines/{pipeline.pk}/versions/").json()
    assert [(v["number"], v["message"], v["created_by"]) for v in versions["results"]] == [
        (2, "seed", "ada"), (1, "created", "ada"),
    ]
    first = api.get(f"/api/pipelines/{pipeline.pk}/versions/1/").json()
    assert first["document"]["name"] == "regression" and "seed" not in first["document"]["nodes"]["split"]["params"]
    assert api.get(f"/api/pipelines/{pipeline.pk}/versions/3/").status_code == 404
    assert api.get(f"/api/pipelines/{pipeline.pk}/versions/two/").status_code == 404


def _save(api, pipeline, base: int, session: str = "", seed: int = 1):
    changed = document()
    changed["nodes"]["split"]["params"]["seed"] = seed
    return api.put(
        f"/api/pipelines/{pipeline.pk}/", {"document": changed, "base_version": base, "session": session}, format="json"
    )


def _numbers(pipeline) -> list[int]:
    return list(pipeline.versions.values_list("number", flat=True))


def test_an_editor_sessions_saves_make_one_version(api, pipeline):
    assert _save(api, pipeline, 1, "tab-a", seed=1).json()["current_version"] == 2
    # The next save of the session replaces its version, under the next number…
    response = _save(api, pipeline, 2, "tab-a", seed=2)
    assert response.status_code == 200 and response.json()["current_version"] == 3
    assert _numbers(pipeline) == [3, 1]
    assert pipeline.versions.get(number=3).document["nodes"]["split"]["params"]["seed"] == 2
    assert api.get(f"/api/pipelines/{pipeline.pk}/versions/2/").status_code == 404
    # …so a tab that holds the replaced version is refused as before, never merged into.
    stale = _save(api, pipeline, 2, "tab-b", seed=9)
    assert stale.status_code == 409 and stale.json()["current_version"] == 3
    # Another session's save (or one without a session) is a version of its own.
    assert _save(api, pipeline, 3, "tab-b", seed=3).json()["current_version"] == 4
    assert _save(api, pipeline, 4, "", seed=4).json()["current_version"] == 5
    assert _save(api, pipeline, 5, "", seed=5).json()["current_version"] == 6
    assert _numbers(pipeline) == [6, 5, 4, 3, 1]


def test_a_session_starts_a_new_version_after_a_pause_or_a_run(api, pipeline, user):
    _save(api, pipeline, 1, "tab-a")
    pipeline.versions.filter(number=2).update(created_at=timezone.now() - timedelta(minutes=31))
    _save(api, pipeline, 2, "tab-a", seed=2)
    assert _numbers(pipeline) == [3, 2, 1]
    # A run names the version it ran: that version stays what it was.
    Run.objects.create(
        pipeline_name="regression", pipeline={}, plan={}, source="api", created_by=user,
        pipeline_version=pipeline.versions.get(number=3),
    )
    _save(api, pipeline, 3, "tab-a", seed=3)
    assert _numbers(pipeline) == [4, 3, 2, 1]
    _save(api, pipeline, 4, "tab-a", seed=4)
    assert _numbers(pipeline) == [5, 3, 2, 1]


@pytest.mark.parametrize("body, field", [
    ({"document": document()}, "base_version"),
    ({"document": document(), "base_version": "one"}, "base_version"),
    ({"document": document(), "base_version": -1}, "base_version"),
    ({"base_version": 1}, "document"),
    ({"document": document(), "base_version": 1, "force": True}, "force"),
])
def test_save_refuses_malformed_requests(api, pipeline, body, field):
    response = api.put(f"/api/pipelines/{pipeline.pk}/", body, format="json")
    assert response.status_code == 400
    assert field in [e.get("field") for e in response.json()["errors"]]
    assert Pipeline.objects.get().current_version == 1


def test_patch_renames_through_a_new_version(api, pipeline):
    response = api.patch(f"/api/pipelines/{pipeline.pk}/", {"name": "cars", "description": "prices"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["description"], body["current_version"]) == ("cars", "prices", 2)
    assert body["document"]["name"] == "cars" and body["document"]["nodes"] == pinned(document()["nodes"])
    assert api.patch(f"/api/pipelines/{pipeline.pk}/", {}, format="json").status_code == 400


def test_delete(api, pipeline):
    assert api.delete(f"/api/pipelines/{pipeline.pk}/").status_code == 204
    assert api.get(f"/api/pipelines/{pipeline.pk}/").status_code == 404
    assert not Pipeline.objects.exists()


def test_duplicate_starts_a_new_history(api, pipeline):
    api.patch(f"/api/pipelines/{pipeline.pk}/", {"description": "v2"}, format="json")
    response = api.post(f"/api/pipelines/{pipeline.pk}/duplicate/", {}, format="json")
    assert response.status_code == 201
    copy = response.json()
    assert copy["id"] != pipeline.pk and copy["name"] == "regression (2)" and copy["current_version"] == 1
    assert copy["document"]["name"] == "regression (2)"
    assert copy["document"]["description"] == "v2" and copy["document"]["layout"] == document()["layout"]
    named = api.post(f"/api/pipelines/{pipeline.pk}/duplicate/", {"name": "mine"}, format="json").json()
    assert named["name"] == named["document"]["name"] == "mine"


def test_a_users_pipeline_names_are_unique_a_new_one_gets_a_number(api, pipeline, other_user):
    names = [api.post("/api/pipelines/", {"name": "regression"}, format="json").json()["name"] for _ in range(2)]
    assert names == ["regression (2)", "regression (3)"]
    assert api.post(f"/api/pipelines/{pipeline.pk}/duplicate/", {}, format="json").json()["name"] == "regression (4)"
    # Another user's names are theirs.
    assert services.pipeline_create(user=other_user, name="regression").name == "regression"


def test_renaming_or_saving_to_a_taken_name_is_refused_saying_what_to_do(api, pipeline):
    other = api.post("/api/pipelines/", {"name": "churn"}, format="json").json()
    response = api.patch(f"/api/pipelines/{other['id']}/", {"name": "regression"}, format="json")
    assert response.status_code == 400 and codes(response) == ["name_taken"]
    assert response.json()["errors"][0]["message"] == "you already have a pipeline named 'regression': choose another name"
    saved = api.put(
        f"/api/pipelines/{other['id']}/", {"document": document("regression"), "base_version": 1}, format="json"
    )
    assert saved.status_code == 400 and codes(saved) == ["name_taken"]
    assert Pipeline.objects.get(pk=other["id"]).name == "churn"
    # Its own name, kept, is no clash.
    assert api.patch(f"/api/pipelines/{pipeline.pk}/", {"description": "same name"}, format="json").status_code == 200


# -- validate -------------------------------------------------------------------------------


def test_validate_the_current_version_a_version_or_a_draft(api, pipeline):
    url = f"/api/pipelines/{pipeline.pk}/validate/"
    result = api.post(url, {}, format="json").json()
    assert result["valid"] is True and result["errors"] == []
    # Every output port of a valid graph, with its columns where they can be inferred.
    assert result["schemas"] == {"typed": {"dataset": None}, "split": {"first": None, "second": None}}
    assert api.post(url, {"version": 1, "parameters": {"fraction": 0.5}}, format="json").json()["valid"] is True

    result = api.post(url, {"parameters": {"fraction": 2}}, format="json").json()
    assert result["valid"] is False and result["errors"][0]["node"] == "split"

    draft = document(train={"module": "train_model", "inputs": {"dataset": "nowhere.dataset"}})
    del draft["layout"]
    result = api.post(url, {"document": draft}, format="json").json()
    assert {(e["code"], e["node"], e["port"]) for e in result["errors"]} == {
        ("unknown_node", "train", "dataset"), ("missing_input", "train", "model"),
    }

    # A malformed draft's errors are data too: that is what the canvas asked for.
    result = api.post(url, {"document": {"format": "atelier/pipeline@1"}}, format="json").json()
    assert result == {
        "valid": False, "errors": [{"code": "missing_key", "message": "name is required", "node": None}], "schemas": {},
    }


def test_validate_a_web_service_input_beside_the_data_or_alone(api, pipeline):
    url = f"/api/pipelines/{pipeline.pk}/validate/"
    typed = {"module": "import_data", "params": {"source": "sample", "name": "iris"}}
    beside = document(typed=typed, request={"module": "web_service_input"}, split={
        "module": "split_data", "inputs": {"dataset": ["request.dataset", "typed.dataset"]},
    })
    result = api.post(url, {"document": beside}, format="json").json()
    assert result["valid"] is True
    # The request's columns are those of the data beside it.
    assert result["schemas"]["request"] == result["schemas"]["typed"] != {"dataset": None}

    alone = document(typed=typed, request={"module": "web_service_input"}, split={
        "module": "split_data", "inputs": {"dataset": "request.dataset"},
    })
    result = api.post(url, {"document": alone}, format="json").json()
    assert [(e["code"], e["node"], e["port"]) for e in result["errors"]] == [("request_input_alone", "split", "dataset")]


def test_samples_are_listed_and_start_drafts(api):
    samples = api.get("/api/pipelines/samples/").json()
    automobile = next(s for s in samples if s["slug"] == "automobile-price-regression")
    assert automobile["name"] == "automobile-price-regression" and automobile["description"]

    response = api.post("/api/pipelines/samples/automobile-price-regression/")
    assert response.status_code == 201
    assert response.json()["name"] == "automobile-price-regression" and "train" in response.json()["document"]["nodes"]
    assert api.post("/api/pipelines/samples/nope/").status_code == 404

    # Schema propagation knows the sample's columns before anything runs (column pickers).
    schemas = api.post(f"/api/pipelines/{response.json()['id']}/validate/", {}, format="json").json()["schemas"]
    assert "price" in [c["name"] for c in schemas["split"]["first"]]
    assert "normalized-losses" not in [c["name"] for c in schemas["select"]["dataset"]]


@pytest.mark.parametrize("body, field", [
    ({"parameters": {"fraction": [1]}}, "parameters"),
    ({"parameters": "fraction"}, "parameters"),
    ({"version": 1, "document": document()}, None),
    ({"compute": 5 * "x" * 100}, "compute"),
    ({"nodes": {}}, "nodes"),
])
def test_validate_refuses_malformed_requests(api, pipeline, body, field):
    response = api.post(f"/api/pipelines/{pipeline.pk}/validate/", body, format="json")
    assert response.status_code == 400
    assert field in [e.get("field") for e in response.json()["errors"]]


def test_validate_an_unknown_version_is_404(api, pipeline):
    assert api.post(f"/api/pipelines/{pipeline.pk}/validate/", {"version": 9}, format="json").status_code == 404


# -- import and export ----------------------------------------------------------------------


def test_import_a_multipart_file(api):
    upload = SimpleUploadedFile("cars.yaml", yaml.safe_dump(document()).encode(), "application/yaml")
    response = api.post("/api/pipelines/import/", {"file": upload, "name": "cars"}, format="multipart")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "cars" and body["document"]["nodes"] == pinned(document()["nodes"])


@pytest.mark.parametrize("content_type, text", [
    ("application/yaml", yaml.safe_dump(document())),
    ("application/json", json.dumps(document())),
    ("text/plain", yaml.safe_dump(document())),
])
def test_import_a_raw_body(api, content_type, text):
    response = api.generic("POST", "/api/pipelines/import/", text, content_type=content_type)
    assert response.status_code == 201, response.json()
    assert response.json()["document"]["layout"] == document()["layout"]


def test_import_keeps_an_invalid_graph_as_a_draft(api):
    text = yaml.safe_dump(document(odd={"module": "no_such_module"}))
    assert api.generic("POST", "/api/pipelines/import/", text, content_type="application/yaml").status_code == 201


@pytest.mark.parametrize("text, code", [
    ("format: atelier/pipeline@1\nname: [unclosed\n", "not_a_pipeline_file"),
    ('{"format": "atelier/pipeline@1", "name": ', "not_a_pipeline_file"),
    ("format: atelier/pipeline@1\nname: x\nnodes:\n  a: {module: m, inputs: {d: b.x, d: c.x}}\n", "duplicate_input_edge"),
    ("format: atelier/pipeline@2\nname: x\n", "unsupported_format"),
    ("- just\n- a list\n", "not_a_pipeline_file"),
    ("a: " + "[" * 3000 + "]" * 3000, "not_a_pipeline_file"),
    ('{"a": ' + "[" * 3000 + "]" * 3000 + "}", "not_a_pipeline_file"),
    ("format: atelier/pipeline@1\nname: x\nnodes:\n  n:\n    module: m\n    params:\n"
     "      a: &a [x, x, x]\n      b: &b [*a, *a, *a]\n", "not_a_pipeline_file"),
])
def test_import_refuses_a_malformed_file_with_every_error(api, text, code):
    response = api.generic("POST", "/api/pipelines/import/", text, content_type="application/yaml")
    assert response.status_code == 400
    assert code in codes(response)
    assert not Pipeline.objects.exists()


def test_import_refuses_a_file_that_is_too_large(api):
    upload = SimpleUploadedFile("big.yaml", b"#" * (MAX_FILE_BYTES + 1))
    response = api.post("/api/pipelines/import/", {"file": upload}, format="multipart")
    assert response.status_code == 400 and codes(response) == ["too_large"]
    response = api.generic("POST", "/api/pipelines/import/", b"#" * (MAX_FILE_BYTES + 1), content_type="text/plain")
    assert response.status_code == 400 and codes(response) == ["file_too_large"]


def test_import_without_a_file(api):
    response = api.post("/api/pipelines/import/", {"name": "x"}, format="multipart")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "file"
    response = api.generic("POST", "/api/pipelines/import/", "", content_type="application/yaml")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "file"


@pytest.mark.parametrize("fmt, load", [("yaml", yaml.safe_load), ("json", json.loads)])
def test_export_round_trips_through_import(api, pipeline, fmt, load):
    api.patch(f"/api/pipelines/{pipeline.pk}/", {"name": 'Cars "v2" / ../etc'}, format="json")
    response = api.get(f"/api/pipelines/{pipeline.pk}/export/?format={fmt}")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="cars-v2-etc.{fmt}"'
    text = response.content.decode()
    assert load(text)["layout"] == document()["layout"]
    again = api.generic("POST", "/api/pipelines/import/", text, content_type="text/plain").json()
    # The same document, but for the name: the user's pipeline has it already.
    exported = api.get(f"/api/pipelines/{pipeline.pk}/").json()["document"]
    assert again["document"] == {**exported, "name": 'Cars "v2" / ../etc (2)'}


def test_export_an_older_version_and_refuse_unknown_formats(api, pipeline):
    api.patch(f"/api/pipelines/{pipeline.pk}/", {"name": "renamed"}, format="json")
    old = api.get(f"/api/pipelines/{pipeline.pk}/export/?version=1")
    assert yaml.safe_load(old.content)["name"] == "regression"
    response = api.get(f"/api/pipelines/{pipeline.pk}/export/?format=xml")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "format"
    assert api.get(f"/api/pipelines/{pipeline.pk}/export/?version=7").status_code == 404


# -- module catalog -------------------------------------------------------------------------


def test_module_catalog(api):
    modules = api.get("/api/modules/").json()
    by_id = {m["id"]: m for m in modules}
    split = by_id["split_data"]
    assert [p["name"] for p in split["outputs"]] == ["first", "second"]
    assert {"name", "type", "default", "help", "required"} <= split["params"][0].keys()
    assert api.get("/api/modules/split_data/").json() == split
    # What the palette's search finds modules by, besides their titles.
    assert "drop column" in by_id["select_columns"]["keywords"]
    assert all(isinstance(m["keywords"], list) for m in modules)
    assert api.get("/api/modules/split_data/?version=1").json()["version"] == 1
    assert codes(api.get("/api/modules/no_such.module/")) == ["not_found"]
    assert api.get("/api/modules/split_data/?version=99").status_code == 404
    assert api.get("/api/modules/split_data/?version=x").status_code == 400


# -- auth -----------------------------------------------------------------------------------


def test_a_token_for_scripts(user, pipeline):
    client = APIClient()
    response = client.post("/api/auth/token/", {"username": "ada", "password": "lovelace-1815"}, format="json")
    assert response.status_code == 200
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert client.get("/api/auth/me/").json()["username"] == "ada"
    assert client.get(f"/api/pipelines/{pipeline.pk}/").status_code == 200


def test_a_wrong_password_is_a_structured_400(user):
    response = APIClient().post("/api/auth/token/", {"username": "ada", "password": "guess"}, format="json")
    assert response.status_code == 400 and codes(response) == ["authorization"]


def test_session_auth_for_the_page(client, user, pipeline):
    client.login(username="ada", password="lovelace-1815")
    assert client.get("/api/pipelines/").json()["count"] == 1


# -- hostile input --------------------------------------------------------------------------


def test_hostile_bodies_get_structured_4xx(api, pipeline, settings):
    url = f"/api/pipelines/{pipeline.pk}/"
    nul = document()
    nul["nodes"]["typed"]["params"]["data"] = "x\x00"
    assert codes(api.put(url, {"document": nul, "base_version": 1}, format="json")) == ["invalid_value"]

    assert codes(api.generic("PUT", url, "{not json", content_type="application/json")) == ["parse_error"]
    assert api.generic("PUT", url, "[1, 2]", content_type="application/json").status_code == 400
    deep = '{"document": ' + "[" * 100_000 + "]" * 100_000 + ', "base_version": 1}'
    assert codes(api.generic("PUT", url, deep, content_type="application/json")) == ["parse_error"]
    assert api.put(url, {"document": "text", "base_version": 1}, format="json").status_code == 400

    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api.generic("PUT", url, json.dumps({"document": document(), "base_version": 1}), content_type="application/json")
    assert response.status_code == 413 and codes(response) == ["too_large"]
    assert Pipeline.objects.get().current_version == 1


@pytest.mark.parametrize("pipeline_id", ["abc", "1.5", str(10**30), "-1", "%00"])
def test_malformed_ids_are_404(api, pipeline_id):
    response = api.get(f"/api/pipelines/{pipeline_id}/")
    assert response.status_code == 404 and codes(response) == ["not_found"]
