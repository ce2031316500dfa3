"""CSV and XLSX downloads of tables (every app's), with spreadsheet formula injection neutralised.

Money comes as Decimal and is written exactly, to the cent: as text in CSV ("258041.03"), as a
number with a money format in XLSX.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pandas as pd
from django.http import HttpResponse
from openpyxl import Workbook

from portfolio.money import cents

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
MONEY_FORMAT = "#,##0.00"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell[T](value: T) -> T | str:
    """Return ``value`` safe to put in a CSV/XLSX cell that a spreadsheet may open.

    A text starting with ``= + - @``, a tab or a carriage return is prefixed with a single quote
    so that it is shown as text instead of being run as a formula. Anything that is not a string
    (numbers, dates, None) is returned unchanged: a number is never a formula.
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _cells(frame: pd.DataFrame) -> list[list]:
    clean = frame.astype(object).where(frame.notna(), None)
    return [[_cell(cell) for cell in row] for row in clean.to_numpy().tolist()]


def _cell(cell):
    return cents(cell) if isinstance(cell, Decimal) else neutralise_cell(cell)


def table_response(frame: pd.DataFrame, *, name: str, fmt: str) -> HttpResponse:
    """`frame` as a CSV or XLSX attachment named `<name>.<fmt>`; text cells that a spreadsheet would
    run as a formula (= + - @, tab, CR) are prefixed with a quote."""
    header = [neutralise_cell(str(column)) for column in frame.columns]
    rows = _cells(frame)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(rows)
        body: bytes = buffer.getvalue().encode("utf-8")
    else:
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = name[:31]
        sheet.append(header)
        for row in rows:
            sheet.append([_xlsx_value(cell) for cell in row])
        for line in sheet.iter_rows(min_row=2):
            for cell in line:
                if isinstance(cell.value, Decimal):
                    cell.number_format = MONEY_FORMAT
        out = io.BytesIO()
        workbook.save(out)
        body = out.getvalue()
    response = HttpResponse(body, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


def _xlsx_value(cell):
    if hasattr(cell, "tzinfo") and getattr(cell, "tzinfo", None) is not None:
        return cell.replace(tzinfo=None)  # Excel has no time zones; values are in UTC
    if isinstance(cell, dict | list):
        return str(cell)
    return cell
