"""Every model of kamfit is classified, and the document shows the same classification."""

from __future__ import annotations

from pathlib import Path

from django.apps import apps

from kamfit.privacy.classification import (
    CLASSES,
    MODELS,
    SENSITIVE_FIELDS,
    DataClass,
    model_table,
    rules_markdown,
)

DOC = Path(__file__).resolve().parents[3] / "docs" / "security" / "data-classification.md"


def _kamfit_models() -> set[str]:
    return {
        m._meta.label
        for m in apps.get_models()
        if m.__module__.startswith("kamfit.") and not m._meta.abstract and not m._meta.proxy
    }


def test_every_kamfit_model_is_classified() -> None:
    missing = sorted(_kamfit_models() - set(MODELS))
    assert not missing, f"classify these in kamfit/privacy/classification.py: {missing}"


def test_no_stale_classification() -> None:
    known = {m._meta.label for m in apps.get_models()}
    assert not sorted(set(MODELS) - known)
    for label, fields in SENSITIVE_FIELDS.items():
        names = {f.name for f in apps.get_model(label)._meta.get_fields()}
        assert set(fields) <= names, label


def test_every_class_has_rules() -> None:
    assert set(CLASSES) == set(DataClass)
    for rules in CLASSES.values():
        assert rules.access and rules.logging and rules.retention and rules.export


def test_required_classes_of_a33() -> None:
    assert MODELS["frameworks.Competency"][0] is DataClass.PUBLIC
    assert MODELS["assessments.Person"][0] is DataClass.PERSONAL
    assert MODELS["assessments.PsychometricResult"][0] is DataClass.SENSITIVE
    assert MODELS["assessments.Rating"][0] is DataClass.SENSITIVE
    assert MODELS["assessments.QuickCheck"][0] is DataClass.SENSITIVE
    assert "kind" in SENSITIVE_FIELDS["assessments.Person"]  # candidate records


def test_document_shows_the_generated_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert model_table() in text, (
        "regenerate the table: kamfit.privacy.classification.model_table()"
    )
    assert rules_markdown() in text, "regenerate: python -m kamfit.privacy.classification"
