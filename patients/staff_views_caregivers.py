"""Caregivers from the chart: invite, link an existing account, record mobile and consent, deactivate."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from .forms_staff import InviteForm, LinkExistingForm, MobileConsentForm
from .models import CaregiverLink, Patient
from .permissions import staff_required
from .services import SMS_CONSENT_WORDING
from .services_staff import (
    CaregiverError,
    caregiver_contact_record,
    caregiver_invite,
    caregiver_link_deactivate,
    caregiver_link_existing,
)


def _patient(request, pk: int) -> Patient:
    return get_object_or_404(Patient.objects.visible_to(request.user).select_related("clinic"), pk=pk)


def _link(request, pk: int, link_pk: int) -> CaregiverLink:
    patient = _patient(request, pk)
    return get_object_or_404(
        CaregiverLink.objects.select_related("caregiver__user", "patient"), pk=link_pk, patient=patient
    )


@staff_required
def caregivers(request, pk: int):
    patient = _patient(request, pk)
    invite = InviteForm(request.POST if "invite" in request.POST else None, prefix="invite")
    link = LinkExistingForm(request.POST if "link" in request.POST else None, prefix="link")
    for form, service, done in (
        (invite, caregiver_invite, "Invitation sent. The link works for 7 days."),
        (link, caregiver_link_existing, "Account linked to this child."),
    ):
        if form.is_bound and form.is_valid():
            try:
                data = dict(form.cleaned_data)
                if "mobile" in data:
                    data["mobile"] = str(data["mobile"] or "")
                service(patient=patient, by=request.user, **data)
            except CaregiverError as error:
                form.add_error("email", str(error))
            else:
                messages.success(request, done)
                return redirect("staff:chart", pk=patient.pk)
    links = patient.caregiver_links.select_related("caregiver__user").order_by("-active", "-primary_contact")
    return render(
        request, "staff/caregivers.html", {"patient": patient, "invite": invite, "link": link, "links": links}
    )


@staff_required
def caregiver_contact(request, pk: int, link_pk: int):
    link = _link(request, pk, link_pk)
    caregiver = link.caregiver
    initial = {"mobile": caregiver.mobile, "consent": "given" if caregiver.sms_consent else "withdrawn"}
    form = MobileConsentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            caregiver_contact_record(
                caregiver=caregiver,
                by=request.user,
                mobile=str(form.cleaned_data["mobile"] or ""),
                consent_given=form.cleaned_data["consent"] == "given",
            )
        except CaregiverError as error:
            form.add_error("mobile", str(error))
        else:
            messages.success(request, "Mobile number and text consent recorded.")
            return redirect("staff:chart", pk=link.patient_id)
    wording = SMS_CONSENT_WORDING.get(caregiver.preferred_language, SMS_CONSENT_WORDING["en"])
    context = {"form": form, "link": link, "patient": link.patient, "wording": wording}
    return render(request, "staff/caregiver_contact.html", context)


@require_POST
@staff_required
def caregiver_deactivate(request, pk: int, link_pk: int):
    link = _link(request, pk, link_pk)
    caregiver_link_deactivate(link=link, by=request.user)
    messages.success(request, f"{link.caregiver} no longer has access to this child.")
    return redirect("staff:chart", pk=link.patient_id)
