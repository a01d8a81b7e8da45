"""The portal's self-assessment forms. They collect and check input; ``plans.self_assessment``
decides and records."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, URLValidator
from django.utils.translation import gettext_lazy as _

from dtiplan.forms import PrintableTextMixin
from plans.forms import evidence_file_field
from plans.self_assessment import points_text


class ItemForm(PrintableTextMixin, forms.Form):
    points = forms.DecimalField(
        label=_("Self-assessed points"),
        min_value=Decimal("0"),
        decimal_places=2,
        max_digits=7,
        required=False,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    figures = forms.CharField(
        label=_("Figures behind the points"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=4000,
        help_text=_("e.g. 1.245/1.300 cán bộ đã được tập huấn"),
    )

    def __init__(self, *args: Any, max_points: Decimal, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["points"]
        field.max_value = max_points
        field.validators.append(MaxValueValidator(max_points))
        field.help_text = _("From 0 to %(max)s.") % {"max": points_text(max_points)}


class ItemEvidenceForm(forms.Form):
    file = evidence_file_field(_("Evidence file"))
    link = forms.URLField(
        label=_("Evidence link"),
        required=False,
        assume_scheme="https",
        validators=[URLValidator(schemes=["http", "https"])],
        max_length=1000,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("file") and not data.get("link") and not self.errors:
            raise forms.ValidationError(_("Attach a file or give a link."))
        return data


class ReviewForm(PrintableTextMixin, forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept")), ("return", _("Return to the unit"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (required when returning)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
        help_text=_("e.g. bổ sung minh chứng"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == "return" and not (data.get("comment") or "").strip():
            self.add_error("comment", _("Say what the unit must add or correct."))
        return data
