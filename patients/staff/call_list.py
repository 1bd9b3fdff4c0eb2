"""The nurses' call list: children whose ladder reached its last rung today, and the outcome
form for each call (reached, message left, no answer, wrong number)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from alerts.ladder_answers import CallOutcomeError, call_outcome_record
from alerts.models import LadderStep
from patients.accounts.permissions import clinic_of, staff_required
from patients.staff.call_forms import CallOutcomeForm


def _page(request: HttpRequest, *, failed: tuple[int, CallOutcomeForm] | None = None, status: int = 200):
    clinic = clinic_of(request.user)
    today = timezone.localtime(timezone.now(), clinic.tzinfo).date()
    steps = list(LadderStep.objects.for_clinic(clinic).call_list(day=today))
    tried: dict[int, list[LadderStep]] = {}
    earlier = LadderStep.objects.filter(
        concern_id__in=[s.concern_id for s in steps], rung__in=["text", "text_next", "call"]
    )
    for earlier_step in earlier.select_related("caregiver__user").order_by("at", "pk"):
        tried.setdefault(earlier_step.concern_id, []).append(earlier_step)
    rows = []
    for step in steps:
        form = failed[1] if failed and failed[0] == step.pk else CallOutcomeForm(prefix=f"s{step.pk}")
        rows.append(
            {
                "step": step,
                "patient": step.concern.patient,
                "form": form,
                "tried": tried.get(step.concern_id, []),
            }
        )
    context = {"rows": rows, "today": today, "waiting": sum(not s.outcome for s in steps)}
    return render(request, "staff/call_list.html", context, status=status)


@staff_required
def call_list(request: HttpRequest) -> HttpResponse:
    return _page(request)


@staff_required
@require_POST
def call_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    step = get_object_or_404(
        LadderStep.objects.for_clinic(clinic_of(request.user)).filter(rung="call_list"), pk=pk
    )
    form = CallOutcomeForm(request.POST, prefix=f"s{step.pk}")
    if not form.is_valid():
        return _page(request, failed=(step.pk, form), status=400)
    try:
        call_outcome_record(
            step=step, outcome=form.cleaned_data["outcome"], note=form.cleaned_data["note"], by=request.user
        )
    except CallOutcomeError as exc:
        form.add_error(None, str(exc))
        return _page(request, failed=(step.pk, form), status=400)
    messages.success(request, f"Call outcome recorded for {step.concern.patient.full_name}.")
    return redirect("staff:call_list")
