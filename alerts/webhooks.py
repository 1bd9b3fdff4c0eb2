"""Twilio's webhooks: delivery reports and replies (signed requests only; no session)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from alerts.inbound import sms_inbound_receive, sms_status_update
from alerts.sms.twilio import signature_is_valid


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
    sms_status_update(
        message_sid=request.POST.get("MessageSid", ""),
        status=request.POST.get("MessageStatus", ""),
        error_code=request.POST.get("ErrorCode", ""),
        reminder_id=_int(request.GET.get("reminder")),
        ref=request.GET.get("ref", "")[:200],
    )
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    if not _signed(request):
        return HttpResponseForbidden("Invalid signature")
    reply = sms_inbound_receive(
        from_number=request.POST.get("From", ""),
        to_number=request.POST.get("To", ""),
        body=request.POST.get("Body", ""),
        message_sid=request.POST.get("MessageSid", ""),
    )
    twiml = f"<Message>{escape(reply)}</Message>" if reply else ""
    return HttpResponse(
        f'<?xml version="1.0" encoding="UTF-8"?><Response>{twiml}</Response>', content_type="text/xml"
    )
