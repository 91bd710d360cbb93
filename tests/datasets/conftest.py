from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

CSV = "x,y,colour\n" + "".join(f"{i},{2 * i + 0.5},{'red' if i % 2 else 'blue'}\n" for i in range(20))


def upload(content: bytes | str, filename: str = "cars.csv") -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(filename, data, content_type="application/octet-stream")


def parquet_bytes(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _own_store(store_dirs: Path) -> None:
    """Every test here has its own dataset catalog and artifact store."""


@pytest.fixture
def dataset(api) -> dict[str, Any]:
    """A dataset `cars` of the signed-in user, uploaded through the API (version 1)."""
    response = api.post("/api/datasets/", {"file": upload(CSV)}, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()
