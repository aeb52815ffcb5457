"""Job description documents: PDF and DOCX content, order, metadata, and fetching nothing."""

from __future__ import annotations

import io
import logging
import re
import zlib
from dataclasses import replace
from typing import Any

import docx
import pytest
from django.template.loader import render_to_string
from docx.document import Document
from docx.enum.text import WD_COLOR_INDEX
from docx.table import Table
from docx.text.paragraph import Paragraph

from kamfit.domain.framework import SOURCE_CREDIT, Kind
from kamfit.domain.profiles import (
    JdElement,
    JdItem,
    JdRequirement,
    JdRole,
    JobDescription,
    render_markdown,
)
from kamfit.profiles import documents
from kamfit.profiles.documents import (
    COMPANY_NOTE,
    DOCX_MEDIA_TYPE,
    PDF_MEDIA_TYPE,
    FetchRefused,
    RefusingURLFetcher,
    document_filename,
    render_docx,
    render_pdf,
)

SELLING = "Selling: prospecting, proposals, negotiating deals"
SELLING_WARNING = (
    "Selling takes 25% of the time, above the limit of 10%: the Warwick paper (Woodburn 2006, "
    "section 2.5) says directors want key account managers to spend only 5–10% of their time "
    "selling."
)
PAYLOAD = (
    'Leads our largest accounts. <img src="http://example.invalid/x.png"> '
    '<a href="file:///etc/passwd">passwords</a> <link rel="stylesheet" href="x.css">'
)


def small_jd(**changes: Any) -> JobDescription:
    """A position with one element, two competencies and no attributes."""
    jd = JobDescription(
        title="Global account manager",
        profile_key="global-account-manager",
        version=2,
        status="published",
        framework_title="Warwick KAM framework",
        framework_version=1,
        citation=SOURCE_CREDIT,
        summary="Leads our three largest accounts.\n\nReports to the sales director.",
        roles=(
            JdRole(
                "Develop the account",
                "Grow profitable business with the customer.",
                ("Grow share of wallet", "Open new divisions"),
            ),
        ),
        elements=(
            JdElement(
                label="1.1",
                title="Analyse the customer",
                role_title="Develop the account",
                kam=(
                    JdItem("Map the buying centre", ("Name each decision maker", "Track changes")),
                    JdItem("Analyse the customer's market"),
                ),
                company=(JdItem("Give access to market data", ("Within a week of request",)),),
            ),
        ),
        requirements=(
            JdRequirement(
                key="financially-aware",
                name="Financially aware",
                kind=Kind.COMPETENCY,
                required_level=3,
                level_name="Proficient",
                level_description="Reads a customer's accounts unaided.",
                weight=62.5,
                wordings=("Understands customer financials",),
            ),
            JdRequirement(
                key="planning",
                name="Account planning",
                kind=Kind.COMPETENCY,
                required_level=4,
                level_name="Advanced",
                level_description="Coaches others in planning.",
                weight=37.5,
            ),
        ),
        time_allocation=((SELLING, 10.0), ("Strategy and account planning", 90.0)),
        selling_limit=10.0,
        weights_source="Set by hand",
    )
    return replace(jd, **changes)


def large_jd() -> JobDescription:
    """A position close to the Warwick framework's size: 16 elements, 176 bullets, 54 needs."""
    words = "with the customer's senior team, agreeing priorities, owners and dates in writing"
    elements = tuple(
        JdElement(
            label=f"{n // 4 + 1}.{n % 4 + 1}",
            title=f"Role element {n}",
            role_title=f"Role {n // 4}",
            kam=(
                JdItem(f"KAM duty {n}.0 {words}", (f"Step {n}.0.a {words}", f"Step {n}.0.b")),
                *(JdItem(f"KAM duty {n}.{j} {words}") for j in range(1, 6)),
            ),
            company=(
                JdItem(f"Company duty {n}.0 {words}", (f"Company step {n}.0.a",)),
                JdItem(f"Company duty {n}.1 {words}"),
            ),
        )
        for n in range(16)
    )
    kinds = [Kind.COMPETENCY] * 30 + [Kind.ATTRIBUTE] * 14 + [Kind.BOTH] * 10
    requirements = tuple(
        JdRequirement(
            key=f"need-{k}",
            name=f"Need {k}",
            kind=kind,
            required_level=1 + k % 5,
            level_name="Proficient",
            level_description="Applies it unaided in most situations and coaches others in it.",
            weight=100 / 54,
            wordings=tuple(f"Wording {k}.{w} as the paper cites it" for w in range(k % 3)),
        )
        for k, kind in enumerate(kinds)
    )
    roles = tuple(
        JdRole(f"Role {r}", f"What role {r} is for.", ("Aim one", "Aim two")) for r in range(4)
    )
    return small_jd(roles=roles, elements=elements, requirements=requirements)


def flat(text: str) -> str:
    """Collapse whitespace, so that text wrapped over lines compares as one line."""
    return " ".join(text.split())


# --- DOCX -------------------------------------------------------------------------------


def open_docx(data: bytes) -> Document:
    return docx.Document(io.BytesIO(data))


def blocks(document: Document) -> list[Paragraph | Table]:
    return list(document.iter_inner_content())


def headings(document: Document) -> list[tuple[str, str]]:
    return [
        (p.style.name, p.text)
        for p in document.paragraphs
        if p.style is not None and p.style.name.startswith(("Title", "Heading"))
    ]


def table_text(table: Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def test_docx_shows_sections_in_markdown_order_with_builtin_styles() -> None:
    document = open_docx(render_docx(small_jd()))

    assert headings(document) == [
        ("Title", "Global account manager"),
        ("Heading 1", "Purpose"),
        ("Heading 1", "Responsibilities of the key account manager"),
        ("Heading 2", "1.1 — Analyse the customer"),
        ("Heading 1", "What the company commits to"),
        ("Heading 2", "1.1 — Analyse the customer"),
        ("Heading 1", "Requirements"),
        ("Heading 2", "Competencies (can be developed)"),
        ("Heading 1", "Time allocation"),
    ]
    texts = [p.text for p in document.paragraphs]
    assert texts[1] == "Profile version 2 (published) · Framework Warwick KAM framework v1"
    assert texts[2:4] == ["Leads our three largest accounts.", "Reports to the sales director."]
    role_title = document.paragraphs[texts.index("Develop the account")]
    assert all(run.bold for run in role_title.runs)
    assert COMPANY_NOTE in texts
    weights = texts.index("Weights: Set by hand")
    assert texts[weights + 1] == "Time allocation"  # after the requirement tables, as in Markdown
    assert texts[-1] == f"Source: {SOURCE_CREDIT}"


def test_docx_headings_and_warning_match_the_markdown() -> None:
    jd = replace(large_jd(), time_allocation=((SELLING, 25.0), ("Strategy", 75.0)))
    markdown = render_markdown(jd)
    document = open_docx(render_docx(jd))

    markdown_headings = [
        re.sub(r"\\(.)", r"\1", line.lstrip("#").strip())  # drop Markdown's escapes
        for line in markdown.splitlines()
        if line.startswith("#")
    ]
    assert [text for _, text in headings(document)] == markdown_headings
    texts = [p.text for p in document.paragraphs]
    assert COMPANY_NOTE in markdown
    assert f"**Warning:** {SELLING_WARNING}" in markdown
    assert f"Warning: {SELLING_WARNING}" in texts


def test_docx_nests_sub_bullets_under_their_bullet() -> None:
    document = open_docx(render_docx(small_jd()))

    bullets = [
        (p.style.name, p.text)
        for p in document.paragraphs
        if p.style is not None and p.style.name.startswith("List Bullet")
    ]
    assert bullets == [
        ("List Bullet", "Grow share of wallet"),
        ("List Bullet", "Open new divisions"),
        ("List Bullet", "Map the buying centre"),
        ("List Bullet 2", "Name each decision maker"),
        ("List Bullet 2", "Track changes"),
        ("List Bullet", "Analyse the customer's market"),
        ("List Bullet", "Give access to market data"),
        ("List Bullet 2", "Within a week of request"),
    ]


def test_docx_tables_show_level_description_weight_and_wordings() -> None:
    document = open_docx(render_docx(small_jd()))

    requirements, time = document.tables
    assert all(t.style is not None and t.style.name == "Table Grid" for t in document.tables)
    assert table_text(requirements) == [
        ["Requirement", "Required level", "Weight"],
        [
            "Financially aware\nUnderstands customer financials",
            "3 — Proficient\nReads a customer's accounts unaided.",
            "62.5%",
        ],
        ["Account planning", "4 — Advanced\nCoaches others in planning.", "37.5%"],
    ]
    wording = requirements.cell(1, 0).paragraphs[1].runs[0]
    assert wording.italic
    assert wording.font.size is not None
    assert wording.font.size.pt == 8
    assert table_text(time) == [
        ["Activity", "Share"],
        [SELLING, "10%"],
        ["Strategy and account planning", "90%"],
    ]


def test_docx_omits_empty_requirement_groups_and_sections() -> None:
    jd = small_jd(roles=(), time_allocation=(), summary="")
    document = open_docx(render_docx(jd))

    names = [text for _, text in headings(document)]
    assert "Competencies (can be developed)" in names
    for missing in ("Attributes (select for them)", "Competencies or attributes (C/A)"):
        assert missing not in names
    assert "Purpose" not in names
    assert "Time allocation" not in names
    assert len(document.tables) == 1
    assert document.paragraphs[2].style is not None
    assert document.paragraphs[2].style.name == "Heading 1"  # no empty summary paragraph


def test_docx_leaves_out_blank_weights_source_level_name_and_repeated_wordings() -> None:
    need = replace(
        small_jd().requirements[0], level_name=" ", wordings=("Same words", "Same words", " ")
    )
    document = open_docx(render_docx(small_jd(requirements=(need,), weights_source="")))

    assert table_text(document.tables[0])[1][:2] == [
        "Financially aware\nSame words",
        "3\nReads a customer's accounts unaided.",
    ]
    assert not any(p.text.startswith("Weights") for p in document.paragraphs)


def test_docx_puts_the_citation_last_and_in_the_metadata() -> None:
    document = open_docx(render_docx(large_jd()))

    last = blocks(document)[-1]
    assert isinstance(last, Paragraph)
    assert last.text == f"Source: {SOURCE_CREDIT}"
    props = document.core_properties
    assert props.title == "Global account manager"
    assert props.subject == "Job description"
    assert props.comments == SOURCE_CREDIT
    assert props.author == "kamfit"
    assert props.last_modified_by == "kamfit"


def test_docx_pages_are_a4_with_title_and_page_number_in_the_footer() -> None:
    document = open_docx(render_docx(small_jd()))

    section = document.sections[0]
    assert section.page_width is not None
    assert section.page_height is not None
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    footer = section.footer.paragraphs[0]
    assert footer.text == "Global account manager · Page "
    assert footer._p.xpath("w:fldSimple/@w:instr") == ["PAGE"]


def test_docx_of_a_warwick_sized_profile_keeps_every_bullet_and_requirement() -> None:
    jd = large_jd()
    document = open_docx(render_docx(jd))

    bullets = [p for p in document.paragraphs if p.style and p.style.name.startswith("List Bullet")]
    expected = sum(len(r.aims) for r in jd.roles) + sum(
        len(i.children) + 1 for e in jd.elements for i in (*e.kam, *e.company)
    )
    assert expected == 184
    assert len(bullets) == expected
    competencies, attributes, either, _time = document.tables
    assert [len(t.rows) - 1 for t in (competencies, attributes, either)] == [30, 14, 10]
    assert table_text(either)[-1][0] == (
        "Need 53\nWording 53.0 as the paper cites it\nWording 53.1 as the paper cites it"
    )
    assert table_text(either)[-1][2] == "1.9%"


def test_docx_highlights_selling_above_the_limit() -> None:
    jd = small_jd(time_allocation=((SELLING, 25.0), ("Strategy and account planning", 75.0)))
    document = open_docx(render_docx(jd))

    selling_row = document.tables[-1].rows[1]
    for cell in selling_row.cells:
        run = cell.paragraphs[0].runs[0]
        assert run.bold
        assert run.font.highlight_color == WD_COLOR_INDEX.YELLOW
    warning = next(p for p in document.paragraphs if p.text.startswith("Warning:"))
    assert warning.text == f"Warning: {SELLING_WARNING}"
    assert warning.runs[0].font.highlight_color == WD_COLOR_INDEX.YELLOW


def test_docx_has_no_warning_when_selling_is_within_the_limit() -> None:
    document = open_docx(render_docx(small_jd()))

    assert not any(p.text.startswith("Warning") for p in document.paragraphs)
    assert not any(
        run.bold for cell in document.tables[-1].rows[1].cells for run in cell.paragraphs[0].runs
    )


def test_docx_replaces_control_characters_xml_cannot_hold() -> None:
    document = open_docx(render_docx(small_jd(summary="Line one\x0bline two\x00")))

    assert document.paragraphs[2].text == "Line one line two"


# --- PDF --------------------------------------------------------------------------------

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)\s*endobj", re.S)
_STREAM = re.compile(rb"^(.*?)stream\r?\n(.*)\r?\nendstream$", re.S)
_TEXT_OP = re.compile(rb"/(\w+) [\d.]+ Tf|\[(.*?)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj", re.S)


def pdf_objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Every object as (dictionary, decompressed stream or None), object streams unpacked."""
    objects: dict[int, tuple[bytes, bytes | None]] = {}
    for match in _OBJECT.finditer(pdf):
        number, body = int(match[1]), match[2]
        stream = _STREAM.match(body)
        if stream is None:
            objects[number] = (body, None)
            continue
        head, data = stream[1], stream[2]
        if b"/FlateDecode" in head:
            data = zlib.decompress(data)
        objects[number] = (head, data)
        if b"/Type /ObjStm" in head:
            header = re.search(rb"/First (\d+)", head)
            assert header is not None
            first = int(header[1])
            numbers = [int(x) for x in data[:first].split()]
            pairs = list(zip(numbers[::2], numbers[1::2], strict=True))
            ends = [offset for _, offset in pairs[1:]] + [len(data) - first]
            for (inner, offset), end in zip(pairs, ends, strict=True):
                objects[inner] = (data[first + offset : first + end], None)
    return objects


def to_unicode(cmap: bytes) -> dict[int, str]:
    table: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
            table[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        ranges = re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block)
        for low, high, start in ranges:
            for k, code in enumerate(range(int(low, 16), int(high, 16) + 1)):
                table[code] = chr(int(start, 16) + k)
    return table


def pdf_text(pdf: bytes) -> str:
    """Decode the text the pages draw, through each font's ToUnicode map, one line per run."""
    objects = pdf_objects(pdf)
    fonts: dict[bytes, dict[int, str]] = {}
    for head, _ in objects.values():
        for ref, inline in re.findall(rb"/Font\s*(?:(\d+) 0 R|<<(.*?)>>)", head, re.S):
            resources = objects[int(ref)][0] if ref else inline
            for name, font_ref in re.findall(rb"/(\w+)\s+(\d+) 0 R", resources):
                cmap = re.search(rb"/ToUnicode (\d+) 0 R", objects[int(font_ref)][0])
                assert cmap is not None, name
                fonts[name] = to_unicode(objects[int(cmap[1])][1] or b"")
    runs = []
    for _, data in sorted(objects.items()):
        stream = data[1]
        if stream is None or b"BT" not in stream:
            continue
        font: dict[int, str] = {}
        for op in _TEXT_OP.finditer(stream):
            if op[1]:
                font = fonts[op[1]]
                continue
            hexes = re.findall(rb"<([0-9a-fA-F]*)>", op[2]) if op[2] is not None else [op[3]]
            raw = b"".join(bytes.fromhex(h.decode()) for h in hexes)
            runs.append(
                "".join(font[int.from_bytes(raw[i : i + 2])] for i in range(0, len(raw), 2))
            )
    return "\n".join(runs)


def pdf_info(pdf: bytes) -> bytes:
    objects = pdf_objects(pdf)
    return next(head for head, _ in objects.values() if b"/Producer" in head)


def test_pdf_shows_every_section_in_order() -> None:
    pdf = render_pdf(small_jd())

    assert pdf.startswith(b"%PDF-")
    text = flat(pdf_text(pdf))
    expected = [
        "Global account manager",
        "Profile version 2 (published) · Framework Warwick KAM framework v1",
        "Leads our three largest accounts.",
        "Reports to the sales director.",
        "Purpose",
        "Develop the account",
        "Grow profitable business with the customer.",
        "Grow share of wallet",
        "Responsibilities of the key account manager",
        "1.1 — Analyse the customer",
        "Map the buying centre",
        "Name each decision maker",
        "Track changes",
        "What the company commits to",
        COMPANY_NOTE,
        "Give access to market data",
        "Within a week of request",
        "Requirements",
        "Competencies (can be developed)",
        "Requirement Required level Weight",
        "Financially aware Understands customer financials 3 — Proficient "
        "Reads a customer's accounts unaided. 62.5%",
        "Account planning 4 — Advanced Coaches others in planning. 37.5%",
        "Weights: Set by hand",
        "Time allocation",
        f"{SELLING} 10%",
        f"Source: {SOURCE_CREDIT}",
    ]
    position = 0
    for line in expected:
        found = text.find(line, position)
        assert found >= 0, f"{line!r} missing or out of order"
        position = found + len(line)
    pages = len(re.findall(r"Global account manager Page \d+ of \d+", text))  # the footers
    assert text.endswith(f"Global account manager Page {pages} of {pages}")
    assert "Attributes (select for them)" not in text
    assert "Competencies or attributes (C/A)" not in text
    assert "Warning" not in text


def test_pdf_metadata_credits_the_source() -> None:
    info = pdf_info(render_pdf(small_jd()))

    assert b"/Title (Global account manager)" in info
    assert b"/Author (kamfit)" in info
    # PDF literal strings escape parentheses.
    citation = SOURCE_CREDIT.replace("(", r"\(").replace(")", r"\)").encode()
    assert b"/Subject (" + citation + b")" in info


def test_pdf_embeds_only_dejavu_sans() -> None:
    objects = pdf_objects(render_pdf(small_jd()))

    fonts = {
        m[1]
        for head, _ in objects.values()
        for m in [re.search(rb"/BaseFont /\w+\+([\w-]+)", head)]
        if m
    }
    assert fonts == {b"DejaVu-Sans", b"DejaVu-Sans-Bold", b"DejaVu-Sans-Oblique"}


def test_pdf_of_a_warwick_sized_profile_keeps_everything_and_logs_no_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    jd = large_jd()
    with caplog.at_level(logging.WARNING):
        pdf = render_pdf(jd)

    assert [r.getMessage() for r in caplog.records] == []
    text = flat(pdf_text(pdf))
    for element in jd.elements:
        for item in (*element.kam, *element.company):
            assert item.text in text
            for child in item.children:
                assert child in text
    for requirement in jd.requirements:
        assert f"{requirement.name} " in text
        assert f"{requirement.required_level} — Proficient" in text
    pages = int(re.findall(r"Page \d+ of (\d+)", text)[0])
    assert pages > 1
    assert text.endswith(f"Source: {SOURCE_CREDIT} Global account manager Page {pages} of {pages}")


def test_pdf_warns_when_selling_exceeds_the_limit() -> None:
    jd = small_jd(time_allocation=((SELLING, 25.0), ("Strategy and account planning", 75.0)))
    text = flat(pdf_text(render_pdf(jd)))

    assert f"{SELLING} 25%" in text
    assert "Strategy and account planning 75%" in text
    assert f"Warning: {SELLING_WARNING}" in text


def test_template_escapes_markup_from_user_text() -> None:
    html = render_to_string(
        documents.TEMPLATE, {"doc": documents._content(small_jd(summary=PAYLOAD))}
    )

    assert "<img" not in html
    assert 'href="file:' not in html
    assert "&lt;img src=&quot;http://example.invalid/x.png&quot;&gt;" in html


def test_pdf_shows_markup_from_user_text_as_text_and_fetches_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []
    refuse = RefusingURLFetcher.fetch

    def record(self: RefusingURLFetcher, url: str, headers: object = None) -> None:
        asked.append(url)
        refuse(self, url, headers)

    monkeypatch.setattr(RefusingURLFetcher, "fetch", record)
    text = pdf_text(render_pdf(small_jd(summary=PAYLOAD)))

    assert asked == []
    # The URL may wrap after a slash, so compare without whitespace.
    assert re.sub(r"\s", "", PAYLOAD) in re.sub(r"\s", "", text)


@pytest.mark.parametrize(
    "markup",
    [
        '<img src="file:///etc/passwd">',
        '<link rel="stylesheet" href="file:///etc/passwd">',
        '<style>@import url("file:///etc/passwd");</style>',
        '<style>@font-face { font-family: x; src: url("file:///etc/passwd"); }'
        " p { font-family: x; }</style>",
        '<p style="background: url(file:///etc/passwd)">x</p>',
    ],
)
def test_render_pdf_refuses_a_resource_the_html_asks_for(
    monkeypatch: pytest.MonkeyPatch, markup: str
) -> None:
    # Stands in for a template bug or an escaping failure: the fetcher is the last guard.
    def injected(*args: object, **kwargs: object) -> str:
        return f"<!DOCTYPE html><html><head>{markup}</head><body><p>Hello</p>{markup}</body></html>"

    monkeypatch.setattr(documents, "render_to_string", injected)

    with pytest.raises(FetchRefused, match="etc/passwd"):
        render_pdf(small_jd())


@pytest.mark.parametrize(
    "url",
    [
        "http://example.invalid/x.png",
        "https://example.invalid/x.css",
        "file:///etc/passwd",
        "data:text/plain,hello",
        "x.css",
    ],
)
def test_refusing_fetcher_raises_for_every_url(url: str) -> None:
    with pytest.raises(FetchRefused, match=re.escape(url)):
        RefusingURLFetcher()(url)


# --- Names ------------------------------------------------------------------------------


def test_media_types() -> None:
    assert PDF_MEDIA_TYPE == "application/pdf"
    assert DOCX_MEDIA_TYPE == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )


@pytest.mark.parametrize(
    ("title", "ext", "expected"),
    [
        ("Global account manager", "pdf", "global-account-manager-v2.pdf"),
        (
            "Global Account Manager (EMEA) / Zürich",
            "docx",
            "global-account-manager-emea-zurich-v2.docx",
        ),
        ('../../etc/passwd"\r\n', "pdf", "etcpasswd-v2.pdf"),
        ("Größe – ★", "pdf", "groe-v2.pdf"),
        ("★★★", "pdf", "job-description-v2.pdf"),
        ("x" * 200, "pdf", "x" * 80 + "-v2.pdf"),
    ],
)
def test_document_filename_is_an_ascii_slug(title: str, ext: str, expected: str) -> None:
    assert document_filename(small_jd(title=title), ext) == expected


@pytest.mark.parametrize("ext", ["", ".pdf", "PDF", "pdf/../x", "tar.gz"])
def test_document_filename_refuses_a_strange_extension(ext: str) -> None:
    with pytest.raises(ValueError, match="not a file extension"):
        document_filename(small_jd(), ext)
