"""Stored tables as downloaded files, and the content negotiation of file endpoints."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.http import FileResponse
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

from modules.sdk.artifacts import TABLE_FILE

from .previews import table_csv


class FileNegotiation(BaseContentNegotiation):
    """File endpoints send their file whatever the client's Accept header says (an <img> or
    a download asks for image/* or octet-stream); their errors are JSON like everywhere else."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        first = next(iter(renderers))
        return first, first.media_type


def table_download(folder: Path, filename: str, query: dict[str, Any]) -> FileResponse:
    """The table stored in `folder` as the file `filename` (a .parquet name), in the format
    and with the CSV escaping a DownloadQuerySerializer's `query` asks for."""
    if query["format"] == "csv":
        escape = query["escape_formulas"] is not False
        return FileResponse(
            table_csv(folder=folder, escape_formulas=escape), as_attachment=True,
            filename=str(Path(filename).with_suffix(".csv")), content_type="text/csv; charset=utf-8",
        )
    return FileResponse((folder / TABLE_FILE).open("rb"), as_attachment=True, filename=filename,
                        content_type="application/vnd.apache.parquet")
