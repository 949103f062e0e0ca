"""Streamed CSV and constant-memory XLSX for every export, and the download headers they go with.

CSV is for Excel in Russian: UTF-8 with a BOM, «;» between fields, CRLF lines, written a
chunk at a time. XLSX goes through XlsxWriter's constant-memory mode (rows go to disk as they
are written) into a file the view sends from disk. Text a spreadsheet would take for a formula
gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

import xlsxwriter

from participation.core.i18n import number

CSV_MIMETYPE = "text/csv"  # Werkzeug adds «; charset=utf-8» to text/* itself
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    """Text a spreadsheet would take for a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_cell(value: Any) -> str:
    """One value as a Russian spreadsheet reads it: «3,5», «01.02.2026», text guarded."""
    if value is None:
        return ""
    if isinstance(value, float):
        return number(value, 6, grouping=False)
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, str):
        return safe_text(value)
    return str(value)


def stream_csv(
    rows: Iterable[list[Any]], flush_every: int = 200, cell: Callable[[Any], str] = csv_cell
) -> Iterator[str]:
    """CSV for Excel in Russian: UTF-8 with BOM, «;» between fields; chunks as it goes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write("\ufeff")
    for n, row in enumerate(rows, 1):
        writer.writerow([cell(v) for v in row])
        if n % flush_every == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(
    rows: Iterable[list[Any]],
    path: Path,
    sheet_name: str,
    *,
    column_formats: Mapping[int, str] | None = None,
    header_height: float = 45,
) -> int:
    """Write the header row (bold) and the rows to `path` at constant memory; return the
    number of rows after the header. `column_formats` maps a column to an Excel number format
    (e.g. "0.0%" for a share given as 0…1)."""
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "tmpdir": str(path.parent)})
    sheet = workbook.add_worksheet(re.sub(r"[\[\]:*?/\\]", " ", sheet_name)[:31].strip())
    bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    date_format = workbook.add_format({"num_format": "dd.mm.yyyy"})
    formats = {
        col: workbook.add_format({"num_format": spec})
        for col, spec in (column_formats or {}).items()
    }
    written = 0
    for n, row in enumerate(rows):
        if n == 0:
            sheet.write_row(0, 0, row, bold)
            sheet.set_row(0, header_height)
            sheet.freeze_panes(1, 0)
            continue
        written = n
        for col, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(n, col, value)
            elif isinstance(value, date):
                sheet.write_datetime(n, col, value, date_format)
            else:
                sheet.write_number(n, col, value, formats.get(col))
    workbook.close()
    return written


def content_disposition(filename: str, fallback: str) -> str:
    """`attachment` with the Russian name per RFC 5987 (filename*) and an ASCII fallback
    for old clients (`fallback`, e.g. "report-2026-05.csv")."""
    plain = unicodedata.normalize("NFKD", fallback).encode("ascii", "ignore").decode("ascii")
    plain = plain.replace("\\", "").replace('"', "") or "download"
    quoted = quote(filename, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quoted}"
