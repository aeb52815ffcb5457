"""T15 (PDF part), A32: the PDF renderer fetches nothing, and shows injected markup as text.

The job description PDF is kamfit's only PDF. User text carrying markup that would make
WeasyPrint read a local file or call a host is rendered through the real page; the
fetcher must never be asked, no file content may reach the PDF, and the literal text
must. Asked directly, the fetcher refuses and logs the refusal.
"""

from __future__ import annotations

import logging
import re

import pytest

from kamfit.orgs.models import Role
from kamfit.profiles import documents
from kamfit.profiles import services as profile_services
from kamfit.profiles.documents import FetchRefused, RefusingURLFetcher
from tests.conftest import Team
from tests.web.profiles.test_documents import pdf_text

FILE = '<img src="file:///etc/passwd">'
HOST = '<link rel="stylesheet" href="http://127.0.0.2:9/x">'
STYLE = '<p style="background:url(file:///etc/hostname)">x</p>'


def test_injected_markup_in_a_job_description_pdf_is_text_and_fetches_nothing(
    team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    refuse = RefusingURLFetcher.fetch

    def record(self: RefusingURLFetcher, url: str, headers: object = None) -> None:
        asked.append(url)
        refuse(self, url, headers)

    monkeypatch.setattr(RefusingURLFetcher, "fetch", record)
    director = team.side.users[Role.DIRECTOR]
    draft = profile_services.start_new_draft(team.profile.profile, director)
    profile_services.update_details(
        draft, title=f"KAM {FILE}", summary=f"{HOST}\n\n{STYLE}", note=FILE
    )
    url = f"/o/alpha/profiles/{draft.profile_id}/v{draft.number}/job-description.pdf"
    response = team.side.client(Role.DIRECTOR).get(url)

    assert response.status_code == 200
    assert response.headers["Content-Type"] == documents.PDF_MEDIA_TYPE
    assert response.headers["Content-Disposition"].startswith("attachment;")
    body = response.content
    assert asked == []
    assert b"root:x:0:0" not in body and b"/bin/" not in body
    text = re.sub(r"\s", "", pdf_text(body))
    for payload in (FILE, HOST, STYLE):
        assert re.sub(r"\s", "", payload) in text


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "http://127.0.0.2:9/x", "https://example.com/f.woff", "/static/x.css"],
)
def test_the_fetcher_refuses_and_logs_every_url(url: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="kamfit.pdf"), pytest.raises(FetchRefused):
        RefusingURLFetcher()(url)
    assert [r.getMessage() for r in caplog.records] == [f"PDF renderer refused to fetch {url!r}"]


def test_a_refusal_log_line_cannot_be_forged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="kamfit.pdf"), pytest.raises(FetchRefused):
        RefusingURLFetcher()("http://x/\nINFO forged line")
    assert "\n" not in caplog.records[0].getMessage()
