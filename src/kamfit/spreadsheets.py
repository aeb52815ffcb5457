"""Read and write the tables people exchange with kamfit: CSV and XLSX, safely.

Every import reads its upload through :func:`read_rows` and :func:`map_header`; every
export writes through :func:`to_csv` or :func:`to_xlsx`.

Reading (RELIABILITY A29, A30): an upload is at most :func:`max_upload_bytes` (setting
``IMPORT_MAX_BYTES``, ``KAMFIT_IMPORT_MAX_BYTES``, 10 MB by default) and holds at most
:func:`max_import_rows` data rows (``IMPORT_MAX_ROWS``, 50,000); a file over the size
limit raises :class:`TooLarge` (HTTP 413). The file type is told by content, never by
name: programs, PDFs, images and HTML/SVG/XML documents are refused whatever they are
called. A CSV must be UTF-8 (with or without a BOM) without NUL bytes; its delimiter
(``,``, ``;`` or tab) is the one its first line uses most. An XLSX file must be a ZIP
holding ``[Content_Types].xml``, with at most ``MAX_XLSX_ENTRIES`` entries inflating to
at most ``MAX_XLSX_UNCOMPRESSED`` (100 MB) in all, no large entry compressed more than
``MAX_ENTRY_RATIO`` times (a zip bomb); macro-enabled workbooks and XML entity
declarations (billion laughs, refused by defusedxml under openpyxl) are refused.
Formulas are read as their text, flagged, and never evaluated. Uploads are read from
memory.

Writing (RELIABILITY A28): every text cell starting with ``=``, ``+``, ``-``, ``@``, a tab,
a carriage return or NUL is written with a leading ``'`` so that no spreadsheet runs it as
a formula. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import NamedTuple

from django.conf import settings
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.xml.functions import iterparse

from kamfit.domain.errors import Problem, ValidationError

__all__ = [
    "MAX_ENTRY_RATIO",
    "MAX_XLSX_ENTRIES",
    "MAX_XLSX_UNCOMPRESSED",
    "Cell",
    "HeaderMap",
    "TooLarge",
    "check_zip",
    "choice_lookup",
    "column_letter",
    "data_rows",
    "is_xlsx",
    "map_header",
    "max_import_rows",
    "max_upload_bytes",
    "neutralise",
    "normalise",
    "read_rows",
    "refuse",
    "reset_rows_read",
    "rows_read",
    "sniff_binary",
    "to_csv",
    "to_xlsx",
    "too_large",
    "xlsx_value",
]

MAX_XLSX_UNCOMPRESSED = 100 * 1024 * 1024
MAX_XLSX_ENTRIES = 1000
# A workbook part compressing better than this is a zip bomb: real sheets stay far below.
MAX_ENTRY_RATIO = 200
_RATIO_FLOOR = 1024 * 1024  # a small part may compress as it likes: it cannot hurt

# What a renamed binary or web document starts with (after a BOM and blanks, for text).
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
    (b"\xca\xfe\xba\xbe", "a program"),
    (b"\xcf\xfa\xed\xfe", "a program"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (.xls/.doc): save it as .xlsx"),
    (b"Rar!", "a RAR archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"<", "an HTML, SVG or XML document"),
)
_ROWS_READ: ContextVar[int] = ContextVar("rows_read", default=0)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
_MB = 1024 * 1024


# --- writing -------------------------------------------------------------------------------


def neutralise(value: object) -> object:
    """Return ``value`` with a leading ``'`` if it is text a spreadsheet could run (A28)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def xlsx_value(value: object) -> object:
    """Return ``value`` neutralised and without the characters XML 1.0 cannot hold."""
    value = neutralise(value)
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """Write a table as CSV in UTF-8 with a BOM (so that Excel reads it as UTF-8)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(v) for v in header])
    for row in rows:
        writer.writerow([neutralise(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(header: Sequence[str], rows: Iterable[Sequence[object]], *, sheet: str) -> bytes:
    """Write a table as an XLSX workbook of one sheet, streaming (write-only)."""
    workbook = Workbook(write_only=True)
    worksheet: WriteOnlyWorksheet = workbook.create_sheet(sheet)
    worksheet.append([xlsx_value(v) for v in header])
    for row in rows:
        worksheet.append([xlsx_value(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- reading -------------------------------------------------------------------------------


class TooLarge(ValidationError):
    """An upload over the size limit: refused unread (HTTP 413 Content Too Large)."""


def max_upload_bytes() -> int:
    """The largest upload any import takes (setting ``IMPORT_MAX_BYTES``)."""
    return int(getattr(settings, "IMPORT_MAX_BYTES", 10 * _MB))


def max_import_rows() -> int:
    """The most non-empty data rows one import takes (setting ``IMPORT_MAX_ROWS``)."""
    return int(getattr(settings, "IMPORT_MAX_ROWS", 50_000))


def too_large(limit: int | None = None) -> TooLarge:
    """Return the error for a file over ``limit`` bytes (the setting by default)."""
    limit = max_upload_bytes() if limit is None else limit
    size = f"{limit // _MB} MB" if limit >= _MB else f"{limit:,} bytes"
    return TooLarge([Problem("file", f"larger than {size}: split it into smaller files")])


def rows_read() -> int:
    """How many non-empty data rows the last :func:`data_rows` in this context read."""
    return _ROWS_READ.get()


def reset_rows_read() -> None:
    """Start counting afresh, so that :func:`rows_read` speaks of the next import only."""
    _ROWS_READ.set(0)


def sniff_binary(data: bytes) -> str | None:
    """Name what ``data`` is if it is a known binary or web document, else None (A30)."""
    head = data[:64].removeprefix(b"\xef\xbb\xbf").lstrip()
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            return what
    return None


class Cell(NamedTuple):
    """One cell as read: its text, and whether a spreadsheet held a formula there.

    A named tuple rather than a frozen dataclass: a large import makes a million of
    them, and a tuple is made several times faster.
    """

    text: str
    formula: bool = False


_EMPTY = Cell("")


def refuse(reason: str) -> ValidationError:
    """Return the error that refuses a whole file (its location is ``file``)."""
    return ValidationError([Problem("file", reason)])


def normalise(value: str) -> str:
    """Fold a typed choice for matching: case, quotes, spaces and underscores."""
    value = value.lower().replace("’", "'").replace("‘", "'").replace("`", "'")
    return re.sub(r"[\s_]+", " ", value).strip()


def choice_lookup(choices: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Map each choice's value and label, normalised, to the value."""
    found: dict[str, str] = {}
    for value, label in choices:
        found[normalise(str(value))] = str(value)
        found[normalise(str(label))] = str(value)
    return found


def column_letter(index: int) -> str:
    """The spreadsheet letter of a 0-based column index (0 is A)."""
    return get_column_letter(index + 1)


def is_xlsx(data: bytes) -> bool:
    """Say whether ``data`` starts like a ZIP archive (as every XLSX does)."""
    return data[:4] == b"PK\x03\x04"


def check_zip(data: bytes, filename: str) -> None:
    """Refuse anything but a plain workbook, before openpyxl inflates anything (A30)."""
    if filename.lower().endswith((".xlsm", ".xltm", ".xlam")):
        raise refuse("macro-enabled workbooks (.xlsm) are not accepted: save it as .xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_XLSX_ENTRIES:
                raise refuse(f"not a CSV or XLSX file: more than {MAX_XLSX_ENTRIES} ZIP entries")
            for info in infos:
                if info.file_size > _RATIO_FLOOR and (
                    info.file_size > MAX_ENTRY_RATIO * max(info.compress_size, 1)
                ):
                    raise refuse(
                        f"the workbook part {info.filename[:60]!r} is compressed "
                        f"{info.file_size // max(info.compress_size, 1):,} times "
                        f"(at most {MAX_ENTRY_RATIO}): refused as a zip bomb"
                    )
            names = {info.filename for info in infos}
            if "[Content_Types].xml" not in names:
                raise refuse("not a CSV or XLSX file")
            if any(name.lower().endswith("vbaproject.bin") for name in names):
                raise refuse("the workbook contains macros: save it as .xlsx without macros")
            total = sum(info.file_size for info in infos)
            if total > MAX_XLSX_UNCOMPRESSED:
                raise refuse(
                    f"the workbook would inflate to more than "
                    f"{MAX_XLSX_UNCOMPRESSED // _MB} MB uncompressed: refused as a zip bomb"
                )
            types = archive.read("[Content_Types].xml")
    except zipfile.BadZipFile as exc:
        raise refuse("not a CSV or XLSX file (a damaged ZIP archive)") from exc
    if b"macroenabled" in types.lower():
        raise refuse("macro-enabled workbooks (.xlsm) are not accepted: save it as .xlsx")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _xlsx_cell(cell: object) -> Cell:
    value = getattr(cell, "value", None)
    if getattr(cell, "data_type", "") == "f":
        return Cell(value if isinstance(value, str) else "=…", formula=True)
    return Cell(_cell_text(value))


class _Sheet(ReadOnlyWorksheet):
    """openpyxl's read-only sheet, sized without reading the whole sheet first.

    openpyxl looks for ``<dimension>`` among the elements' *end* events, so in a
    workbook without one (openpyxl's own write-only workbooks, kamfit's exports) it
    parses every row once just to find there is none: a third of the time of a
    100,000-row import. The element, when present, comes before ``<sheetData>``.
    """

    def _get_size(self) -> None:
        with self._get_source() as source:  # type: ignore[attr-defined]
            for _event, element in iterparse(source, events=("start",)):
                if element.tag == DIMENSION_TAG:
                    dimension = SheetDimension.from_tree(element)
                    if dimension is not None:
                        bounds = dimension.boundaries
                        self._min_column, self._min_row = bounds[0], bounds[1]
                        self._max_column, self._max_row = bounds[2], bounds[3]
                    return
                if element.tag == DATA_TAG:
                    return


def _open_sheet(data: bytes, sheet: str | None, no_sheet: str) -> tuple[ExcelReader, _Sheet]:
    """Open a workbook read-only (as ``load_workbook`` does) and its one sheet to read."""
    # Formulas are read as their text, never evaluated: a formula is refused as a value.
    reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=False, keep_links=False)
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)  # date formats: a date reads as a date
        sheets = [
            (found, rel)
            for found, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files
        ]
        named = [(found, rel) for found, rel in sheets if sheet is not None and found.name == sheet]
        worksheets = [(found, rel) for found, rel in sheets if "chartsheet" not in rel.Type]
        chosen = (named or worksheets)[:1]
        if not chosen or "chartsheet" in chosen[0][1].Type:
            raise refuse(no_sheet)
        found, rel = chosen[0]
        return reader, _Sheet(reader.wb, found.name, rel.target, reader.shared_strings)
    except BaseException:
        reader.archive.close()
        raise


def _unreadable(exc: Exception) -> ValidationError:
    cause: BaseException | None = exc
    while cause is not None:
        if type(cause).__module__.startswith("defusedxml"):  # e.g. EntitiesForbidden
            return refuse("the workbook holds forbidden XML (entity declarations): not read")
        cause = cause.__cause__ or cause.__context__
    return refuse(f"not a readable XLSX workbook ({type(exc).__name__})")


def _xlsx_rows(
    data: bytes, filename: str, sheet: str | None, no_sheet: str
) -> Iterator[list[Cell]]:
    check_zip(data, filename)
    try:
        reader, worksheet = _open_sheet(data, sheet, no_sheet)
    except ValidationError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on a broken package
        raise _unreadable(exc) from exc
    try:
        rows = worksheet.iter_rows()  # type: ignore[misc]
        while True:
            try:
                row = next(rows, None)
            except Exception as exc:  # e.g. defusedxml refusing an entity bomb in a sheet
                raise _unreadable(exc) from exc
            if row is None:
                return
            yield [_xlsx_cell(cell) for cell in row]
    finally:
        reader.archive.close()


def _csv_rows(data: bytes) -> Iterator[list[Cell]]:
    if data[:2] in {b"\xff\xfe", b"\xfe\xff"}:
        raise refuse("the CSV is UTF-16 text: save it as “CSV UTF-8”")
    what = sniff_binary(data)
    if what is not None:
        raise refuse(f"not a CSV or XLSX file: it is {what}, whatever its name")
    head = data[:4096]
    if re.search(rb"[\x00-\x08\x0e-\x1f]", head):  # binary, whatever its name
        raise refuse("not a CSV or XLSX file")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise refuse(f"not a CSV or XLSX file: a NUL byte at byte {nul}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise refuse(
            f"not UTF-8 text (byte {exc.start} cannot be read): save the CSV as “CSV UTF-8”"
        ) from exc
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    make = tuple.__new__  # Cell(text) without the Python-level __new__: 600,000 cells a large file
    try:
        for row in reader:
            yield [make(Cell, (value.strip(), False)) for value in row]
    except csv.Error as exc:
        raise refuse(f"not a readable CSV (record {reader.line_num}): {exc}") from exc


def read_rows(
    data: bytes,
    filename: str,
    *,
    sheet: str | None = None,
    no_sheet: str = "the workbook has no worksheet",
    max_bytes: int | None = None,
) -> Iterator[list[Cell]]:
    """Return the rows of an uploaded CSV (UTF-8) or XLSX file, each a list of cells.

    The type is told by content. From a workbook, ``sheet`` is read if it exists, else
    the first sheet. A file that cannot be read safely raises :class:`ValidationError`
    located at ``file`` (at once for size and emptiness, while iterating otherwise).
    ``max_bytes`` defaults to :func:`max_upload_bytes`.
    """
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    if len(data) > limit:
        raise too_large(limit)
    if not data.strip():
        raise refuse("the file is empty")
    return _xlsx_rows(data, filename, sheet, no_sheet) if is_xlsx(data) else _csv_rows(data)


def data_rows(
    rows: Iterator[list[Cell]], *, limit: int | None = None, noun: str = "rows"
) -> Iterator[tuple[int, list[Cell]]]:
    """Yield (spreadsheet row number, cells) after the header, skipping empty rows.

    Row 1 is the header, so the first data row is 2. More than ``limit`` non-empty rows
    (:func:`max_import_rows` by default) refuses the file ("more than 5,000 answer rows:
    split the file"). The count read is kept for :func:`rows_read`.
    """
    limit = max_import_rows() if limit is None else limit
    count = 0
    try:
        for n, cells in enumerate(rows, start=2):
            if not any(c.text for c in cells):
                continue
            count += 1
            if count > limit:
                raise refuse(f"row {n}: more than {limit:,} {noun}: split the file")
            yield n, cells
    finally:
        _ROWS_READ.set(count)


def _fold(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())


@dataclass
class HeaderMap:
    """Where each named column is, which columns have no name, and what is wrong."""

    columns: dict[str, int] = field(default_factory=dict)
    unnamed: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def cell(self, cells: Sequence[Cell], name: str) -> Cell:
        """The cell of column ``name`` in a row (empty if the column or cell is absent)."""
        index = self.columns.get(name)
        return cells[index] if index is not None and index < len(cells) else _EMPTY

    def strays(self, n: int, cells: Sequence[Cell]) -> list[Problem]:
        """A problem for each value of row ``n`` in a column without a header."""
        return [
            Problem(f"row {n}, column {column_letter(i)}", "a value in a column without a header")
            for i in self.unnamed
            if i < len(cells) and cells[i].text
        ]


def map_header(
    cells: Sequence[Cell],
    known: Sequence[str],
    *,
    required: Sequence[str],
    folded: Collection[str] = (),
    unknown: str = "unknown column",
) -> HeaderMap:
    """Map the header row's column names to indices; name every column that is wrong.

    A name in ``folded`` also matches in any case, with spaces or hyphens for
    underscores ("Job title" is ``job_title``); other names of ``known`` match exactly.
    Each problem is located "row 1, column NAME" (the letter when the name is empty):
    unknown (with the ``unknown`` reason), twice, or one of ``required`` missing.
    """
    header = HeaderMap()
    folds = set(folded)
    names = set(known)
    for index, cell in enumerate(cells):
        name = cell.text.strip()
        where = f"row 1, column {name or column_letter(index)}"
        if not name:
            header.unnamed.append(index)
            continue
        if _fold(name) in folds:
            name = _fold(name)
        elif name not in names:
            header.problems.append(Problem(where, unknown))
            continue
        if name in header.columns:
            header.problems.append(Problem(where, "this column appears twice"))
        else:
            header.columns[name] = index
    for name in required:
        if name not in header.columns:
            header.problems.append(Problem(f"row 1, column {name}", "missing column"))
    return header
