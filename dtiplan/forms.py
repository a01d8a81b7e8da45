"""What every form of the site does to text people type."""

from __future__ import annotations

from typing import Any

from django import forms

from dtiplan.text import printable


class PrintableTextMixin:
    """Strips from every text field the characters no output can carry (``dtiplan.text``):
    a multi-line field (a textarea) keeps tab and line breaks, a single-line one turns them into
    spaces. Runs in ``clean()``, so a model form builds its instance from the cleaned text."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # type: ignore[misc]
        for name, value in cleaned.items():
            if isinstance(value, str) and name in self.fields:
                multiline = isinstance(self.fields[name].widget, forms.Textarea)
                cleaned[name] = printable(value, multiline=multiline)
        return cleaned
