"""Twilio's voice webhooks for ladder calls: the key pressed (<Gather> action) and how the call
ended (status callback). Both must carry Twilio's signature, like the text webhooks."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from alerts.ladder_answers import ladder_call_answered, ladder_call_status
from alerts.sms.twilio import request_is_signed


def _step_id(request: HttpRequest) -> int | None:
    value = request.GET.get("step", "")
    return int(value) if value.isdigit() and len(value) < 12 else None


@csrf_exempt
@require_POST
def gather(request: HttpRequest) -> HttpResponse:
    if not request_is_signed(request):
        return HttpResponseForbidden("Invalid signature")
    twiml = ladder_call_answered(
        step_id=_step_id(request),
        digits=request.POST.get("Digits", ""),
        call_sid=request.POST.get("CallSid", ""),
    )
    return HttpResponse(twiml, content_type="text/xml")


@csrf_exempt
@require_POST
def status(request: HttpRequest) -> HttpResponse:
    if not request_is_signed(request):
        return HttpResponseForbidden("Invalid signature")
    ladder_call_status(
        step_id=_step_id(request),
        call_sid=request.POST.get("CallSid", ""),
        status=request.POST.get("CallStatus", ""),
    )
    return HttpResponse(status=204)
