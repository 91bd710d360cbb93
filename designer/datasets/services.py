"""Dataset business logic: uploads (a new dataset, or a new version under a name) and deletion.

Uploads are never trusted: the format is what the content is (Parquet's magic bytes, JSON's
opening bracket, otherwise delimited text), not what the file name or content type claim;
a file whose name claims another format is refused, and so is anything that does not parse
into a non-empty table. Every refusal is a DatasetFileInvalid (a structured 400) naming the
problem, and the line or byte where the parser says so.

Tables are stored as Parquet in the owner's dataset catalog (engine_config.datasets_dir),
where `import_data` (source: dataset) of the owner's runs finds them by name.
"""
from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pyarrow as pa
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.exceptions import APIException

from designer.engine.dataset_catalog import DATASET_NAME, FolderDatasetCatalog
from designer.runs import engine_config
from modules.builtin.tabular_io import guess_format, read_table_file
from modules.sdk import ModuleError
from modules.sdk.artifacts import TABLE_FILE, read_table, write_table
from modules.sdk.schema import schema_of

from .models import Dataset, DatasetFormat, DatasetVersion

PARQUET_MAGIC = b"PAR1"
SNIFF_BYTES = 64 * 1024
# What a file name's extension claims, by content family (CSV and TSV are both delimited text).
_FAMILY = {"csv": "delimited", "tsv": "delimited", "txt": "delimited", "parquet": "parquet", "json": "json"}


@dataclass(frozen=True)
class ReadOptions:
    """How delimited text is read (Import Data's params of the same names)."""

    encoding: str = "utf-8"
    delimiter: str = "auto"
    has_header: bool = True


class DatasetFileInvalid(APIException):
    """An upload that is not a usable table: refused with what is wrong and where."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "bad_file"

    def __init__(self, message: str, *, code: str = "bad_file", field: str = "file") -> None:
        super().__init__({field: [message]}, code=code)


def dataset_filename_sanitize(filename: str) -> str:
    """The uploaded file's name reduced to a harmless base name, for display only: no folders
    (either slash), no control characters, no leading dots, at most 255 characters."""
    base = re.split(r"[/\\]", filename or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    return base.strip().lstrip(".")[:255]


def dataset_name_from_filename(filename: str) -> str:
    """A dataset name (the catalog's alphabet) from an upload's file name: `Cars 2024.csv`
    becomes `Cars-2024`."""
    stem = Path(dataset_filename_sanitize(filename)).stem if filename else ""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-._")[:100]
    return name or "dataset"


def _sniff_format(head: bytes) -> str:
    """The format the content is, from its first bytes."""
    if head.startswith(PARQUET_MAGIC):
        return DatasetFormat.PARQUET
    if b"\x00" in head:
        raise DatasetFileInvalid(
            "the file is binary but not Parquet: upload CSV, TSV, JSON or Parquet", code="unsupported_format"
        )
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] in (b"[", b"{"):
        return DatasetFormat.JSON
    first_line = text.split(b"\n", 1)[0]
    return DatasetFormat.TSV if first_line.count(b"\t") > first_line.count(b",") else DatasetFormat.CSV


def _parse(file: IO[bytes], filename: str, reading: ReadOptions) -> tuple[pd.DataFrame, str]:
    """The uploaded table and the format its content has."""
    file.seek(0)
    fmt = _sniff_format(file.read(SNIFF_BYTES))
    claimed = _FAMILY.get(guess_format(filename))
    if claimed is not None and claimed != _FAMILY[fmt]:
        raise DatasetFileInvalid(
            f"the file's name says {guess_format(filename).upper()} but its content is {fmt.upper()}",
            code="format_mismatch",
        )
    file.seek(0)
    try:
        df = read_table_file(
            file, fmt=fmt, encoding=reading.encoding, has_header=reading.has_header,
            delimiter="\t" if fmt == DatasetFormat.TSV and reading.delimiter == "auto" else reading.delimiter,
        )
    except ModuleError as exc:
        if exc.param == "encoding":  # the upload's own field, not a module param
            raise DatasetFileInvalid(
                exc.message.replace("set the encoding param", "choose its encoding"), code=exc.code, field="encoding",
            ) from None
        raise DatasetFileInvalid(exc.message, code=exc.code) from None
    except (ValueError, TypeError, OverflowError, pa.ArrowException) as exc:
        # pandas and pyarrow raise these on files crafted or broken in ways they do not name
        raise DatasetFileInvalid(f"the file is not a readable {fmt.upper()} table: {exc}") from None
    if df.shape[1] == 0 or len(df) == 0:
        raise DatasetFileInvalid(
            "the table is empty: it needs at least one column and one row", code="empty_table"
        )
    return df, fmt


def _write(df: pd.DataFrame, folder: Path) -> dict[str, Any]:
    try:
        return write_table(df, folder)
    except ModuleError as exc:
        raise DatasetFileInvalid(exc.message, code="bad_table") from None
    except (pa.ArrowException, ValueError, TypeError) as exc:
        # e.g. a JSON column mixing numbers and objects, which Parquet cannot hold
        raise DatasetFileInvalid(f"the table cannot be stored as Parquet: {exc}", code="bad_table") from None


def _locked_dataset(*, user: User, name: str) -> Dataset:
    """The user's dataset `name`, created if new, locked until the transaction ends so that
    concurrent uploads under one name get consecutive versions."""
    try:
        with transaction.atomic():
            Dataset.objects.get_or_create(owner=user, name=name)
    except IntegrityError:
        pass  # created concurrently: it exists now
    return Dataset.objects.select_for_update().get(owner=user, name=name)


def _catalog(user: User) -> FolderDatasetCatalog:
    return FolderDatasetCatalog(engine_config.datasets_dir(user))


@transaction.atomic
def dataset_upload(
    *, user: User, file: IO[bytes], filename: str = "", name: str | None = None,
    dataset: Dataset | None = None, reading: ReadOptions = ReadOptions(),
) -> DatasetVersion:
    """Store an uploaded table as the next version of the user's dataset `name` (a new dataset
    if the name is new; named after the file when None), or of `dataset` when given.

    Delimited text is read as `reading` says. Raises DatasetFileInvalid when the file is not
    a non-empty CSV, TSV, JSON or Parquet table.
    """
    if dataset is not None:
        name = dataset.name
    elif name is None:
        name = dataset_name_from_filename(filename)
    if not DATASET_NAME.match(name):
        raise DatasetFileInvalid(
            "a dataset name is 1 to 100 letters, digits, '_', '.' or '-', starting with a letter or digit",
            code="invalid_name", field="name",
        )
    df, fmt = _parse(file, filename, reading)
    with tempfile.TemporaryDirectory(prefix="atelier-upload-") as staging:
        meta = _write(df, Path(staging))
        return _version_add(user=user, name=name, table=Path(staging), meta=meta, fmt=fmt, filename=filename)


def _version_add(
    *, user: User, name: str, table: Path, meta: dict[str, Any], fmt: str, filename: str = ""
) -> DatasetVersion:
    """Copy the table folder into the user's catalog as the next version of `name`, with its row."""
    locked = _locked_dataset(user=user, name=name)
    number = _catalog(user).register(name, table)
    folder = engine_config.datasets_dir(user) / name / f"v{number}"
    try:
        # Rows whose tables are gone from the catalog (removed by hand) give way to the new one.
        locked.versions.filter(number__gte=number).delete()
        version = DatasetVersion.objects.create(
            dataset=locked, number=number, rows=meta["rows"], columns=len(meta["schema"]), schema=meta["schema"],
            size_bytes=(folder / TABLE_FILE).stat().st_size, original_filename=dataset_filename_sanitize(filename),
            format=fmt, created_by=user,
        )
        locked.current_version = number
        locked.save(update_fields=["current_version", "updated_at"])
    except BaseException:
        # No row describes the copy the catalog made: remove it.
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return version


@transaction.atomic
def dataset_export_register(*, user: User, name: str, table: Path) -> DatasetVersion:
    """Register a table that Export Data wrote in a run of `user` as the next version of their
    dataset `name`: listed, previewed and read by `import_data` like an upload."""
    df = read_table(table)
    meta = {"rows": len(df), "schema": schema_of(df).to_json()}
    return _version_add(user=user, name=name, table=table, meta=meta, fmt=DatasetFormat.PARQUET)


class OwnerDatasetCatalog:
    """The dataset catalog runs of `user` export into (the executor's DatasetCatalog)."""

    def __init__(self, user: User) -> None:
        self.user = user

    def register(self, name: str, folder: Path) -> int:
        return dataset_export_register(user=self.user, name=name, table=folder).number


def dataset_delete(*, dataset: Dataset) -> None:
    """Delete a dataset, its versions and their tables (runs keep the artifacts they made)."""
    folder = engine_config.datasets_dir(dataset.owner) / dataset.name
    with transaction.atomic():
        dataset.delete()
        transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))
