"""Job descriptions as documents an HR director hands to a recruiter: PDF and DOCX.

Both formats show what the Markdown job description shows, in the same order, and end
with the source credit. The PDF is the Django template ``profiles/jd_document.html``
laid out by WeasyPrint. The document is self-contained (CSS inline, system fonts), so
the renderer refuses every URL: a fetch can only come from injected markup, and
refusing it keeps a job description from reading local files or calling the network.
The DOCX uses Word's built-in styles so that HR can go on editing it.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from dataclasses import dataclass
from typing import NoReturn

import docx
from django.template.loader import render_to_string
from django.utils.text import slugify
from docx.document import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from weasyprint import HTML  # type: ignore[import-untyped]
from weasyprint.urls import FatalURLFetchingError, URLFetcher  # type: ignore[import-untyped]

from kamfit.domain.errors import KamfitError
from kamfit.domain.profiles import ACTIVITY_AREAS, JdItem, JdRole, JobDescription

__all__ = [
    "DOCX_MEDIA_TYPE",
    "PDF_MEDIA_TYPE",
    "FetchRefused",
    "RefusingURLFetcher",
    "document_filename",
    "render_docx",
    "render_pdf",
]

log = logging.getLogger("kamfit.pdf")

PDF_MEDIA_TYPE = "application/pdf"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEMPLATE = "profiles/jd_document.html"

PURPOSE = "Purpose"
KAM_HEADING = "Responsibilities of the key account manager"
COMPANY_HEADING = "What the company commits to"
# Worded as render_markdown words it, so that the three formats read the same.
COMPANY_NOTE = (
    "The role only works when the company does its part; for each role element in scope, "
    "the company commits to the following."
)
REQUIREMENTS_HEADING = "Requirements"
REQUIREMENT_COLUMNS = ("Requirement", "Required level", "Weight")
TIME_HEADING = "Time allocation"
TIME_COLUMNS = ("Activity", "Share")

# Characters XML 1.0 forbids; Word pastes a vertical tab for a manual line break.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXTENSION = re.compile(r"[a-z0-9]{1,8}")


class FetchRefused(KamfitError):
    """A document tried to load a resource; job description documents load none."""


class RefusingURLFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type hints
    """WeasyPrint URL fetcher that refuses every URL and stops the rendering."""

    def __init__(self) -> None:
        super().__init__(fail_on_errors=True)

    def fetch(self, url: str, headers: object = None) -> NoReturn:
        """Refuse ``url`` without opening it, and log the refusal for the operator.

        The URL is logged with ``%r``, so that control characters in it cannot forge
        log lines (RELIABILITY A36).
        """
        log.warning("PDF renderer refused to fetch %r", url[:500])
        raise FetchRefused(f"job description documents load no resources, refused {url!r}")


@dataclass(frozen=True)
class Block:
    """The responsibilities of one role element on one side (key account manager or company)."""

    heading: str
    items: tuple[JdItem, ...]


@dataclass(frozen=True)
class RequirementRow:
    """A requirement as the tables show it."""

    name: str
    wordings: tuple[str, ...]
    level: str
    level_description: str
    weight: str


@dataclass(frozen=True)
class TimeRow:
    """A share of the role's time; ``over_limit`` marks selling above the limit."""

    label: str
    percent: str
    over_limit: bool


@dataclass(frozen=True)
class Content:
    """What both formats show, in order, as display text."""

    title: str
    version_line: str
    summary: tuple[str, ...]  # paragraphs
    roles: tuple[JdRole, ...]
    kam: tuple[Block, ...]
    company: tuple[Block, ...]
    requirements: tuple[tuple[str, tuple[RequirementRow, ...]], ...]  # non-empty groups only
    time: tuple[TimeRow, ...]
    selling_warning: str
    weights: str  # empty when there is no source to name
    citation: str
    source: str  # the citation, labelled


def _clean(text: str) -> str:
    return _NOT_XML.sub(" ", text)


def _items(items: tuple[JdItem, ...]) -> tuple[JdItem, ...]:
    return tuple(JdItem(_clean(i.text), tuple(_clean(c) for c in i.children)) for i in items)


def _blocks(jd: JobDescription, *, company: bool) -> tuple[Block, ...]:
    blocks = []
    for element in jd.elements:
        items = element.company if company else element.kam
        if items:
            heading = _clean(f"{element.label} — {element.title}")
            blocks.append(Block(heading, _items(items)))
    return tuple(blocks)


def _requirements(jd: JobDescription) -> tuple[tuple[str, tuple[RequirementRow, ...]], ...]:
    groups = (
        ("Competencies (can be developed)", jd.competencies),
        ("Attributes (select for them)", jd.attributes),
        ("Competencies or attributes (C/A)", jd.either),
    )
    return tuple(
        (
            heading,
            tuple(
                RequirementRow(
                    name=_clean(r.name),
                    wordings=tuple(_clean(w) for w in dict.fromkeys(r.wordings) if w.strip()),
                    level=_clean(
                        f"{r.required_level} — {r.level_name}"
                        if r.level_name.strip()
                        else str(r.required_level)
                    ),
                    level_description=_clean(r.level_description),
                    weight=f"{r.weight:.1f}%",
                )
                for r in rows
            ),
        )
        for heading, rows in groups
        if rows
    )


def _is_selling(label: str) -> bool:
    selling = ACTIVITY_AREAS[0]
    return label == selling.label or label.strip().lower().startswith(selling.key)


def _percent(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0") + "%"


def _time(jd: JobDescription) -> tuple[tuple[TimeRow, ...], str]:
    """Return the time rows and, if selling takes more than the limit, the warning."""
    selling = next((i for i, (label, _) in enumerate(jd.time_allocation) if _is_selling(label)), -1)
    over = selling >= 0 and jd.time_allocation[selling][1] > jd.selling_limit
    rows = tuple(
        TimeRow(_clean(label), _percent(percent), over and i == selling)
        for i, (label, percent) in enumerate(jd.time_allocation)
    )
    if not over:
        return rows, ""
    # Worded as render_markdown words it.
    return rows, (
        f"Selling takes {jd.time_allocation[selling][1]:.12g}% of the time, above the limit "
        f"of {jd.selling_limit:.12g}%: the Warwick paper (Woodburn 2006, section 2.5) says "
        "directors want key account managers to spend only 5–10% of their time selling."
    )


def _content(jd: JobDescription) -> Content:
    """Turn a job description into the display text both formats share."""
    time, warning = _time(jd)
    citation = jd.citation or f"{jd.framework_title} v{jd.framework_version}"
    paragraphs = re.split(r"\n\s*\n", _clean(jd.summary).strip())
    return Content(
        title=_clean(jd.title),
        version_line=_clean(
            f"Profile version {jd.version} ({jd.status}) · "
            f"Framework {jd.framework_title} v{jd.framework_version}"
        ),
        summary=tuple(p.strip() for p in paragraphs if p.strip()),
        roles=tuple(
            JdRole(_clean(r.title), _clean(r.description), tuple(_clean(a) for a in r.aims))
            for r in jd.roles
        ),
        kam=_blocks(jd, company=False),
        company=_blocks(jd, company=True),
        requirements=_requirements(jd),
        time=time,
        selling_warning=warning,
        weights=_clean(f"Weights: {jd.weights_source}") if jd.weights_source.strip() else "",
        citation=_clean(citation),
        source=_clean(f"Source: {citation}"),
    )


def document_filename(jd: JobDescription, ext: str) -> str:
    """Name a document file with an ASCII slug: ``global-account-manager-v2.pdf``."""
    if not _EXTENSION.fullmatch(ext):
        raise ValueError(f"{ext!r} is not a file extension (lower-case letters and digits)")
    slug = slugify(jd.title)[:80].strip("-") or "job-description"
    return f"{slug}-v{jd.version}.{ext}"


def render_pdf(jd: JobDescription) -> bytes:
    """Lay out a job description as an A4 PDF, loading no resource of any kind."""
    html = render_to_string(TEMPLATE, {"doc": _content(jd), "company_note": COMPANY_NOTE})
    try:
        pdf: bytes = HTML(string=html, base_url=None, url_fetcher=RefusingURLFetcher()).write_pdf()
    except FatalURLFetchingError as exc:
        # WeasyPrint's error is a BaseException, which Django's handlers would not catch.
        raise FetchRefused(str(exc.__cause__ or exc)) from exc
    return pdf


def render_docx(jd: JobDescription) -> bytes:
    """Build an editable Word document of a job description with Word's built-in styles."""
    c = _content(jd)
    out = _Docx(docx.Document())
    _set_up(out.document, c)
    out.add(c.title, "Title")
    out.add(c.version_line)
    for paragraph in c.summary:
        out.add(paragraph)
    if c.roles:
        out.add(PURPOSE, "Heading 1")
        for role in c.roles:
            out.add().add_run(role.title).bold = True
            if role.description:
                out.add(role.description)
            for aim in role.aims:
                out.add(aim, "List Bullet")
    if c.kam:
        out.add(KAM_HEADING, "Heading 1")
        _add_blocks(out, c.kam)
    if c.company:
        out.add(COMPANY_HEADING, "Heading 1")
        out.add(COMPANY_NOTE)
        _add_blocks(out, c.company)
    if c.requirements:
        _add_requirements(out, c)
    if c.time:
        _add_time(out, c)
    out.add(c.source)
    buffer = io.BytesIO()
    out.document.save(buffer)
    return buffer.getvalue()


class _Docx:
    """A document being written, with its paragraph styles resolved once."""

    STYLES = ("Title", "Heading 1", "Heading 2", "List Bullet", "List Bullet 2")

    def __init__(self, document: Document) -> None:
        self.document = document
        # python-docx finds a style by name by scanning every style, for every paragraph:
        # with about 250 paragraphs that took most of the time, so look each up once.
        self.style_ids = {name: document.styles[name].style_id for name in self.STYLES}

    def add(self, text: str = "", style: str | None = None) -> Paragraph:
        """Add a paragraph, in one of ``STYLES`` or in Normal."""
        paragraph = self.document.add_paragraph(text)
        if style is not None:
            paragraph._p.style = self.style_ids[style]
        return paragraph


def _set_up(document: Document, c: Content) -> None:
    """Set A4 pages, the title and page number in the footer, and the metadata."""
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(18)
    section.top_margin, section.bottom_margin = Mm(20), Mm(22)
    footer = section.footer.paragraphs[0]
    footer.text = f"{c.title} · Page "
    page_number = OxmlElement("w:fldSimple")
    page_number.set(qn("w:instr"), "PAGE")
    footer._p.append(page_number)

    props = document.core_properties
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    props.title = c.title
    props.subject = "Job description"
    props.comments = c.citation
    props.author = props.last_modified_by = "kamfit"
    props.created = props.modified = now


def _add_blocks(out: _Docx, blocks: tuple[Block, ...]) -> None:
    for block in blocks:
        out.add(block.heading, "Heading 2")
        for item in block.items:
            out.add(item.text, "List Bullet")
            for child in item.children:
                out.add(child, "List Bullet 2")


def _new_table(
    document: Document, columns: tuple[str, ...], widths: tuple[Length, ...], rows: int
) -> list[tuple[_Cell, ...]]:
    """Add a grid table with a bold header row; return the cells of its ``rows`` body rows."""
    table: Table = document.add_table(rows=1 + rows, cols=len(columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    # Repeat the header row on every page the table spans.
    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:tblHeader"))
    cells = [tuple(row.cells) for row in table.rows]
    for row_cells in cells:
        for cell, width in zip(row_cells, widths, strict=True):
            cell.width = width
    for cell, text in zip(cells[0], columns, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    return cells[1:]


def _add_requirements(out: _Docx, c: Content) -> None:
    out.add(REQUIREMENTS_HEADING, "Heading 1")
    for heading, rows in c.requirements:
        out.add(heading, "Heading 2")
        _add_requirement_table(out.document, rows)
    if c.weights:
        out.add(c.weights)


def _add_time(out: _Docx, c: Content) -> None:
    out.add(TIME_HEADING, "Heading 1")
    _add_time_table(out.document, c.time)
    if c.selling_warning:
        warning = out.add()
        for text in ("Warning: ", c.selling_warning):
            run = warning.add_run(text)
            run.bold = True
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _add_requirement_table(document: Document, rows: tuple[RequirementRow, ...]) -> None:
    widths = (Mm(88), Mm(70), Mm(16))
    body = _new_table(document, REQUIREMENT_COLUMNS, widths, len(rows))
    for row, (name, level, weight) in zip(rows, body, strict=True):
        name.paragraphs[0].text = row.name
        for wording in row.wordings:
            _small(name.add_paragraph(), wording, italic=True)
        level.paragraphs[0].text = row.level
        if row.level_description:
            _small(level.add_paragraph(), row.level_description)
        weight.paragraphs[0].text = row.weight
        weight.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT


def _add_time_table(document: Document, rows: tuple[TimeRow, ...]) -> None:
    body = _new_table(document, TIME_COLUMNS, (Mm(144), Mm(30)), len(rows))
    for row, (label, percent) in zip(rows, body, strict=True):
        label_run = label.paragraphs[0].add_run(row.label)
        percent_run = percent.paragraphs[0].add_run(row.percent)
        percent.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        if row.over_limit:
            for run in (label_run, percent_run):
                run.bold = True
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _small(paragraph: Paragraph, text: str, *, italic: bool = False) -> None:
    run = paragraph.add_run(text)
    run.font.size = Pt(8)
    run.italic = italic
