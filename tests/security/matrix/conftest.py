"""The matrix world, built once per test module and rolled back at its end."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction
from django.test import override_settings

from tests.security.matrix.world import World, build


@pytest.fixture(scope="module")
def world(
    django_db_setup: None,
    django_db_blocker: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[World]:
    """Both organisations' objects, created once for the module and never committed."""
    data_dir: Path = tmp_path_factory.mktemp("matrix-data")
    with (
        override_settings(DATA_DIR=data_dir),
        django_db_blocker.unblock(),  # type: ignore[attr-defined]
        transaction.atomic(),
    ):
        built = build()
        yield built
        transaction.set_rollback(True)
