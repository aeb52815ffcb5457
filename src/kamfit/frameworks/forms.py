"""Forms for creating, importing and editing frameworks."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django import forms

from kamfit.domain.errors import Problem
from kamfit.domain.framework import MAX_DOCUMENT_BYTES, MAX_SCALE_LEVELS, Kind, ProficiencyLevel
from kamfit.frameworks.models import (
    Citation,
    Competency,
    FrameworkVersion,
    Party,
    Responsibility,
    Role,
    RoleElement,
)

MAX_UPLOAD_BYTES = MAX_DOCUMENT_BYTES  # a framework file, as kamfit.domain.framework reads it
KIND_CHOICES = [(k.value, f"{k.value} — {k.label}") for k in Kind]


class BlankFrameworkForm(forms.Form):
    title = forms.CharField(max_length=200, strip=True)


class CopyFrameworkForm(forms.Form):
    title = forms.CharField(max_length=200, strip=True, required=False)


class ImportFrameworkForm(forms.Form):
    file = forms.FileField(help_text="kamfit YAML or JSON, or 1EdTech CASE 1.0 JSON; at most 5 MB")
    format = forms.ChoiceField(
        choices=[("auto", "Detect"), ("yaml", "YAML"), ("json", "JSON"), ("case", "CASE 1.0")],
        initial="auto",
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The file is larger than 5 MB.")
        try:
            return str(upload.read().decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise forms.ValidationError(
                f"The file is not UTF-8 text (byte {exc.start} cannot be read)."
            ) from exc


class DetailsForm(forms.Form):
    title = forms.CharField(max_length=200, strip=True)
    description = forms.CharField(required=False, strip=True)


class PublishForm(forms.Form):
    note = forms.CharField(max_length=300, required=False, strip=True)


class RoleForm(forms.ModelForm[Role]):
    class Meta:
        model = Role
        fields = ["title", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}


class ElementForm(forms.ModelForm[RoleElement]):
    class Meta:
        model = RoleElement
        fields = ["label", "title"]


class ResponsibilityForm(forms.ModelForm[Responsibility]):
    party = forms.ChoiceField(choices=Party.choices, required=False)

    class Meta:
        model = Responsibility
        fields = ["text"]
        widgets = {"text": forms.TextInput()}


class CompetencyForm(forms.ModelForm[Competency]):
    kind = forms.ChoiceField(choices=KIND_CHOICES)

    class Meta:
        model = Competency
        fields = ["name", "kind", "description"]
        widgets = {"description": forms.TextInput()}


class CitationForm(forms.ModelForm[Citation]):
    competencies = forms.ModelMultipleChoiceField(
        queryset=Competency.objects.none(), required=False
    )

    class Meta:
        model = Citation
        fields = ["wording", "competencies"]

    def __init__(self, *args: object, version: FrameworkVersion, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["competencies"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101 - declared above
        field.queryset = Competency.objects.filter(version=version)


class RelinkForm(forms.Form):
    competencies = forms.ModelMultipleChoiceField(queryset=Competency.objects.none())

    def __init__(self, *args: object, version: FrameworkVersion, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["competencies"]
        assert isinstance(field, forms.ModelMultipleChoiceField)  # noqa: S101 - declared above
        field.queryset = Competency.objects.filter(version=version)


def clean_text(form: forms.BaseForm, name: str) -> str:
    """Return a required text field, refusing blank text."""
    value = str(form.cleaned_data.get(name, "")).strip()
    if not value:
        form.add_error(name, "This field cannot be blank.")
    return value


class ScaleForm(forms.Form):
    """A proficiency scale as up to nine rows (name, description), lowest level first."""

    def __init__(
        self, *args: object, scale: Sequence[ProficiencyLevel] = (), **kwargs: object
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for n in range(1, MAX_SCALE_LEVELS + 1):
            level = scale[n - 1] if n <= len(scale) else None
            self.fields[f"name_{n}"] = forms.CharField(
                required=False,
                initial=level.name if level else "",
                widget=forms.TextInput(attrs={"size": 16, "aria-label": f"Level {n} name"}),
            )
            self.fields[f"description_{n}"] = forms.CharField(
                required=False,
                initial=level.description if level else "",
                widget=forms.Textarea(
                    attrs={"rows": 2, "cols": 70, "aria-label": f"Level {n} description"}
                ),
            )

    def rows(self) -> list[tuple[int, forms.BoundField, forms.BoundField]]:
        """Return each row's level number with its two fields, for the template."""
        return [
            (n, self[f"name_{n}"], self[f"description_{n}"]) for n in range(1, MAX_SCALE_LEVELS + 1)
        ]

    def levels(self) -> list[tuple[str, str]]:
        """Return the (name, description) rows entered, without blank rows at the end."""
        data = self.cleaned_data if self.is_valid() else {}
        rows = [
            (str(data.get(f"name_{n}", "")), str(data.get(f"description_{n}", "")))
            for n in range(1, MAX_SCALE_LEVELS + 1)
        ]
        while rows and rows[-1] == ("", ""):
            rows.pop()
        return rows


_SCALE_LOCATION = re.compile(r"scale\[(\d+)\]\.(\w+)")


def scale_problem_text(problem: Problem) -> str:
    """Word a scale problem by the row it is on: ``Level 3 name: empty text``."""
    if found := _SCALE_LOCATION.fullmatch(problem.location):
        return f"Level {int(found[1]) + 1} {found[2]}: {problem.message}"
    return problem.message[:1].upper() + problem.message[1:]
