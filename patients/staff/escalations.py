"""The nurses' outbox and escalations pages (URL names alerts:outbox, alerts:escalations, under
/sms/: the names predate the console's own package and stay, so links and bookmarks keep working)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from alerts.concerns import concern_acknowledge as acknowledge
from alerts.holds import holds_open
from alerts.models import Concern, SmsMessage
from alerts.sending import sweep_health
from patients.accounts.permissions import clinic_of, staff_required

PAGE_SIZE = 100


def _health(clinic):
    last_run_at, ok = sweep_health()
    return {"sweep_last_run_at": last_run_at, "sweep_ok": ok, "holds": holds_open(clinic=clinic)}


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
    acknowledge(concern=concern, by=request.user)
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
