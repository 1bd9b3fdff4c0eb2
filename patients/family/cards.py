"""What the parents' portal shows about each child: read once, in a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from alerts.models import ChildSafety, Concern
from appointments.models import Appointment
from patients import urgency as urg
from patients.models import Patient
from pumps import safety
from pumps.models import Document, Program, Pump, RefillVisit


@dataclass
class ChildCard:
    """What the family sees about one child. The headline, its colour and its words come from
    the family-facing concern the safety assessment stored (pumps/safety.py); the dates are the
    governing ones (the earlier of the printed and computed alarm dates until a nurse resolves
    a difference)."""

    patient: Patient
    pump: Pump | None
    alarm_at: datetime | None  # governing, clinic-local
    refill_due: date | None  # governing
    appointment: Appointment | None  # the next open refill appointment
    appointment_at: datetime | None  # clinic-local
    appointment_in_days: int | None
    days_to_alarm: int | None
    days_to_due: int | None
    concern: Concern | None  # the family-facing concern, if any
    reason: str  # the concern's kind, or booked / not_due_yet / no_refill
    replace_by: date | None  # set only when the battery window is open
    recovery: urg.Recovery | None
    cream_at: datetime | None = None  # clinic-local; the day before a refill visit and on the day

    @property
    def visit(self) -> RefillVisit | None:
        """The pump's latest visit (read with the cards when `child_cards(..., pump_details=True)`)."""
        return self.pump.latest_visit if self.pump else None

    @property
    def program(self) -> Program | None:
        """The pump's current program (read with the cards when `pump_details=True`)."""
        return self.pump.current_program if self.pump else None

    @property
    def level(self) -> str:
        return self.concern.family_level if self.concern else safety.FamilyLevel.PLENTY.value

    @property
    def sort_key(self) -> tuple:
        """The one order of the family's cards: what the family must do first, then how bad."""
        c = self.concern
        if c is None:
            return safety.family_key(None, safety.NO_CONCERN_RANK, None, "")
        return safety.family_key(c.family_level, c.tier_rank, c.act_by, c.kind)

    @property
    def needs_action(self) -> bool:
        return self.level != safety.FamilyLevel.PLENTY.value

    @property
    def asks_to_call(self) -> bool:
        """The card's words ask the family to call (a family-facing concern, or no alarm date
        known yet): only then does it carry the big call button; otherwise the numbers live on
        the emergency page and in the footer."""
        return self.concern is not None or self.reason == safety.FamilyReason.NO_REFILL.value

    @property
    def book_only(self) -> bool:
        """The card asks the family to book or move a visit or to ask for a date, nothing that
        cannot wait for the clinic to open (the stored family level is not "call today")."""
        return self.level != safety.FamilyLevel.CALL_TODAY.value

    @property
    def battery_is_headline(self) -> bool:
        """The card is about the battery itself: its words already name the replace-by date, so
        the battery section below does not say it again."""
        return self.reason in BATTERY_REASONS

    @property
    def headline(self) -> str:
        """The words of the coloured band (the template shows them, never re-derives them)."""
        return family_words(self)[0]

    @property
    def words(self) -> str:
        return family_words(self)[1]


BATTERY_REASONS = frozenset({safety.Kind.ERI.value, safety.Kind.BATTERY.value})
# The concerns that say the next refill appointment is too late: the family is asked to move it,
# so that appointment is not offered "Confirm I will come".
MOVE_EARLIER_KINDS = frozenset(
    {
        safety.Kind.BOOKED_AFTER_ALARM.value,
        safety.Kind.BOOKED_PAST_CAP.value,
        safety.Kind.BOOKED_AFTER_DUE.value,
    }
)

# The card says when to put the numbing cream on the day before a refill visit (when the text
# says it too) and on the day itself.
CREAM_SHOWN_DAYS = (0, 1)

_NO_DATE = 10**6  # a child with no alarm date yet sorts after every dated one of the same key


def card_order(card: ChildCard) -> tuple:
    """The order of a family's children, the one sort key of the parents' pages: the safety
    assessment's family key (what the family must do first, then how bad, then how soon), then
    the soonest alarm, the name last."""
    return (
        *card.sort_key,
        card.days_to_alarm if card.days_to_alarm is not None else _NO_DATE,
        card.patient.first_name,
        card.patient.pk,
    )


def _longdate(value) -> str:
    from patients.family.templatetags import longdate

    return longdate(value) if value else ""


def _detail_day(card: ChildCard, name: str):
    value = card.concern.details.get(name) if card.concern else None
    return date.fromisoformat(value) if value else None


def family_words(card: ChildCard) -> tuple[str, str]:
    """(headline, what to do) in the family's language (the active translation)."""
    name = card.patient.first_name
    due = _longdate(card.refill_due)
    reason = card.reason
    if reason in ("alarm_passed",):
        return _("Call the clinic today"), _(
            "The pump alarm date has passed and no refill has been recorded. The pump may be almost "
            "empty. Call the clinic now."
        )
    if reason == "alarm_near":
        return _("Call the clinic today"), _(
            "The pump alarm date is very close and no refill is booked. Call the clinic today so "
            "%(name)s gets a refill before the alarm date."
        ) % {"name": name}
    if reason == "booked_after_alarm":
        return _("Call the clinic today"), _(
            "The appointment is after the pump alarm date. Call the clinic to move it earlier."
        )
    if reason == "booked_past_cap":
        return _("Booked, but too late: please call"), _(
            "The appointment is too long after the last refill: the medicine in the pump must be "
            "changed before %(date)s. Please call the clinic to move it earlier."
        ) % {"date": _longdate(_detail_day(card, "cap_day"))}
    if reason == "booked_after_due":
        return _("Booked, but after the refill-due date: please call"), _(
            "The appointment is after the refill-due date (%(due)s). Please call the clinic to move it "
            "earlier."
        ) % {"due": due}
    if reason == "due_passed":
        return _("Book the refill now"), _(
            "The refill was due by %(due)s and none is booked. Call the clinic today to book it."
        ) % {"due": due}
    if reason == "due_soon":
        return _("Book the refill now"), _(
            "No refill is booked. Call the clinic to book a refill before %(due)s."
        ) % {"due": due}
    if reason == "no_show":
        return _("Book a new refill visit"), _(
            "The refill visit on %(date)s was missed. Call the clinic to book a new one before %(due)s."
        ) % {"date": _longdate(_detail_day(card, "appointment_day")), "due": due}
    if reason == "eri":
        return _("Call the clinic about the pump battery"), _(
            "The pump reported that its battery is running low. Call the clinic to book the new pump "
            "before %(date)s."
        ) % {"date": _longdate(_detail_day(card, "replace_by"))}
    if reason == "battery":
        return _("Time to plan a new pump"), _(
            "The pump must be replaced by %(date)s. Call the clinic to plan it."
        ) % {"date": _longdate(_detail_day(card, "replace_by"))}
    if reason == "booked":
        return _("Refill booked: you are on time"), _(
            "Please keep this appointment. It is before the pump alarm date."
        )
    if reason == "not_due_yet":
        return _("Plenty of time"), _("No refill is booked yet. Book one for a day before %(due)s.") % {
            "due": due
        }
    return _("Ask the clinic for the alarm date"), _(
        "No refill has been recorded for %(name)s yet. Ask the baclofen pump nurse for the alarm date."
    ) % {"name": name}


def _today(patient: Patient, now: datetime) -> date:
    return timezone.localdate(now, patient.clinic.tzinfo)


def _reason(concern: Concern | None, state: ChildSafety | None, appointment: Appointment | None) -> str:
    if concern is not None:
        return concern.kind
    if state is None or state.alarm_at is None:
        return safety.FamilyReason.NO_REFILL.value
    if appointment is not None:
        return safety.FamilyReason.BOOKED.value
    return safety.FamilyReason.NOT_DUE_YET.value


def child_card(
    patient: Patient,
    pump: Pump | None,
    appointment: Appointment | None,
    now: datetime,
    state: ChildSafety | None = None,
    concern: Concern | None = None,
) -> ChildCard:
    tz = patient.clinic.tzinfo
    today = _today(patient, now)
    alarm_at = timezone.localtime(state.alarm_at, tz) if state and state.alarm_at else None
    refill_due = state.refill_due if state else None
    appointment_at = timezone.localtime(appointment.start, tz) if appointment else None
    in_days = (appointment_at.date() - today).days if appointment_at else None
    cream_at = appointment.cream_at if appointment and in_days in CREAM_SHOWN_DAYS else None
    window_open = bool(pump and pump.battery_window_open(today))
    return ChildCard(
        patient=patient,
        pump=pump,
        alarm_at=alarm_at,
        refill_due=refill_due,
        appointment=appointment,
        appointment_at=appointment_at,
        appointment_in_days=in_days,
        days_to_alarm=(alarm_at.date() - today).days if alarm_at else None,
        days_to_due=(refill_due - today).days if refill_due else None,
        concern=concern,
        reason=_reason(concern, state, appointment),
        replace_by=pump.replace_by() if window_open else None,
        recovery=urg.recovery(implant_date=pump.implant_date, today=today) if pump else None,
        cream_at=timezone.localtime(cream_at, tz) if cream_at else None,
    )


def _from_today(now: datetime) -> datetime:
    # An appointment earlier today still counts as the next one until the day is over.
    return now - timedelta(hours=24)


def _family_concerns(ids: list[int]) -> dict[int, Concern]:
    """Each child's family-facing concern: the same key the assessment chose (pumps/safety.py)."""
    best: dict[int, Concern] = {}
    rows = Concern.objects.open().filter(patient_id__in=ids).exclude(family_level="")
    for concern in rows:
        key = safety.family_key(concern.family_level, concern.tier_rank, concern.act_by, concern.kind)
        current = best.get(concern.patient_id)
        if current is None or key < current[0]:
            best[concern.patient_id] = (key, concern)
    return {pk: concern for pk, (_, concern) in best.items()}


def child_cards(patients, *, now: datetime, pump_details: bool = True) -> list[ChildCard]:
    """One card per child, in a constant number of queries whatever the number of children.
    The pump and the next refill appointment are the ones the stored assessment judged
    (`ChildSafety.pump`, `ChildSafety.next_refill`, read in the children's query), so the card
    shows exactly the booking its words speak of. `pump_details`: the pump is read again with
    its current program and latest visit (one query; the home page's cards show neither)."""
    related = ("clinic", "safety", "safety__next_refill") + (() if pump_details else ("safety__pump",))
    patients = list(patients.select_related(*related))  # the stored state, same query
    states = {p.pk: _state_of(p) for p in patients}
    if pump_details:
        pumps = {pump.pk: pump for pump in Pump.objects.filter(
            pk__in=[s.pump_id for s in states.values() if s is not None and s.pump_id]
        ).with_current()}  # fmt: skip
    else:
        pumps = {s.pump_id: s.pump for s in states.values() if s is not None and s.pump_id}
    concerns = _family_concerns([p.pk for p in patients])
    cards = []
    for p in patients:
        state = states[p.pk]
        pump = pumps.get(state.pump_id) if state is not None else None
        appointment = state.next_refill if state is not None else None
        cards.append(child_card(p, pump, appointment, now, state, concerns.get(p.pk)))
    return sorted(cards, key=card_order)


def _state_of(patient: Patient) -> ChildSafety | None:
    try:
        return patient.safety
    except ChildSafety.DoesNotExist:
        return None


def appointments_to_move(patient: Patient) -> set[int]:
    """The appointments an open concern says are too late: the stored assessment keys a booking
    concern by "<kind>:<appointment id>". Never a date comparison here."""
    keys = (
        Concern.objects.open()
        .filter(patient=patient, kind__in=MOVE_EARLIER_KINDS)
        .values_list("key", flat=True)
    )
    ids = (key.rsplit(":", 1)[-1] for key in keys)
    return {int(pk) for pk in ids if pk.isdigit()}


def upcoming_appointments(patient: Patient, *, now: datetime) -> list[Appointment]:
    tz = patient.clinic.tzinfo
    today = timezone.localdate(now, tz)
    rows = Appointment.objects.filter(patient=patient).upcoming(now=_from_today(now))
    return [a for a in rows if timezone.localdate(a.start, tz) >= today]


def _newest_per_language(documents: list[Document]) -> list[Document]:
    seen: set[str] = set()
    newest = []
    for doc in documents:  # already newest first
        if doc.language not in seen:
            seen.add(doc.language)
            newest.append(doc)
    return newest


def past_visits(patient: Patient) -> list[RefillVisit]:
    """The child's visits, newest first, each with its newest after-visit summary per language."""
    summaries = Document.objects.filter(kind=Document.Kind.VISIT_SUMMARY, patient=patient).order_by(
        "-version", "-pk"
    )
    visits = list(
        RefillVisit.objects.filter(pump__patient=patient)
        .select_related("program")
        .prefetch_related(Prefetch("documents", queryset=summaries, to_attr="summaries"))
        .order_by("-visit_at", "-pk")
    )
    for visit in visits:
        visit.summaries = _newest_per_language(visit.summaries)
    return visits
