from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

CSV = "x,y,colour\n" + "".join(f"{i},{2 * i + 0.5},{'red' if i % 2 else 'blue'}\n" for i in range(20))


def upload(content: bytes | str, filename: str = "cars.csv") -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(filename, data, content_type="application/octet-stream")


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def data_dirs(settings, tmp_path):
    """This test's own dataset catalog and artifact store."""
    settings.ATELIER = {
        **settings.ATELIER, "ARTIFACT_STORE": tmp_path / "artifacts", "DATASETS_DIR": tmp_path / "datasets",
    }
    return tmp_path


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("ada", password="not-used")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("brian", password="not-used")


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def api(user) -> APIClient:
    return client_for(user)


@pytest.fixture
def intruder(other_user) -> APIClient:
    return client_for(other_user)


@pytest.fixture
def dataset(api) -> dict[str, Any]:
    """A dataset `cars` of the signed-in user, uploaded through the API (version 1)."""
    response = api.post("/api/datasets/", {"file": upload(CSV)}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()
