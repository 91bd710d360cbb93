"""Dataset business logic: uploads (a new dataset, or a new version under a name) and deletion.

Uploads are parsed and stored by designer.engine.table_intake, in a table worker (never in
the web process), within the table limits; every refusal is a DatasetFileInvalid (a
structured 400) naming the problem, and the line or byte where the parser says so.

Tables are stored as Parquet in the owner's dataset catalog (engine_settings.datasets_dir),
where `import_data` (source: dataset) of the owner's runs finds them by name.
"""
from __future__ import annotations

import re
import shutil
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.exceptions import APIException

from designer import engine_settings
from designer.engine import table_intake
from designer.engine.dataset_catalog import DATASET_NAME, DatasetCatalog, ExportRefused, FolderDatasetCatalog
from designer.engine.table_workers import TableWorkerOutOfMemory
from modules.builtin.data_input import FILE_DATASET_ZIP
from modules.builtin.python_script import check_bundle_zip
from modules.sdk import ModuleError

from .models import Dataset, DatasetFormat, DatasetVersion

_COPY_BYTES = 1 << 20


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


def _on_disk(file: IO[bytes], folder: Path) -> Path:
    """The upload as a file a table worker can open: Django's own temporary file when it
    made one, else a copy in `folder`."""
    path = getattr(file, "temporary_file_path", None)
    if callable(path):
        return Path(path())
    copy = folder / "upload"
    file.seek(0)
    with copy.open("wb") as out:
        shutil.copyfileobj(file, out, _COPY_BYTES)
    return copy


def _store(file: IO[bytes], filename: str, reading: ReadOptions, staging: Path) -> dict[str, Any]:
    """Parse the upload into a table folder `staging/table`; its format, rows and schema."""
    try:
        return engine_settings.table_workers().run(
            table_intake.upload_store, _on_disk(file, staging), filename=filename, encoding=reading.encoding,
            delimiter=reading.delimiter, has_header=reading.has_header, limits=engine_settings.table_limits(),
            destination=staging / "table",
        )
    except TableWorkerOutOfMemory as exc:
        raise DatasetFileInvalid(exc.message, code="out_of_memory") from None
    except ModuleError as exc:
        if exc.param == "encoding":  # the upload's own field, not a module param
            raise DatasetFileInvalid(
                exc.message.replace("set the encoding param", "choose its encoding"), code=exc.code, field="encoding",
            ) from None
        raise DatasetFileInvalid(exc.message, code=exc.code) from None


def _store_files(file: IO[bytes], filename: str, staging: Path) -> dict[str, Any]:
    """Keep an uploaded zip as a file dataset (e.g. a Script Bundle) in `staging/table`, once
    it is known to unpack safely: only its directory is read here, nothing is unpacked."""
    folder = staging / "table"
    folder.mkdir()
    file.seek(0)
    with (folder / FILE_DATASET_ZIP).open("wb") as out:
        shutil.copyfileobj(file, out, _COPY_BYTES)
    try:
        with zipfile.ZipFile(folder / FILE_DATASET_ZIP) as zf:
            check_bundle_zip(zf, dataset_filename_sanitize(filename) or "upload")
    except zipfile.BadZipFile as exc:
        raise DatasetFileInvalid(f"the zip file cannot be read: {exc}") from None
    except ModuleError as exc:
        raise DatasetFileInvalid(exc.message, code=exc.code) from None
    return {"rows": 0, "schema": [], "format": DatasetFormat.ZIP}


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
    return FolderDatasetCatalog(engine_settings.datasets_dir(user))


@transaction.atomic
def dataset_upload(
    *, user: User, file: IO[bytes], filename: str = "", name: str | None = None,
    dataset: Dataset | None = None, reading: ReadOptions = ReadOptions(),
) -> DatasetVersion:
    """Store an uploaded table as the next version of the user's dataset `name` (a new dataset
    if the name is new; named after the file when None), or of `dataset` when given.

    Delimited text is read as `reading` says. A zip is kept as a file dataset (for Import File
    Dataset). Raises DatasetFileInvalid when the file is not a non-empty CSV, TSV, JSON or
    Parquet table, nor a zip that unpacks safely.
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
    with tempfile.TemporaryDirectory(prefix="atelier-upload-") as staging:
        if zipfile.is_zipfile(file):
            meta = _store_files(file, filename, Path(staging))
        else:
            meta = _store(file, filename, reading, Path(staging))
        return _version_add(
            user=user, name=name, table=Path(staging) / "table", meta=meta, fmt=meta["format"], filename=filename,
        )


def _version_add(
    *, user: User, name: str, table: Path, meta: dict[str, Any], fmt: str, filename: str = ""
) -> DatasetVersion:
    """Copy the table folder into the user's catalog as the next version of `name`, with its row."""
    locked = _locked_dataset(user=user, name=name)
    number = _catalog(user).register(name, table)
    folder = engine_settings.datasets_dir(user) / name / f"v{number}"
    try:
        # Rows whose tables are gone from the catalog (removed by hand) give way to the new one.
        locked.versions.filter(number__gte=number).delete()
        version = DatasetVersion.objects.create(
            dataset=locked, number=number, rows=meta["rows"], columns=len(meta["schema"]), schema=meta["schema"],
            size_bytes=sum(path.stat().st_size for path in folder.iterdir() if path.is_file()),
            original_filename=dataset_filename_sanitize(filename),
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
    dataset `name`: listed, previewed and read by `import_data` like an upload.

    The table is a step's output: one over the table limits, or not a readable table, is
    refused with a ModuleError (TableTooLarge, bad_file), or TableWorkerOutOfMemory."""
    meta = engine_settings.table_workers().run(table_intake.export_describe, table, limits=engine_settings.table_limits())
    return _version_add(user=user, name=name, table=table, meta=meta, fmt=meta["format"])


class OwnerDatasetCatalog:
    """The dataset catalog runs of `user` export into (the executor's DatasetCatalog)."""

    def __init__(self, user: User) -> None:
        self.user = user

    def register(self, name: str, folder: Path) -> int:
        try:
            return dataset_export_register(user=self.user, name=name, table=folder).number
        except (ModuleError, TableWorkerOutOfMemory) as exc:
            raise ExportRefused(str(exc)) from None


def dataset_catalog_for(user: User | None) -> DatasetCatalog:
    """Where Export Data registers: the shared folder for CLI runs; for a user's runs, their
    catalog with a database row per version, so exports are listed like uploads."""
    return FolderDatasetCatalog(engine_settings.datasets_dir(None)) if user is None else OwnerDatasetCatalog(user)


def dataset_delete(*, dataset: Dataset) -> None:
    """Delete a dataset, its versions and their tables (runs keep the artifacts they made)."""
    folder = engine_settings.datasets_dir(dataset.owner) / dataset.name
    with transaction.atomic():
        dataset.delete()
        transaction.on_commit(lambda: shutil.rmtree(folder, ignore_errors=True))
