"""Caregivers from the chart: invite, link an existing account, record mobile and consent, deactivate."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from patients.accounts.permissions import staff_required
from patients.common.forms import ProofCodeForm
from patients.contact import ProofError, mobile_proof_check, mobile_proof_open
from patients.models import CaregiverLink, MobileProof, Patient
from patients.registration import (
    CaregiverError,
    caregiver_contact_record,
    caregiver_invite,
    caregiver_link_deactivate,
    caregiver_link_existing,
    caregiver_shared_elsewhere,
)
from patients.services import SMS_CONSENT_WORDING
from patients.staff.forms import InviteForm, LinkExistingForm, MobileConsentForm


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
        (
            link,
            caregiver_link_existing,
            "Invitation e-mailed. The parent is linked once they sign in and accept it (7 days).",
        ),
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
    # Shown by the e-mail the nurse typed: the same whether or not it is a parent account.
    pending = patient.link_invitations.filter(accepted_at__isnull=True).order_by("-created_at", "-pk")
    context = {"patient": patient, "invite": invite, "link": link, "links": links, "pending": pending}
    return render(request, "staff/caregivers.html", context)


@staff_required
def caregiver_contact(request, pk: int, link_pk: int):
    link = _link(request, pk, link_pk)
    caregiver = link.caregiver
    shared = caregiver_shared_elsewhere(caregiver=caregiver, clinic=link.patient.clinic)
    initial = {"mobile": caregiver.mobile, "consent": "given" if caregiver.sms_consent else "withdrawn"}
    posted = request.method == "POST" and "prove" not in request.POST
    form = MobileConsentForm(request.POST if posted else None, initial=initial)
    code_form = ProofCodeForm(request.POST if "prove" in request.POST else None)
    proof = mobile_proof_open(caregiver=caregiver)
    if form.is_bound and form.is_valid() and not shared:
        try:
            result = caregiver_contact_record(
                caregiver=caregiver,
                by=request.user,
                mobile=str(form.cleaned_data["mobile"] or ""),
                consent_given=form.cleaned_data["consent"] == "given",
            )
        except CaregiverError as error:
            form.add_error("mobile", str(error))
        else:
            if isinstance(result, MobileProof):
                messages.info(request, "A code was texted to the new number. Ask the parent to read it out.")
                return redirect("staff:caregiver_contact", pk=link.patient_id, link_pk=link.pk)
            messages.success(request, "Mobile number and text consent recorded.")
            return redirect("staff:chart", pk=link.patient_id)
    if code_form.is_bound and code_form.is_valid() and proof is not None and not shared:
        try:
            mobile_proof_check(proof=proof, code=code_form.cleaned_data["code"], by=request.user)
        except ProofError as error:
            code_form.add_error("code", str(error))
        else:
            messages.success(request, "Number proven. Mobile number and text consent recorded.")
            return redirect("staff:chart", pk=link.patient_id)
    wording = SMS_CONSENT_WORDING.get(caregiver.preferred_language, SMS_CONSENT_WORDING["en"])
    context = {
        "form": form,
        "code_form": code_form,
        "proof": proof,
        "shared": shared,
        "link": link,
        "patient": link.patient,
        "wording": wording,
    }
    return render(request, "staff/caregiver_contact.html", context)


@require_POST
@staff_required
def caregiver_deactivate(request, pk: int, link_pk: int):
    link = _link(request, pk, link_pk)
    caregiver_link_deactivate(link=link, by=request.user)
    messages.success(request, f"{link.caregiver} no longer has access to this child.")
    return redirect("staff:chart", pk=link.patient_id)
