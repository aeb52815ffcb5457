"""The matrix file itself: valid, strict about typos, and shown unchanged in the docs."""

from __future__ import annotations

from pathlib import Path

import pytest

from kamfit.orgs.matrix import MatrixError, load, main, markdown, parse

DOC = Path(__file__).resolve().parents[3] / "docs" / "security" / "permission-matrix.md"
ADMIN = {"prefix": "/admin/", "superuser": "ok", "others": "login"}


def test_the_documented_table_is_the_generated_one() -> None:
    table = markdown(load())
    assert table in DOC.read_text(encoding="utf-8"), (
        "docs/security/permission-matrix.md is out of date: paste the output of "
        "`python -m kamfit.orgs.matrix --markdown` under 'The matrix'"
    )


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ({"x": {"GET": "okay"}}, "unknown outcome 'okay'"),
        (
            {"x": {"GET": {"ok": ["owner", "cfo"], "forbidden": "others"}}},
            "unknown role or group 'cfo'",
        ),
        ({"x": {"GET": {"ok": ["owner"]}}}, "no outcome for role 'hr'"),
        ({"x": {"GET": {"ok": "all", "hidden": ["hr"]}}}, "role 'hr' is given two outcomes"),
        ({"x": {"objects": {"a": {}}, "GET": {"b": "ok"}}}, "unknown state variant"),
        ({"x": {"GET": "ok", "PUTT": "ok"}}, "unknown key(s) ['PUTT']"),
        ({"x": {}}, "no HTTP method listed"),
    ],
)
def test_a_malformed_matrix_is_refused_with_the_place_and_reason(
    routes: dict[str, object], message: str
) -> None:
    with pytest.raises(MatrixError) as exc:
        parse({"admin": ADMIN, "routes": routes})
    assert message in str(exc.value)
    assert "route 'x'" in str(exc.value) or "'x'" in str(exc.value)


def test_the_command_validates_and_prints(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main([]) == 0
    assert "routes" in capsys.readouterr().out
    assert main(["--markdown"]) == 0
    assert capsys.readouterr().out == markdown(load())
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "admin: {prefix: /admin/, superuser: ok, others: login}\nroutes: {x: {GET: okay}}\n"
    )
    assert main([str(bad)]) == 1
    assert "unknown outcome" in capsys.readouterr().err
