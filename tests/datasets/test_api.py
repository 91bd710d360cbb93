"""The datasets API: uploads (format told by content), versions, preview, profile, download,
delete; and every hostile or broken upload answered with a structured 4xx, never a 500."""
from __future__ import annotations

import io
import random

import pandas as pd
import pytest

from designer.datasets.models import Dataset, DatasetVersion

from .conftest import CSV, parquet_bytes, upload

pytestmark = pytest.mark.django_db


def catalog(store_dirs, user, name: str, number: int):
    return store_dirs / "datasets" / "users" / str(user.pk) / name / f"v{number}" / "table.parquet"


def test_upload_a_csv(api, user, store_dirs, dataset):
    assert dataset["name"] == "cars" and dataset["current_version"] == 1
    latest = dataset["latest"]
    assert latest["number"] == 1 and latest["rows"] == 20 and latest["columns"] == 3
    assert latest["format"] == "csv" and latest["original_filename"] == "cars.csv"
    assert latest["created_by"] == "ada" and latest["size_bytes"] > 0
    assert [c["name"] for c in latest["schema"]] == ["x", "y", "colour"]
    stored = pd.read_parquet(catalog(store_dirs, user, "cars", 1))
    pd.testing.assert_frame_equal(stored, pd.read_csv(io.StringIO(CSV)))


def test_the_same_name_makes_new_versions(api, user, store_dirs, dataset):
    again = api.post("/api/datasets/", {"file": upload(CSV + "99,1.5,red\n"), "name": "cars"}, format="multipart")
    assert again.status_code == 201 and again.json()["id"] == dataset["id"]
    assert again.json()["current_version"] == 2 and again.json()["latest"]["rows"] == 21
    third = api.post(f"/api/datasets/{dataset['id']}/versions/", {"file": upload(CSV, "other.txt")}, format="multipart")
    assert third.status_code == 201, third.content
    assert third.json()["number"] == 3
    versions = api.get(f"/api/datasets/{dataset['id']}/versions/").json()["results"]
    assert [v["number"] for v in versions] == [3, 2, 1]
    assert api.get(f"/api/datasets/{dataset['id']}/versions/2/").json()["rows"] == 21
    assert all(catalog(store_dirs, user, "cars", n).is_file() for n in (1, 2, 3))
    assert Dataset.objects.count() == 1


@pytest.mark.parametrize(
    ("filename", "content", "fmt"),
    [
        ("t.tsv", "a\tb\n1\tx\n2\ty\n", "tsv"),
        ("t.csv", "a;b\n1;x\n2;y\n", "csv"),
        ("t.json", '[{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]', "json"),
        ("t.jsonl", '{"a": 1, "b": "x"}\n{"a": 2, "b": "y"}\n', "json"),
        ("t.parquet", parquet_bytes(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})), "parquet"),
        # No extension, or one that claims nothing: the content decides.
        ("t", parquet_bytes(pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})), "parquet"),
        ("t.dat", '[{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]', "json"),
    ],
)
def test_every_format_is_told_by_its_content(api, filename, content, fmt):
    response = api.post("/api/datasets/", {"file": upload(content, filename), "name": "t"}, format="multipart")
    assert response.status_code == 201, response.content
    latest = response.json()["latest"]
    assert latest["format"] == fmt and latest["rows"] == 2 and [c["name"] for c in latest["schema"]] == ["a", "b"]


def test_list_retrieve_and_filter(api, dataset):
    api.post("/api/datasets/", {"file": upload(CSV), "name": "bikes"}, format="multipart")
    assert sorted(d["name"] for d in api.get("/api/datasets/").json()["results"]) == ["bikes", "cars"]
    assert [d["name"] for d in api.get("/api/datasets/?name=bik").json()["results"]] == ["bikes"]
    detail = api.get(f"/api/datasets/{dataset['id']}/").json()
    assert detail["name"] == "cars" and detail["latest"]["number"] == 1


def test_preview_pages_and_sorts(api, dataset):
    base = f"/api/datasets/{dataset['id']}/versions/1/preview/"
    page = api.get(base, {"offset": 5, "limit": 3, "sort": "-x"}).json()
    assert page["total_rows"] == 20 and page["rows"] == [[14, 28.5, "blue"], [13, 26.5, "red"], [12, 24.5, "blue"]]
    assert {c["name"]: c["type"] for c in page["columns"]}["x"] == "numeric"
    bad_sort = api.get(base, {"sort": "nope"})
    assert bad_sort.status_code == 400 and bad_sort.json()["errors"][0]["field"] == "sort"
    assert api.get(base, {"limit": 100_000}).status_code == 400
    assert api.get(f"/api/datasets/{dataset['id']}/versions/9/preview/").status_code == 404


def test_profile_describes_every_column(api, dataset):
    profile = api.get(f"/api/datasets/{dataset['id']}/versions/1/profile/").json()
    assert profile["total_rows"] == 20
    columns = {c["name"]: c for c in profile["columns"]}
    assert columns["x"]["mean"] == pytest.approx(9.5) and columns["x"]["min"] == 0 and columns["x"]["max"] == 19
    assert columns["x"]["histogram"] and columns["colour"]["unique"] == 2
    assert {v["value"] for v in columns["colour"]["top_values"]} == {"red", "blue"}


def test_download_is_the_stored_parquet(api, dataset):
    response = api.get(f"/api/datasets/{dataset['id']}/versions/1/download/", HTTP_ACCEPT="application/octet-stream")
    assert response.status_code == 200
    assert 'filename="cars-v1.parquet"' in response["Content-Disposition"]
    table = pd.read_parquet(io.BytesIO(b"".join(response.streaming_content)))
    pd.testing.assert_frame_equal(table, pd.read_csv(io.StringIO(CSV)))


def test_delete_removes_the_tables(api, user, store_dirs, dataset, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert api.delete(f"/api/datasets/{dataset['id']}/").status_code == 204
    assert not (store_dirs / "datasets" / "users" / str(user.pk) / "cars").exists()
    assert api.get("/api/datasets/").json()["results"] == []
    assert DatasetVersion.objects.count() == 0
    # The name is free again and starts over at version 1.
    again = api.post("/api/datasets/", {"file": upload(CSV)}, format="multipart").json()
    assert again["current_version"] == 1


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


@pytest.mark.parametrize(
    ("filename", "content", "code"),
    [
        ("empty.csv", b"", "empty_table"),
        ("blank.csv", b"  \n\n", "empty_table"),
        ("header.csv", b"a,b,c\n", "empty_table"),
        ("empty.json", b"[]", "empty_table"),
        ("image.csv", PNG, "unsupported_format"),
        ("image.png", PNG, "unsupported_format"),
        ("table.parquet", CSV.encode(), "format_mismatch"),
        ("table.json", CSV.encode(), "format_mismatch"),
        ("table.csv", parquet_bytes(pd.DataFrame({"a": [1]})), "format_mismatch"),
        ("broken.parquet", b"PAR1" + bytes(range(256)) * 4, "bad_file"),
        ("truncated.parquet", parquet_bytes(pd.DataFrame({"a": range(100)}))[:200], "bad_file"),
        ("latin.csv", "name,city\nJosé,Zürich\n".encode("latin-1"), "bad_encoding"),
        ("ragged.csv", b"a,b\n1,2\n3,4\n5,6,7,8\n", "bad_csv"),
        ("scalar.json", b'{"a": [1, 2], "b": 3', "bad_file"),
        ("text.json", b"[1, 2", "bad_file"),
    ],
)
def test_unusable_files_are_refused_with_what_is_wrong(api, filename, content, code):
    response = api.post("/api/datasets/", {"file": upload(content, filename), "name": "t"}, format="multipart")
    assert response.status_code == 400, response.content
    error = response.json()["errors"][0]
    # Text in another encoding reads once the upload says which: the error points there.
    assert error["code"] == code and error["field"] == ("encoding" if code == "bad_encoding" else "file")
    assert error["message"]
    assert Dataset.objects.count() == 0 or not DatasetVersion.objects.exists()


def test_reading_options_say_how_delimited_text_is_read(api, store_dirs, user):
    latin = "name;city;score\nJosé;Zürich;1,5\nAnaïs;Besançon;2,0\n".encode("latin-1")
    refused = api.post("/api/datasets/", {"file": upload(latin, "people.csv")}, format="multipart").json()["errors"][0]
    assert refused["field"] == "encoding" and "choose its encoding" in refused["message"]
    response = api.post(
        "/api/datasets/", {"file": upload(latin, "people.csv"), "encoding": "latin-1", "delimiter": ";"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    stored = pd.read_parquet(catalog(store_dirs, user, "people", 1))
    assert list(stored.columns) == ["name", "city", "score"]
    assert stored["city"].tolist() == ["Zürich", "Besançon"] and stored["score"].tolist() == ["1,5", "2,0"]
    headless = api.post(
        f"/api/datasets/{response.json()['id']}/versions/",
        {"file": upload(b"1,2\n3,4\n", "more.csv"), "has_header": "false"}, format="multipart",
    )
    assert headless.status_code == 201, headless.content
    assert headless.json()["rows"] == 2 and headless.json()["columns"] == 2
    for field, value in (("encoding", "klingon-8"), ("delimiter", "::"), ("has_header", "maybe")):
        bad = api.post("/api/datasets/", {"file": upload(CSV), field: value}, format="multipart")
        assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == field, (field, bad.content)


def test_parse_errors_name_the_line(api):
    response = api.post("/api/datasets/", {"file": upload(b"a,b\n1,2\n3,4\n5,6,7,8\n")}, format="multipart")
    assert "line 4" in response.json()["errors"][0]["message"]
    latin = api.post("/api/datasets/", {"file": upload("a\nok\nJosé\n".encode("latin-1"))}, format="multipart")
    assert "line 3" in latin.json()["errors"][0]["message"]


def test_path_tricks_in_file_names_go_nowhere(api, user, store_dirs):
    for filename in ("../../../etc/evil.csv", "..\\..\\evil.csv", "/tmp/evil.csv"):
        response = api.post("/api/datasets/", {"file": upload(CSV, filename)}, format="multipart")
        assert response.status_code == 201, response.content
        assert response.json()["name"] == "evil"
        assert "/" not in response.json()["latest"]["original_filename"]
        assert "\\" not in response.json()["latest"]["original_filename"]
    assert catalog(store_dirs, user, "evil", 3).is_file()
    written = {p.relative_to(store_dirs) for p in store_dirs.rglob("*") if p.is_file()}
    assert all(str(p).startswith(f"datasets/users/{user.pk}/evil/") for p in written), written


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "x" * 101, "spaces here", "u1/../../x"])
def test_bad_names_are_refused(api, store_dirs, name):
    response = api.post("/api/datasets/", {"file": upload(CSV), "name": name}, format="multipart")
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["field"] == "name"
    assert not (store_dirs / "datasets").exists() or not any((store_dirs / "datasets").rglob("*.parquet"))


def test_malformed_requests(api, dataset):
    assert api.post("/api/datasets/", {}, format="multipart").json()["errors"][0]["field"] == "file"
    assert api.post("/api/datasets/", {"file": "text, not a file"}, format="multipart").status_code == 400
    unknown = api.post("/api/datasets/", {"file": upload(CSV), "nmae": "x"}, format="multipart")
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["code"] == "unknown_field"
    # A new version takes no name: it belongs to the dataset in the URL.
    renamed = api.post(f"/api/datasets/{dataset['id']}/versions/", {"file": upload(CSV), "name": "x"}, format="multipart")
    assert renamed.status_code == 400
    assert api.post("/api/datasets/", {"name": "x"}, format="json").status_code in (400, 415)
    for bad in ("nope", "-1", "99999999999999999999", "1.5"):
        assert api.get(f"/api/datasets/{bad}/").status_code == 404
        assert api.get(f"/api/datasets/{dataset['id']}/versions/{bad}/profile/").status_code == 404


def test_uploads_larger_than_the_limit_are_refused(api, settings):
    settings.ATELIER = {**settings.ATELIER, "MAX_UPLOAD_BYTES": 100}
    response = api.post("/api/datasets/", {"file": upload(CSV)}, format="multipart")
    assert response.status_code == 400
    assert response.json()["errors"][0] == {"code": "too_large", "message": "the file is larger than 100 bytes", "field": "file"}
    # Far too large: refused from the declared length, before the body is read.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = api.post("/api/datasets/", {"file": upload(CSV * 1000)}, format="multipart")
    assert big.status_code == 413 and big.json()["errors"][0]["code"] == "too_large"
    assert Dataset.objects.count() == 0


def test_only_dataset_uploads_get_the_larger_request_limit(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    settings.ATELIER = {**settings.ATELIER, "MAX_UPLOAD_BYTES": 1_000_000}
    body = CSV * 200  # ~ 60 kB: above the request limit, below the upload limit
    response = api.post("/api/datasets/", {"file": upload(body)}, format="multipart")
    assert response.status_code == 201, response.content
    version = api.post(f"/api/datasets/{response.json()['id']}/versions/", {"file": upload(body)}, format="multipart")
    assert version.status_code == 201
    elsewhere = api.post("/api/pipelines/import/", {"file": upload(body, "p.yaml")}, format="multipart")
    assert elsewhere.status_code == 413


def test_random_bytes_never_break_the_server(api):
    rng = random.Random(0)
    prefixes = [b"", b"PAR1", b"[", b"{", b"a,b\n", b"\xef\xbb\xbf"]
    for i in range(60):
        content = rng.choice(prefixes) + rng.randbytes(rng.randrange(0, 400))
        filename = rng.choice(["f.csv", "f.parquet", "f.json", "f.tsv", "f"])
        response = api.post("/api/datasets/", {"file": upload(content, filename), "name": f"r{i}"}, format="multipart")
        assert response.status_code in (201, 400), (content, filename, response.content)
