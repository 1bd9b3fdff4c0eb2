"""Staff pages (outbox, escalations) and Twilio's webhooks."""

from __future__ import annotations

from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib import messages
from django.db.models import F
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from patients.permissions import clinic_of, staff_required

from alerts import services
from alerts.models import Concern, SmsMessage
from alerts.sms.twilio import signature_is_valid

PAGE_SIZE = 100


def _health(clinic):
    last_run_at, ok = services.sweep_health()
    return {"sweep_last_run_at": last_run_at, "sweep_ok": ok, "holds": services.holds_open(clinic=clinic)}


@staff_required
def outbox(request: HttpRequest) -> HttpResponse:
    clinic = clinic_of(request.user)
    rows = SmsMessage.objects.for_clinic(clinic)[:PAGE_SIZE]
    return render(request, "alerts/outbox.html", {"sms_messages": rows, **_health(clinic)})


@staff_required
def escalations(request: HttpRequest) -> HttpResponse:
    """Open concerns that need a nurse, critical first and newest danger first; with
    ?resolved=1, the history of resolved ones too, each with the reason and time."""
    show_resolved = request.GET.get("resolved") == "1"
    clinic = clinic_of(request.user)
    rows = Concern.objects.for_clinic(clinic).filter(needs_nurse=True)
    if show_resolved:
        rows = rows.order_by(F("resolved_at").desc(nulls_first=True), "tier_rank", "-began_at", "-pk")
    else:
        rows = rows.open().danger_first()
    return render(
        request,
        "alerts/escalations.html",
        {"concerns": rows[:PAGE_SIZE], "show_resolved": show_resolved, **_health(clinic)},
    )


@staff_required
@require_POST
def concern_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    concern = get_object_or_404(Concern.objects.for_clinic(clinic_of(request.user)), pk=pk)
    services.concern_acknowledge(concern=concern, by=request.user)
    messages.success(request, _("Acknowledged. It stays on the list until the danger is gone."))
    return redirect("alerts:escalations")


@staff_required
@require_POST
def printed_alarm_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """The nurse checked the pump: the computed alarm date governs again."""
    from pumps.models import RefillVisit
    from pumps.services import printed_alarm_resolve as resolve

    concern = get_object_or_404(
        Concern.objects.for_clinic(clinic_of(request.user)).open(), pk=pk, kind=Concern.Kind.PRINTED_DIFFERS
    )
    visit_id = int(concern.key.rsplit(":", 1)[1])
    visit = get_object_or_404(RefillVisit.objects.filter(pump__patient=concern.patient), pk=visit_id)
    resolve(visit=visit, by=request.user)
    messages.success(request, _("The computed alarm date governs again."))
    return redirect("alerts:escalations")


def _signed(request: HttpRequest) -> bool:
    url = settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()
    return signature_is_valid(
        url=url, params=request.POST.dict(), signature=request.headers.get("X-Twilio-Signature", "")
    )


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not _signed(request):
        return HttpResponseForbidden("Invalid signature")
    services.sms_status_update(
        message_sid=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
        reminder_id=_int(request.GET.get("reminder")),
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    if not _signed(request):
        return HttpResponseForbidden("Invalid signature")
    reply = services.sms_inbound_receive(
        from_number=request.POST.get("From", ""),
        to_number=request.POST.get("To", ""),
        body=request.POST.get("Body", ""),
        message_sid=request.POST.get("MessageSid", ""),
    )
    twiml = f"<Message>{escape(reply)}</Message>" if reply else ""
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{twiml}</Response>', content_type="text/xml"
    )
