"""A corpus of hostile or broken import files (RELIABILITY T14), built in the test run.

Each entry is a ratings file for the team's cycle (see ``tests.conftest.team``) and what
its refusal must say: the location (``row N, column X`` or ``file``) and the reason. The
workbooks are made with openpyxl, then changed part by part with :mod:`zipfile`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

from tests.conftest import TEAM_KEYS, Team

HEADER = ["person", "rater", "source", "competency", "level", "evidence"]
GIGABYTE = 1024**3
_CHUNK = b"\0" * (4 * 1024 * 1024)


@dataclass(frozen=True)
class Bad:
    """One file of the corpus and the problem its refusal must name."""

    name: str
    build: Callable[[Team], bytes]
    where: str  # the problem's location, e.g. "row 2, column level" or "file"
    reason: str  # words the reason must contain
    too_large: bool = False  # refused unread: 413 in the API


def csv_bytes(rows: Sequence[Sequence[object]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[object]]) -> bytes:
    """A workbook as a spreadsheet program saves it: text starting "=" is a formula."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def with_entry(data: bytes, name: str, content: bytes) -> bytes:
    """The workbook with the part ``name`` added, or replaced."""
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            if info.filename != name:
                target.writestr(info, source.read(info.filename))
        target.writestr(name, content)
    return buffer.getvalue()


def good_rows(team: Team, level: object = 3) -> list[list[object]]:
    peer = team.peers[0].username
    return [[team.kam.reference, peer, "peer", key, level, f"Seen {key}"] for key in TEAM_KEYS]


def _bad_rating(team: Team) -> bytes:
    rows = good_rows(team)
    rows[0][4] = 9
    return csv_bytes([HEADER, *rows])


def _unknown_competency(team: Team) -> bytes:
    rows = good_rows(team)
    rows[0][3] = "juggling"
    return csv_bytes([HEADER, *rows])


def _duplicate(team: Team) -> bytes:
    rows = good_rows(team)
    return csv_bytes([HEADER, *rows, rows[0]])


def _latin1(team: Team) -> bytes:
    rows = good_rows(team)
    rows[0][5] = "Gespräch mit Müller"
    return csv_bytes([HEADER, *rows], encoding="latin-1")


def _too_many_rows(team: Team) -> bytes:
    row = [team.kam.reference, team.peers[0].username, "peer", TEAM_KEYS[0], 3, ""]
    return csv_bytes([HEADER, *([row] * 50_001)])


def _eleven_mb(team: Team) -> bytes:
    data = csv_bytes([HEADER, *good_rows(team)])
    return data + b"\r\n" * ((11 * 1024 * 1024 - len(data)) // 2)


def zip_bomb(path: Path) -> Path:
    """A workbook of about 1 MB whose sheet inflates to 1 GB of zeros (written streaming)."""
    if path.exists():
        return path
    base = xlsx_bytes([HEADER])
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
    ):
        for info in source.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, source.read(info.filename))
        with target.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            for _ in range(GIGABYTE // len(_CHUNK)):
                sheet.write(_CHUNK)
    return path


def _xlsm(team: Team) -> bytes:
    data = xlsx_bytes([HEADER, *good_rows(team)])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        types = archive.read("[Content_Types].xml")
    types = types.replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    )
    return with_entry(with_entry(data, "[Content_Types].xml", types), "xl/vbaProject.bin", b"\0VBA")


def _exe(team: Team) -> bytes:
    return b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + bytes(range(256)) * 8


def _billion_laughs(team: Team) -> bytes:
    lols = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    sheet = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol0 "lol">'
        + lols
        + ']><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
        "</sheetData></worksheet>"
    )
    data = xlsx_bytes([HEADER, *good_rows(team)])
    return with_entry(data, "xl/worksheets/sheet1.xml", sheet.encode())


def _formula(team: Team) -> bytes:
    rows = good_rows(team)
    rows[0][4] = '=HYPERLINK("http://127.0.0.2/x",3)'
    return xlsx_bytes([HEADER, *rows])


def _html(team: Team) -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def _svg(team: Team) -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'


CORPUS: dict[str, tuple[str, Bad]] = {
    bad.name: (filename, bad)
    for filename, bad in [
        (
            "ratings.csv",
            Bad("bad rating", _bad_rating, "row 2, column level", "a level from 1 to 5"),
        ),
        (
            "ratings.csv",
            Bad("unknown competency", _unknown_competency, "row 2, column competency", "juggling"),
        ),
        ("ratings.csv", Bad("duplicate id", _duplicate, "column competency", "twice")),
        ("ratings.csv", Bad("wrong encoding", _latin1, "file", "not UTF-8")),
        ("ratings.csv", Bad("50,001 rows", _too_many_rows, "file", "more than 50,000 rows")),
        ("ratings.csv", Bad("11 MB", _eleven_mb, "file", "larger than 10 MB", too_large=True)),
        ("ratings.xlsm", Bad("xlsm with a macro", _xlsm, "file", "macro")),
        ("ratings.xlsx", Bad("exe renamed xlsx", _exe, "file", "a Windows program")),
        ("ratings.xlsx", Bad("billion laughs", _billion_laughs, "file", "entity declarations")),
        ("ratings.xlsx", Bad("formula cell", _formula, "row 2, column level", "formula")),
        ("ratings.csv", Bad("html renamed csv", _html, "file", "HTML, SVG or XML")),
        ("ratings.csv", Bad("svg renamed csv", _svg, "file", "HTML, SVG or XML")),
    ]
}
