"""The portal's forms. They collect and check input; the services decide and record."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import URLValidator
from django.utils.translation import gettext_lazy as _

from dtiplan.forms import PrintableTextMixin
from plans.decisions import Decider
from plans.models import Unit, User
from plans.uploads import ALLOWED_TYPES, validate_evidence_file

# Phones and browsers show their own date picker; it sends ISO dates, which every locale's
# input formats accept (dtiplan/formats).
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ACCEPT = ",".join(sorted(ALLOWED_TYPES))


class UnitForm(PrintableTextMixin, forms.Form):
    """Every action is taken for one unit. A person who acts for several units on the task
    picks one; with a single unit the field is hidden and preset."""

    unit = forms.ModelChoiceField(queryset=Unit.objects.none(), label=_("On behalf of"))

    def __init__(self, *args: Any, units: list[Unit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        field.queryset = Unit.objects.filter(pk__in=[u.pk for u in units])
        field.choices = [(u.pk, u.name) for u in units]  # no query to render
        self.only_unit = units[0] if len(units) == 1 else None
        if self.only_unit:
            field.initial = self.only_unit.pk
            field.widget = forms.HiddenInput()
            field.required = False

    def clean_unit(self) -> Unit:
        return self.cleaned_data.get("unit") or self.only_unit


def evidence_file_field(label: Any, required: bool = False) -> forms.FileField:
    return forms.FileField(
        label=label,
        required=required,
        validators=[validate_evidence_file],
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text=_("PDF, Word, Excel, PowerPoint, OpenDocument or an image."),
    )


class ProgressForm(UnitForm):
    percent = forms.IntegerField(
        label=_("Percent done"),
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "min": 0, "max": 100}),
    )
    note = forms.CharField(
        label=_("What was done"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    delay_reason = forms.CharField(
        label=_("Reason for the delay"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("The task is past its deadline: say why."),
    )
    evidence_file = evidence_file_field(_("Evidence file"))
    evidence_link = forms.URLField(
        label=_("Evidence link"),
        required=False,
        assume_scheme="https",
        # Only web links: a javascript: or file: link would be dangerous to click.
        validators=[URLValidator(schemes=["http", "https"])],
        max_length=1000,
    )

    def __init__(self, *args: Any, overdue: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.overdue = overdue
        if overdue:
            self.fields["delay_reason"].required = True
        else:
            del self.fields["delay_reason"]


class CompletionForm(UnitForm):
    document_number = forms.CharField(
        label=_("Document number"), max_length=100, help_text=_("e.g. 45/BC-SKHCN")
    )
    document_date = forms.DateField(label=_("Document date"), widget=DATE_WIDGET)
    summary = forms.CharField(
        label=_("Summary of the result"), widget=forms.Textarea(attrs={"rows": 4})
    )
    document = evidence_file_field(_("Completion document"), required=True)
    delay_reason = forms.CharField(
        label=_("Reason for the delay"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("The task is past its deadline: say why."),
    )

    def __init__(self, *args: Any, overdue: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if overdue:
            self.fields["delay_reason"].required = True
        else:
            del self.fields["delay_reason"]


class ExtensionForm(UnitForm):
    new_deadline = forms.DateField(label=_("New deadline"), widget=DATE_WIDGET)
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000
    )


class CommentForm(UnitForm):
    text = forms.CharField(
        label=_("Comment"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )


class DecisionForm(PrintableTextMixin, forms.Form):
    """A decision on a request: the portal's decide pages and the admin's. A completion is
    verified or returned, an extension approved or refused; either way a "no" says why."""

    decision = forms.ChoiceField(label=_("Decision"), widget=forms.RadioSelect)
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=4000,
    )

    def __init__(self, *args: Any, decider: Decider, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["decision"].choices = [
            ("approve", decider.approve_label),
            ("refuse", decider.refuse_label),
        ]
        self.fields["note"].label = decider.note_label

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("decision") == "refuse" and not (data.get("note") or "").strip():
            self.add_error("note", _("Give the reason for the refusal."))
        return data


class RefusalForm(PrintableTextMixin, forms.Form):
    """The reason asked once for refusing (or returning) several requests at a time."""

    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), max_length=4000
    )


class ProfileForm(forms.ModelForm):
    """What a person sets for themselves: the language of the site and their e-mails, and
    when e-mails about decisions and new tasks reach them."""

    class Meta:
        model = User
        fields = ["language", "event_emails"]
        widgets = {"language": forms.RadioSelect, "event_emails": forms.RadioSelect}
