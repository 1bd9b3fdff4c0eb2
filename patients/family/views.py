"""The parents' portal: thin views over `family_cards` reads and the people/appointment services."""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alerts.models import SmsMessage
from appointments.models import Appointment
from appointments.services import AppointmentError, appointment_confirm
from patients import audit
from patients.accounts.permissions import caregiver_required
from patients.common.forms import ProofCodeForm
from patients.contact import (
    ProofError,
    ProofLimitError,
    mobile_proof_check,
    mobile_proof_open,
    mobile_proof_start,
)
from patients.family import calendar as family_calendar
from patients.family.cards import appointments_to_move, child_cards, past_visits, upcoming_appointments
from patients.family.forms import TEXT_NAME_PROBLEMS, ChildAboutForm, LanguageForm, TextSettingsForm
from patients.models import Caregiver, Patient
from patients.services import SMS_CONSENT_WORDING, TextNameError, child_words_set, sms_consent_record

RECENT_MESSAGES = 3  # shown first; the rest, up to OLDER_MESSAGES, under "older texts"
OLDER_MESSAGES = 20


def _children(request):
    return Patient.objects.visible_to(request.user).active()


@caregiver_required
def home(request):
    cards = child_cards(_children(request), now=timezone.now(), pump_details=False)
    return render(request, "family/home.html", {"cards": cards})


@caregiver_required
def child(request, pk: int):
    patient = get_object_or_404(_children(request).select_related("clinic"), pk=pk)
    about = ChildAboutForm(initial={"text_name": patient.name_in_texts, "comfort_note": patient.comfort_note})
    if request.method == "POST":
        about = ChildAboutForm(request.POST)
        if about.is_valid():
            try:
                patient = child_words_set(patient=patient, **about.cleaned_data)
            except TextNameError as error:
                about.add_error("text_name", TEXT_NAME_PROBLEMS[error.key])
            else:
                messages.success(
                    request,
                    _("Saved. Texts will call your child %(name)s.") % {"name": patient.name_in_texts},
                )
                return redirect("family:child", pk=patient.pk)
    now = timezone.now()
    [card] = child_cards(_children(request).filter(pk=patient.pk), now=now)
    context = {
        "card": card,
        "patient": patient,
        "appointments": upcoming_appointments(patient, now=now),
        "to_move": appointments_to_move(patient),
        "visits": past_visits(patient),
        "about": about,
    }
    audit.audit_record(request=request, action=audit.CHILD_PAGE_VIEWED, obj=patient, patient_id=patient.pk)
    return render(request, "family/child.html", context, status=400 if about.errors else 200)


@require_POST
@caregiver_required
def appointment_confirm_view(request, pk: int):
    appointment = get_object_or_404(
        Appointment.objects.visible_to(request.user).filter(patient__active=True), pk=pk
    )
    try:
        appointment_confirm(appointment=appointment)
    except AppointmentError:
        messages.error(request, _("This appointment can no longer be confirmed. Please call the clinic."))
    else:
        messages.success(request, _("Thank you. The clinic knows you will come."))
    return redirect("family:child", pk=appointment.patient_id)


def _save_text_settings(request, caregiver: Caregiver, form: TextSettingsForm, before: tuple) -> bool:
    """Quiet hours now; a new number only once proven (a code is texted to it, and consent given
    with it waits for the code); consent otherwise now (in the wording shown); then the language.
    Returns True when a code was texted."""
    before_mobile, before_consent, shown_language = before
    new_language = form.cleaned_data["preferred_language"]
    wanted = str(caregiver.mobile or "")
    new_number = bool(wanted) and wanted != str(before_mobile or "")
    if new_number:
        caregiver.mobile = before_mobile
    caregiver.preferred_language = shown_language
    caregiver.save(update_fields=["mobile", "quiet_hours_start", "quiet_hours_end"])
    consent = form.cleaned_data["sms_consent"]
    if new_number:
        if before_consent and not consent:
            sms_consent_record(caregiver=caregiver, given=False, source="portal", by=request.user)
        mobile_proof_start(
            caregiver=caregiver, mobile=wanted, consent=consent, source="portal", by=request.user
        )
    elif consent != before_consent:
        sms_consent_record(caregiver=caregiver, given=consent, source="portal", by=request.user)
    if new_language != shown_language:
        caregiver.preferred_language = new_language
        caregiver.save(update_fields=["preferred_language"])
    return new_number


@caregiver_required
def texts(request):
    caregiver = request.user.caregiver
    if request.method == "POST":
        before = (caregiver.mobile, caregiver.sms_consent, caregiver.preferred_language)
        form = TextSettingsForm(request.POST, instance=caregiver)
        if form.is_valid():
            try:
                with transaction.atomic():
                    code_sent = _save_text_settings(request, caregiver, form, before)
            except ProofLimitError as error:
                messages.error(request, str(error))  # nothing was saved
                return redirect("family:texts")
            if code_sent:
                return redirect("family:mobile_verify")
            messages.success(request, _("Your text message settings are saved."))
            return redirect("family:texts")
        caregiver.refresh_from_db()
    else:
        form = TextSettingsForm(instance=caregiver)
    sent = SmsMessage.objects.filter(caregiver=caregiver, direction=SmsMessage.Direction.OUTBOUND)
    latest = list(sent[: RECENT_MESSAGES + OLDER_MESSAGES])
    context = {
        "form": form,
        "caregiver": caregiver,
        "proof": mobile_proof_open(caregiver=caregiver),
        "consent_wording": SMS_CONSENT_WORDING.get(caregiver.preferred_language, SMS_CONSENT_WORDING["en"]),
        "sent": latest[:RECENT_MESSAGES],
        "older": latest[RECENT_MESSAGES:],
    }
    return render(request, "family/texts.html", context)


@caregiver_required
def mobile_verify(request):
    """Type back the code texted to the new number."""
    caregiver = request.user.caregiver
    proof = mobile_proof_open(caregiver=caregiver)
    if request.method == "POST" and "resend" in request.POST and proof is not None:
        try:
            mobile_proof_start(
                caregiver=caregiver,
                mobile=str(proof.mobile),
                consent=proof.consent,
                source="portal",
                by=request.user,
            )
        except ProofLimitError as error:
            messages.error(request, str(error))
        else:
            messages.info(request, _("We sent a new code."))
        return redirect("family:mobile_verify")
    if proof is None:
        messages.info(request, _("There is no code waiting. To change your number, type it here."))
        return redirect("family:texts")
    form = ProofCodeForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            mobile_proof_check(proof=proof, code=form.cleaned_data["code"], by=request.user)
        except ProofError as error:
            form.add_error("code", str(error))
        else:
            messages.success(request, _("Thank you. Your number is checked and your settings are saved."))
            return redirect("family:texts")
    return render(request, "family/mobile_verify.html", {"form": form, "proof": proof})


@require_POST
@caregiver_required
def language(request):
    form = LanguageForm(request.POST)
    if form.is_valid():
        caregiver = request.user.caregiver
        caregiver.preferred_language = form.cleaned_data["language"]
        caregiver.save(update_fields=["preferred_language"])
        target = form.cleaned_data["next"]
        # Only a path on this site: never a URL name (redirect() would look up "Infinity").
        if (
            target.startswith("/")
            and not target.startswith("//")
            and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure())
        ):
            return HttpResponseRedirect(target)
    return redirect("family:home")


def _feed_url(request, caregiver: Caregiver) -> str:
    return request.build_absolute_uri(reverse("family:calendar", args=[caregiver.calendar_token]))


@caregiver_required
def calendar_page(request):
    caregiver = request.user.caregiver
    url = _feed_url(request, caregiver)
    webcal = "webcal://" + url.split("://", 1)[1]
    # The dates the feed carries, named on the page: the same cards (stored assessment) the feed reads.
    cards = child_cards(_children(request), now=timezone.now())
    return render(request, "family/calendar.html", {"feed_url": url, "webcal_url": webcal, "cards": cards})


@require_POST
@caregiver_required
def calendar_reset(request):
    caregiver = request.user.caregiver
    caregiver.calendar_token = secrets.token_urlsafe()
    caregiver.save(update_fields=["calendar_token"])
    messages.success(
        request,
        _("You have a new calendar link. The old link no longer works: add the new one to your phone."),
    )
    return redirect("family:calendar_page")


def calendar_feed(request, token: str):
    """The private feed: no sign-in, the secret token is the key."""
    caregiver = Caregiver.objects.filter(calendar_token=token, user__is_active=True).first()
    if caregiver is None:
        raise Http404
    body = family_calendar.feed(caregiver, now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="itb-portal.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def emergency(request):
    """The emergency page: anyone can open it in one tap, signed in or not (and offline, from the
    copy the phone keeps)."""
    return render(request, "emergency.html")
