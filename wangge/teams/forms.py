from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wangge.core.errors import ValidationFailed
from wangge.core.models import Department
from wangge.core.selectors import department_by_code, departments
from wangge.teams.models import Gender, PoliticalStatus, TeamRole


def _department_choices() -> list[tuple[str, str]]:
    # A callable: read when a form is made, not when this module is imported.
    return [("", "—"), *((d.code, d.name) for d in departments())]


class AssignmentForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=TeamRole.choices)
    name = forms.CharField(label=pgettext_lazy("person", "Name"), max_length=50)
    gender = forms.ChoiceField(
        label=_("Gender"), choices=[("", "—"), *Gender.choices], required=False
    )
    id_number = forms.CharField(label=_("ID number"), max_length=30)
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False)
    political_status = forms.ChoiceField(
        label=_("Political status"), choices=[("", "—"), *PoliticalStatus.choices], required=False
    )
    employer = forms.CharField(label=_("Employer"), max_length=100, required=False)
    department = forms.ChoiceField(
        label=_("Department (specialists)"), choices=_department_choices, required=False
    )
    # ISO dates: a date input refuses any other format (it showed blank for "2026/12/02").
    valid_from = forms.DateField(
        label=_("From"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )

    def clean_department(self) -> Department | None:
        try:
            return department_by_code(self.cleaned_data["department"])
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.message) from None


class EndForm(forms.Form):
    valid_to = forms.DateField(
        label=_("Until"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"})
    )


class RevealForm(forms.Form):
    field = forms.ChoiceField(
        choices=[("phone", _("Mobile phone")), ("id_number", _("ID number"))],
        widget=forms.HiddenInput,
    )
    reason = forms.CharField(label=_("Reason"), min_length=4, max_length=500)


class ExportForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), min_length=4, max_length=500)


class RosterUploadForm(forms.Form):
    file = forms.FileField(label=_("Roster workbook (.xlsx) or CSV"))
    dry_run = forms.BooleanField(
        label=_("Dry run (check only, store nothing)"), required=False, initial=True
    )
    partial = forms.BooleanField(
        label=_("Store the good rows even if some rows are rejected"), required=False
    )
