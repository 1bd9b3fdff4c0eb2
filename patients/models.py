"""People: the clinic, its staff, the children and their caregivers, and the audit trail."""

import secrets
from datetime import time, timedelta

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from patients import signs, text_names
from patients.querysets import CaregiverQuerySet, PatientQuerySet, SignReportQuerySet
from pumps import forecast as fc
from pumps import safety


class UserManager(BaseUserManager):
    """Users sign in with their e-mail address; there is no separate user name."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)


class User(AbstractUser):
    username = None
    email = models.EmailField(_("e-mail address"), unique=True)

    # Bumped by every write that changes what every page shows this person (their clinic's name
    # and numbers in the footer, their role): the copy kept in their sessions is then read again
    # (patients/page_context.py).
    page_context_version = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    objects = UserManager()

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    @property
    def is_clinic_staff(self) -> bool:
        return hasattr(self, "staff_profile") and self.staff_profile.active

    @property
    def is_caregiver(self) -> bool:
        return hasattr(self, "caregiver")


def default_refill_due_offsets() -> list[int]:
    return [14, 7, 3, 1]


def default_alarm_offsets() -> list[int]:
    return [3, 1, 0]


def default_appointment_offsets() -> list[int]:
    return [1]


def default_open_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


def _instructions_field(group: str, language: str):
    """A clinic's words for what to do about one group of warning signs (issue 25), in one
    language: the handout's by default (patients/signs.py)."""
    label = f"what to do: {signs.GROUP_NURSE_WORDS[group]} ({'Spanish' if language == 'es' else 'English'})"
    return models.TextField(label, default=signs.DEFAULT_INSTRUCTIONS[language][group])


class Clinic(models.Model):
    name = models.CharField(max_length=200)
    time_zone = models.CharField(max_length=64, default="America/Denver")
    phone_business_hours = models.CharField(_("rehabilitation clinic (business hours)"), max_length=32)
    phone_after_hours = models.CharField(_("hospital operator (after hours)"), max_length=32)
    phone_nurse_line = models.CharField(_("baclofen pump nurse line (non-emergency)"), max_length=32)
    nurse_inbox_email = models.EmailField(blank=True)
    # How texts name the clinic (they open with it, e.g. "PCH Rehab"): no therapy, drug or diagnosis.
    sms_sender_name = models.CharField(
        _("name in text messages"), max_length=30, default="Rehab clinic", db_default="Rehab clinic"
    )
    # Its Spanish form, for caregivers who read Spanish (blank: "Clínica de rehabilitación" while
    # the English name is the neutral default, else the English name as it is).
    sms_sender_name_es = models.CharField(
        _("name in text messages, in Spanish"), max_length=30, blank=True, db_default=""
    )
    default_location = models.CharField(max_length=200, blank=True)
    # The clinic's words in Spanish (blank: the English ones are shown).
    name_es = models.CharField(max_length=200, blank=True, db_default="")
    default_location_es = models.CharField(max_length=200, blank=True, db_default="")
    # Clinic policy (docs/rules.md#clinic-defaults): lead days never below 3; 180 days for drug stability.
    refill_lead_days = models.PositiveSmallIntegerField(
        default=fc.LEAD_DAYS, validators=[MinValueValidator(fc.MIN_LEAD_DAYS)]
    )
    max_refill_interval_days = models.PositiveSmallIntegerField(default=fc.MAX_INTERVAL_DAYS)
    reminder_refill_due_days = models.JSONField(default=default_refill_due_offsets)
    reminder_alarm_days = models.JSONField(default=default_alarm_offsets)
    reminder_appointment_days = models.JSONField(default=default_appointment_offsets)
    reminder_battery_repeat_days = models.PositiveSmallIntegerField(default=30)
    # The escalation ladder: hours a family has to answer one rung before the next (shorter as
    # the alarm nears: alerts/ladder_rules.py).
    ladder_answer_hours = models.PositiveSmallIntegerField(
        default=24, db_default=24, validators=[MinValueValidator(1), MaxValueValidator(72)]
    )
    # Texts on hold (alerts/holds.py: Twilio refused the clinic's settings): after this many
    # minutes the nurses are told of each child whose texts wait.
    texts_held_tell_nurses_minutes = models.PositiveSmallIntegerField(
        "minutes texts may wait on hold before the nurses are told",
        default=30,
        db_default=30,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
    )
    # Warning signs a family reports (issue 25, docs/rules.md#warning-signs-from-the-family):
    # each group's instructions in both languages, and the open-clinic minutes a nurse has to
    # acknowledge a report before the child goes on the call list and the inbox is told again.
    sign_instructions_withdrawal = _instructions_field(signs.WITHDRAWAL, "en")
    sign_instructions_withdrawal_es = _instructions_field(signs.WITHDRAWAL, "es")
    sign_instructions_too_much = _instructions_field(signs.TOO_MUCH, "en")
    sign_instructions_too_much_es = _instructions_field(signs.TOO_MUCH, "es")
    sign_instructions_infection = _instructions_field(signs.INFECTION, "en")
    sign_instructions_infection_es = _instructions_field(signs.INFECTION, "es")
    signs_ack_minutes = models.PositiveSmallIntegerField(
        "minutes a nurse has to acknowledge a report of warning signs (clinic open)",
        default=signs.ACK_MINUTES_DEFAULT,
        db_default=signs.ACK_MINUTES_DEFAULT,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
    )
    # The calendar (pumps/clinic_calendar.py): open weekdays (Monday = 0), hours on those
    # days, and ClosedDate rows for holidays.
    open_weekdays = models.JSONField(default=default_open_weekdays)
    opens_at = models.TimeField(default=time(8))
    closes_at = models.TimeField(default=time(17))
    # The FHIR export (patients/fhir/, docs/fhir.md): whether a caregiver's number and e-mail
    # go out with the child's record. Off until the clinic decides.
    fhir_shares_caregiver_contact = models.BooleanField(
        _("share caregivers' phone and e-mail in the FHIR export"), default=False, db_default=False
    )

    def __str__(self) -> str:
        return self.name

    @property
    def tzinfo(self):
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.time_zone)

    def safety_rules(self) -> safety.Rules:
        """The clinic's policy as the safety assessment reads it (pumps/safety.py)."""
        return safety.Rules(
            lead_days=self.refill_lead_days,
            max_interval_days=self.max_refill_interval_days,
            texts_held_tell_after=timedelta(minutes=self.texts_held_tell_nurses_minutes),
        )

    def name_in(self, language: str | None) -> str:
        return self.name_es if (language or "").startswith("es") and self.name_es else self.name

    def sign_instructions(self, group: str, language: str | None) -> str:
        """The clinic's words for one group of warning signs, in the reader's language."""
        suffix = "_es" if (language or "").startswith("es") else ""
        return getattr(self, f"sign_instructions_{group}{suffix}")

    def place_in(self, place: str, language: str | None) -> str:
        """An appointment's place in the reader's language: the clinic's own place has a Spanish
        name; a place a nurse typed stays as typed."""
        spanish = (language or "").startswith("es") and self.default_location_es
        return self.default_location_es if spanish and place == self.default_location else place

    def clean(self) -> None:
        from pumps.clinic_calendar import CalendarError, ClinicCalendar

        for field in ("sms_sender_name", "sms_sender_name_es"):
            if text_names.clinical_words_in(getattr(self, field)):
                raise ValidationError(
                    {field: "A text is read on a lock screen: name no medicine, pump, therapy or illness."}
                )
        weekdays = self.open_weekdays
        if not isinstance(weekdays, list) or not all(isinstance(d, int) for d in weekdays):
            raise ValidationError({"open_weekdays": "List the open weekdays as numbers, Monday = 0."})
        try:
            ClinicCalendar(
                tz=self.tzinfo, open_weekdays=weekdays, opens_at=self.opens_at, closes_at=self.closes_at
            )
        except CalendarError as error:
            raise ValidationError(str(error)) from error


class ClosedDate(models.Model):
    """A day the clinic is closed although it is an open weekday (a holiday)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="closed_dates")
    day = models.DateField()
    name = models.CharField(max_length=100, blank=True, help_text="For example: Thanksgiving Day.")

    class Meta:
        ordering = ["day"]
        constraints = [models.UniqueConstraint(fields=["clinic", "day"], name="closed_date_once_per_clinic")]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.name}".strip()


class StaffProfile(models.Model):
    class Role(models.TextChoices):
        NURSE = "nurse", _("Baclofen pump nurse")
        PHYSICIAN = "physician", _("Physician")
        CLINIC_ADMIN = "clinic_admin", _("Clinic admin")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.NURSE)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.clinic})"


class Goal(models.TextChoices):
    """The goals the handout lists for after the trial."""

    COMFORT = "comfort", _("More comfort")
    EASIER_CARE = "easier_care", _("Easier care")
    SELF_CARE = "self_care", _("Self-care skills")
    SEATING = "seating", _("Seating")
    POSITIONING = "positioning", _("Positioning")
    FLOOR_MOBILITY = "floor_mobility", _("Floor mobility")
    TRANSFERS = "transfers", _("Transfers")
    POWER_WHEELCHAIR = "power_wheelchair", _("Using a power wheelchair")
    WALKING = "walking", _("Walking")
    MOTOR_SKILLS = "motor_skills", _("Motor skills")
    SPEECH = "speech", _("Speech")
    SLEEP = "sleep", _("Sleep")


class Patient(models.Model):
    """The child who has (or is being assessed for) a pump."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    date_of_birth = models.DateField(_("date of birth"))
    mrn = models.CharField(_("medical record number"), max_length=32)
    active = models.BooleanField(default=True)
    goals = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    # How texts name the child (patients/text_names.py): chosen by the family, unique in the
    # family; never the full name. Blank only until first settled (`name_in_texts` covers it).
    text_name = models.CharField(
        _("name in text messages"), max_length=text_names.MAX_LENGTH, blank=True, db_default=""
    )
    # What comforts the child at refills (the handout: music, books, toys), written by the family
    # on the child page; the nurses read it on the day view and the refill form.
    comfort_note = models.TextField(_("what comforts your child"), max_length=300, blank=True, db_default="")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "mrn"], name="patient_mrn_unique_per_clinic"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def name_in_texts(self) -> str:
        """How every text names the child: the family's text name, else the initial form."""
        return self.text_name or text_names.default_text_name(self.first_name)

    def goal_labels(self) -> list[str]:
        labels = dict(Goal.choices)
        return [labels[g] for g in self.goals if g in labels]


class Language(models.TextChoices):
    ENGLISH = "en", _("English")
    SPANISH = "es", _("Spanish")


class Caregiver(models.Model):
    """A parent or guardian with a login. Linked to one or more children."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="caregiver")
    children = models.ManyToManyField(Patient, through="CaregiverLink", related_name="caregivers")
    mobile = PhoneNumberField(_("mobile number"), blank=True)
    sms_consent = models.BooleanField(_("text messages allowed"), default=False)
    sms_consent_at = models.DateTimeField(null=True, blank=True)
    preferred_language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.ENGLISH
    )
    quiet_hours_start = models.TimeField(_("quiet hours start"), default=time(21, 0))
    quiet_hours_end = models.TimeField(_("quiet hours end"), default=time(8, 0))
    calendar_token = models.CharField(max_length=64, unique=True, default=secrets.token_urlsafe)

    objects = CaregiverQuerySet.as_manager()

    def __str__(self) -> str:
        return str(self.user)

    @property
    def can_receive_texts(self) -> bool:
        return bool(self.sms_consent and self.mobile and self.user.is_active)

    def in_quiet_hours(self, local_time: time) -> bool:
        return safety.in_quiet_hours(local_time, start=self.quiet_hours_start, end=self.quiet_hours_end)


class CaregiverLink(models.Model):
    class Relationship(models.TextChoices):
        MOTHER = "mother", _("Mother")
        FATHER = "father", _("Father")
        GUARDIAN = "guardian", _("Guardian")
        GRANDPARENT = "grandparent", _("Grandparent")
        FOSTER = "foster", _("Foster parent")
        OTHER = "other", _("Other")

    caregiver = models.ForeignKey(Caregiver, on_delete=models.CASCADE, related_name="links")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="caregiver_links")
    relationship = models.CharField(max_length=20, choices=Relationship.choices, default=Relationship.OTHER)
    primary_contact = models.BooleanField(default=False)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["caregiver", "patient"], name="caregiver_link_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.caregiver} → {self.patient} ({self.get_relationship_display()})"


class MobileProof(models.Model):
    """A code texted to a number a caregiver wants reminders on. The number becomes the caregiver's
    (and the consent given with it takes effect) only once the code comes back, typed by the parent
    or read out to a nurse. Only the code's hash is kept."""

    caregiver = models.ForeignKey(Caregiver, on_delete=models.CASCADE, related_name="mobile_proofs")
    mobile = PhoneNumberField()
    code_hash = models.CharField(max_length=128)
    consent = models.BooleanField(default=False)
    source = models.CharField(max_length=10)  # SmsConsent.Source: who started it (portal or nurse)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    proven_at = models.DateTimeField(null=True, blank=True)
    withdrawn = models.BooleanField(default=False)  # a newer code replaced it

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"proof for caregiver {self.caregiver_id} ({'proven' if self.proven_at else 'open'})"


class LinkInvitation(models.Model):
    """A nurse asks an existing parent account to be linked to a child; nothing is linked until the
    parent, signed in, accepts. Only the token's hash is kept.

    The nurse sees the same whether or not the e-mail she typed is a parent account: a row is kept
    either way, shown by the typed `email`; with no parent account behind it (`caregiver` None) it
    e-mails no one and can never be accepted."""

    caregiver = models.ForeignKey(
        Caregiver, null=True, blank=True, on_delete=models.CASCADE, related_name="link_invitations"
    )
    email = models.EmailField(blank=True)  # as the nurse typed it
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="link_invitations")
    relationship = models.CharField(max_length=20, choices=CaregiverLink.Relationship.choices)
    primary_contact = models.BooleanField(default=False)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"invitation of caregiver {self.caregiver_id} to child {self.patient_id}"


class SmsConsent(models.Model):
    """Every consent given or withdrawn, with the exact words the caregiver agreed to."""

    class Source(models.TextChoices):
        PORTAL = "portal", _("Parent portal")
        NURSE = "nurse", _("Recorded by a nurse")
        SMS = "sms", _("Text reply")

    caregiver = models.ForeignKey(Caregiver, on_delete=models.CASCADE, related_name="consents")
    given = models.BooleanField()
    mobile = PhoneNumberField(blank=True)
    wording = models.TextField(blank=True)
    language = models.CharField(max_length=2, choices=Language.choices, default=Language.ENGLISH)
    source = models.CharField(max_length=10, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{'given' if self.given else 'withdrawn'} {self.at:%Y-%m-%d}"


class ClinicApiToken(models.Model):
    """A hospital integration's key to one clinic's FHIR export (patients/api_tokens.py). Only the
    secret's SHA-256 is kept; the secret is shown once, when a clinic admin creates it."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)  # the first characters, to tell tokens apart
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEvent(models.Model):
    """Append-only: who did what to which record. No health data in a row."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    at = models.DateTimeField(db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    outcome = models.CharField(max_length=32, default="ok")

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action}"

    def save(self, *args, **kwargs):
        # Append-only: a row is written once. A PostgreSQL trigger (migration 0003) refuses
        # UPDATE and DELETE too, for anything that bypasses this method (queryset.update()).
        if not self._state.adding:
            raise AuditEventImmutable("Audit events are append-only: an existing row cannot be changed.")
        kwargs.pop("force_update", None)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEventImmutable("Audit events are append-only: a row cannot be deleted.")


class AuditEventImmutable(Exception):
    """Raised when code tries to change or delete an audit row."""


class SignReport(models.Model):
    """Warning signs a parent reported from their phone (issue 25; patients/sign_reports.py).

    One open report per child gathers the sends of the hour (a repeat adds its signs and words);
    the nurse's outcome closes it, and the chart keeps it. The engine opens a critical concern
    for each open report (pumps/safety.py: SIGNS_REPORTED)."""

    class Outcome(models.TextChoices):
        ADVICE = "advice", _("Advice given")
        SEEN = "seen_in_clinic", _("Seen in clinic")
        EMERGENCY = "sent_to_ed", _("Sent to the emergency department")
        NO_ACTION = "no_action", _("No action needed")

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="sign_reports")
    # Copied from the child: staff queries are scoped by the child's clinic.
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="sign_reports")
    reporter = models.ForeignKey(
        Caregiver, null=True, blank=True, on_delete=models.SET_NULL, related_name="sign_reports"
    )
    reporter_name = models.CharField(max_length=254, blank=True)  # kept if the account goes
    signs = models.JSONField(default=list)  # codes, patients/signs.py: SIGNS, in its order
    groups = models.JSONField(default=list)  # withdrawal first
    words = models.TextField(blank=True)
    reported_at = models.DateTimeField()  # the first send
    last_reported_at = models.DateTimeField()  # the latest send folded in
    sends = models.PositiveSmallIntegerField(default=1)
    # The phone's clock when the parent wrote it, for a report kept on the phone without a network.
    written_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    outcome_note = models.CharField(max_length=500, blank=True)
    outcome_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome_at = models.DateTimeField(null=True, blank=True)

    objects = SignReportQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_at", "-pk"]
        indexes = [models.Index(fields=["patient", "outcome"], name="sign_report_patient_open")]

    def __str__(self) -> str:
        return f"signs reported for child {self.patient_id} at {self.reported_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return not self.outcome

    def sign_labels(self) -> list[str]:
        return [signs.SIGNS[code][1] for code in self.signs if code in signs.SIGNS]
