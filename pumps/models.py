"""Pumps, what is programmed into them, the refill visits, and the documents given after them."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from pumps import forecast as fc
from pumps import safety
from pumps.querysets import DocumentQuerySet, ProgramQuerySet, PumpQuerySet, RefillVisitQuerySet

USUAL_CONCENTRATIONS = (Decimal(500), Decimal(1000), Decimal(2000))
RESIDUAL_ABS_LIMIT_ML = safety.RESIDUAL_ABS_LIMIT_ML
RESIDUAL_RATIO_RANGE = safety.RESIDUAL_RATIO_RANGE
DOSE_CHANGE_CONFIRM_PERCENT = Decimal(20)


class PumpModel(models.TextChoices):
    SYNCHROMED_II_20 = "sm2_20", _("SynchroMed II 20 mL (8637-20)")
    SYNCHROMED_II_40 = "sm2_40", _("SynchroMed II 40 mL (8637-40)")
    SYNCHROMED_EL = "sm_el", _("SynchroMed EL")
    OTHER = "other", _("Other")


MODEL_CAPACITY_ML = {
    PumpModel.SYNCHROMED_II_20: Decimal(20),
    PumpModel.SYNCHROMED_II_40: Decimal(40),
}


class Pump(models.Model):
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="pumps")
    model = models.CharField(max_length=10, choices=PumpModel.choices, default=PumpModel.SYNCHROMED_II_20)
    capacity_ml_other = models.DecimalField(
        _("reservoir capacity (mL), for other models"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    serial_number = models.CharField(max_length=40)
    implant_date = models.DateField(help_text=_("The battery's install date."))
    eri_date = models.DateField(_("ERI reported on"), null=True, blank=True)
    explant_date = models.DateField(null=True, blank=True)
    explant_reason = models.CharField(max_length=200, blank=True)

    objects = PumpQuerySet.as_manager()

    class Meta:
        ordering = ["-implant_date"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(model="other") | models.Q(capacity_ml_other__gt=0),
                name="pump_other_model_has_capacity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_model_display()} #{self.serial_number}"

    @property
    def capacity_ml(self) -> Decimal:
        return MODEL_CAPACITY_ML.get(self.model) or self.capacity_ml_other or Decimal(0)

    @property
    def shuts_off_at_7_years(self) -> bool:
        return self.model != PumpModel.SYNCHROMED_EL

    @property
    def is_active(self) -> bool:
        return self.explant_date is None

    def replace_by(self):
        return fc.replace_by(
            implant_date=self.implant_date,
            eri_date=self.eri_date,
            shuts_off_at_7_years=self.shuts_off_at_7_years,
        )

    def battery_window_opens(self):
        return fc.battery_window_opens(
            implant_date=self.implant_date,
            eri_date=self.eri_date,
            shuts_off_at_7_years=self.shuts_off_at_7_years,
        )

    def battery_window_open(self, today) -> bool:
        return fc.battery_window_open(
            implant_date=self.implant_date,
            eri_date=self.eri_date,
            today=today,
            shuts_off_at_7_years=self.shuts_off_at_7_years,
        )

    # Set by PumpQuerySet.with_current(); None when there is no row yet.
    @property
    def current_program(self) -> Program | None:
        rows = getattr(self, "current_programs", None)
        if rows is None:
            return self.programs.order_by("-effective_from", "-pk").first()
        return rows[0] if rows else None

    @property
    def latest_visit(self) -> RefillVisit | None:
        rows = getattr(self, "latest_visits", None)
        if rows is None:
            return self.visits.order_by("-visit_at", "-pk").first()
        return rows[0] if rows else None


class Program(models.Model):
    """What is programmed into the pump. Versioned: a change is a new row, never an edit."""

    class Mode(models.TextChoices):
        SIMPLE = "simple", _("Simple continuous")
        FLEX = "flex", _("Flex")

    pump = models.ForeignKey(Pump, on_delete=models.CASCADE, related_name="programs")
    effective_from = models.DateTimeField()
    drug = models.CharField(max_length=40, default="baclofen")
    concentration_mcg_ml = models.DecimalField(
        _("concentration (mcg/mL)"),
        max_digits=7,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1"))],
    )
    concentration_reason = models.CharField(
        _("reason for an unusual concentration"), max_length=200, blank=True
    )
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.SIMPLE)
    daily_dose_mcg = models.DecimalField(_("daily dose (mcg/day)"), max_digits=8, decimal_places=2)
    # [{"start": "HH:MM", "mcg_per_hour": "12.5"}, ...] in the pump's clock, ascending.
    flex_steps = models.JSONField(default=list, blank=True)
    bolus_mcg = models.DecimalField(
        _("patient bolus dose (mcg)"), max_digits=7, decimal_places=2, default=Decimal(0)
    )
    bolus_max_per_day = models.PositiveSmallIntegerField(_("patient boluses allowed per day"), default=0)
    alarm_volume_ml = models.DecimalField(
        _("low-reservoir alarm volume (mL)"), max_digits=4, decimal_places=1, default=Decimal("2.0")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    change_reason = models.CharField(max_length=300, blank=True)

    objects = ProgramQuerySet.as_manager()

    class Meta:
        ordering = ["-effective_from", "-pk"]
        indexes = [models.Index(fields=["pump", "-effective_from"], name="program_pump_latest")]

    def __str__(self) -> str:
        return (
            f"{self.daily_dose_mcg} mcg/day at {self.concentration_mcg_ml} mcg/mL ({self.get_mode_display()})"
        )

    def steps(self) -> tuple[fc.FlexStep, ...]:
        return tuple(
            fc.FlexStep(start=time.fromisoformat(s["start"]), mcg_per_hour=Decimal(str(s["mcg_per_hour"])))
            for s in self.flex_steps
        )

    def as_forecast_program(self) -> fc.Program:
        flex = self.mode == self.Mode.FLEX
        return fc.Program(
            concentration_mcg_ml=self.concentration_mcg_ml,
            daily_dose_mcg=None if flex else self.daily_dose_mcg,
            flex_steps=self.steps() if flex else (),
            bolus_mcg=self.bolus_mcg,
            bolus_max_per_day=self.bolus_max_per_day,
            alarm_volume_ml=self.alarm_volume_ml,
        )

    @property
    def has_patient_bolus(self) -> bool:
        return self.bolus_max_per_day > 0 and self.bolus_mcg > 0


class RefillVisit(models.Model):
    """A visit that fills or reprograms the pump (docs/rules.md#what-a-refill-visit-records).

    The forecast computed at save is stored with the visit, so the worklist can order by it and
    the after-visit summary shows exactly what the nurse saw.
    """

    class Kind(models.TextChoices):
        IMPLANT = "implant", _("First fill after implant")
        REFILL = "refill", _("Refill")
        PROGRAMMING = "programming", _("Dose change without refill")

    pump = models.ForeignKey(Pump, on_delete=models.CASCADE, related_name="visits")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.REFILL)
    visit_at = models.DateTimeField()
    nurse = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The pump's reading before the refill, as the programmer showed it.
    pre_concentration_mcg_ml = models.DecimalField(max_digits=7, decimal_places=1, null=True, blank=True)
    pre_mode = models.CharField(max_length=10, choices=Program.Mode.choices, blank=True)
    pre_daily_dose_mcg = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    expected_residual_ml = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    actual_residual_ml = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    volume_instilled_ml = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    volume_after_ml = models.DecimalField(
        _("volume entered after refill (mL)"), max_digits=5, decimal_places=2
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="visits")
    dose_changed = models.BooleanField(default=False)
    dose_change_reason = models.CharField(max_length=300, blank=True)
    dose_change_confirmed = models.BooleanField(default=False)
    bridge_bolus_ml = models.DecimalField(
        _("bridge or other one-off bolus (mL)"), max_digits=5, decimal_places=3, default=Decimal(0)
    )
    bolus_note = models.CharField(max_length=200, blank=True)
    printed_alarm_date = models.DateField(_("alarm date on the programmer printout"), null=True, blank=True)
    # A nurse resolved a printed/computed difference (re-interrogated the pump or checked the entry):
    # from then on the computed date governs (pumps/safety.py).
    printed_alarm_resolved_at = models.DateTimeField(null=True, blank=True)
    printed_alarm_resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    next_appointment = models.ForeignKey(
        "appointments.Appointment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tone_assessment = models.TextField(blank=True)
    notes = models.TextField(blank=True)  # for the family: printed on the after-visit summary
    private_notes = models.TextField(blank=True)  # staff only: never printed, never shown to a parent
    eri_reported_date = models.DateField(null=True, blank=True)
    # The catheter was revised or replaced since the last fill: observed delivery starts again
    # (docs/rules.md#observed-delivery).
    catheter_revised = models.BooleanField(
        _("catheter revised or replaced since the last fill"), default=False
    )
    # Observed delivery at save time (pumps/delivery.py), from the pump's refills up to this visit:
    # the ratio delivered / programmed, its spread, how many fills, and the ratio the dates use.
    delivery_ratio = models.DecimalField(max_digits=5, decimal_places=3, null=True, blank=True)
    delivery_spread = models.DecimalField(max_digits=5, decimal_places=3, null=True, blank=True)
    delivery_fills = models.PositiveSmallIntegerField(default=0)
    delivery_forecast_ratio = models.DecimalField(max_digits=5, decimal_places=3, null=True, blank=True)
    # The alarm and empty instants (worst case) at the observed ratio, when the pump over-delivers.
    observed_alarm_at = models.DateTimeField(null=True, blank=True)
    observed_empty_at = models.DateTimeField(null=True, blank=True)
    # The forecast at save time (UTC instants; refill_due is a clinic-local date).
    alarm_at = models.DateTimeField()
    alarm_at_worst = models.DateTimeField(db_index=True)
    empty_at = models.DateTimeField()
    empty_at_worst = models.DateTimeField()
    refill_due = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RefillVisitQuerySet.as_manager()

    class Meta:
        ordering = ["-visit_at", "-pk"]
        indexes = [models.Index(fields=["pump", "-visit_at"], name="visit_pump_latest")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(volume_after_ml__gt=0), name="visit_volume_after_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.visit_at:%Y-%m-%d}"

    @property
    def residual_difference_ml(self) -> Decimal | None:
        if self.actual_residual_ml is None or self.expected_residual_ml is None:
            return None
        return self.actual_residual_ml - self.expected_residual_ml

    @property
    def residual_ratio(self) -> Decimal | None:
        if self.actual_residual_ml is None or not self.expected_residual_ml:
            return None
        return (self.actual_residual_ml / self.expected_residual_ml).quantize(Decimal("0.01"))

    @property
    def residual_discrepancy(self) -> bool:
        return safety.residual_discrepancy(self.expected_residual_ml, self.actual_residual_ml)

    @property
    def dose_change_percent(self) -> Decimal | None:
        if not self.dose_changed or not self.pre_daily_dose_mcg:
            return None
        change = (self.program.daily_dose_mcg - self.pre_daily_dose_mcg) / self.pre_daily_dose_mcg * 100
        return change.quantize(Decimal("0.1"))

    @property
    def large_dose_change(self) -> bool:
        pct = self.dose_change_percent
        return pct is not None and abs(pct) > DOSE_CHANGE_CONFIRM_PERCENT

    def safety_fact(self, tz) -> safety.Visit:
        """This visit as the safety assessment reads it (pumps/safety.py): the same facts for the
        stored assessment (alerts/concerns.py) and the after-visit summary (pumps/documents.py)."""
        program = self.program
        return safety.Visit(
            visit_id=self.pk,
            at=self.visit_at,
            alarm_at=self.alarm_at_worst,
            refill_due=self.refill_due,
            printed_alarm_date=self.printed_alarm_date,
            printed_resolved=self.printed_alarm_resolved_at is not None,
            flex_steps=program.steps() if program.mode == program.Mode.FLEX else (),
            pump_utc_offset=self.visit_at.astimezone(tz).utcoffset(),
            observed_alarm_at=self.observed_alarm_at,
            delivery_ratio=self.delivery_ratio,
            delivery_fills=self.delivery_fills,
        )

    @property
    def printed_alarm_differs(self) -> bool:
        """The programmer's printed date and ours differ by more than a day
        (docs/rules.md#printed-and-computed-dates)."""
        from django.utils import timezone

        ours = timezone.localtime(self.alarm_at_worst, self.pump.patient.clinic.tzinfo).date()
        return safety.printed_differs(printed=self.printed_alarm_date, computed_day=ours)


class Document(models.Model):
    """A generated PDF. Each regeneration is a new version; none is ever overwritten."""

    class Kind(models.TextChoices):
        VISIT_SUMMARY = "visit_summary", _("After-visit summary")
        EMERGENCY_CARD = "emergency_card", _("Emergency card")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="documents")
    visit = models.ForeignKey(
        RefillVisit, null=True, blank=True, on_delete=models.CASCADE, related_name="documents"
    )
    program = models.ForeignKey(Program, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    language = models.CharField(max_length=2, default="en")
    version = models.PositiveIntegerField(default=1)
    file = models.FileField(upload_to="documents/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One row per version of a visit's summary, and of a child's card, in each language.
            models.UniqueConstraint(
                fields=["kind", "visit", "language", "version"],
                condition=models.Q(visit__isnull=False),
                name="document_visit_version_unique",
            ),
            models.UniqueConstraint(
                fields=["kind", "patient", "language", "version"],
                condition=models.Q(visit__isnull=True),
                name="document_patient_version_unique",
            ),
            models.CheckConstraint(condition=models.Q(version__gte=1), name="document_version_positive"),
        ]
        indexes = [models.Index(fields=["patient", "kind", "-created_at"], name="document_patient_kind")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version} ({self.language})"
