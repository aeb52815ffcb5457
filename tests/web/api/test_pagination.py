"""API lists read ?page= as strictly as the schema states it (an integer of at least 1)."""

from __future__ import annotations

import pytest

from kamfit.orgs.models import Role
from tests.conftest import Personas

ORGANISATIONS = "/api/v1/organisations/"


@pytest.mark.parametrize("page", ["", "last", "0", "-1", "1.0", "²", "one"])
def test_a_page_that_is_not_a_number_of_one_or_more_answers_400_naming_page(
    personas: Personas, page: str
) -> None:
    response = personas.a.client(Role.HR).get(ORGANISATIONS, {"page": page})
    assert response.status_code == 400
    assert [p["location"] for p in response.json()["problems"]] == ["page"]


def test_the_first_page_is_the_default_and_a_page_past_the_end_is_404(personas: Personas) -> None:
    client = personas.a.client(Role.HR)
    first = client.get(ORGANISATIONS).json()
    assert client.get(ORGANISATIONS, {"page": "1"}).json() == first
    assert [o["organisation"] for o in first["results"]] == [personas.a.org.slug]
    assert client.get(ORGANISATIONS, {"page": "2"}).status_code == 404


def test_the_schema_states_the_page_is_an_integer_of_at_least_one(personas: Personas) -> None:
    schema = personas.a.client(Role.HR).get("/api/v1/schema/", {"format": "json"}).json()
    parameters = schema["paths"][ORGANISATIONS]["get"]["parameters"]
    page = next(p for p in parameters if p["name"] == "page")
    assert page["schema"] == {"type": "integer", "minimum": 1}
