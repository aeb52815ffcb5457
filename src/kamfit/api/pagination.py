"""Page numbers for API lists, read as strictly as the schema states them.

DRF's ``PageNumberPagination`` treats ``?page=`` as page 1 and accepts ``?page=last``,
although the schema promises an integer: a client with a bug then gets page 1 and never
hears of it. Here ``page`` is a whole number of at least 1, or the answer is 400 naming
the parameter; a page past the end stays DRF's 404.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

from kamfit.domain.errors import Problem, ValidationError

__all__ = ["StrictPageNumberPagination"]


class StrictPageNumberPagination(PageNumberPagination):
    """``?page=N`` with N ≥ 1; anything else is refused rather than read as page 1."""

    last_page_strings = ()

    def get_page_number(self, request: Request, paginator: Paginator) -> int:
        raw = request.query_params.get(self.page_query_param)
        if raw is None:
            return 1
        if not raw.isdecimal() or int(raw) < 1:
            raise ValidationError(
                [
                    Problem(
                        self.page_query_param, f"a page number of 1 or more is needed, not {raw!r}"
                    )
                ]
            )
        return int(raw)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters
