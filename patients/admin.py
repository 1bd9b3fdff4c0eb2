from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from itbportal.admin_readonly import ReadOnlyAdmin
from patients.clinic_hours import appointments_outside_hours
from patients.models import (
    AuditEvent,
    Caregiver,
    CaregiverLink,
    Clinic,
    ClosedDate,
    Patient,
    SmsConsent,
    StaffProfile,
    User,
)
from patients.services import admin_save

# The admin site is no back door past the services. Users, staff roles and clinics are saved
# through `admin_save` (audited); every row whose write has consequences for a child (children,
# caregivers, their links, consent, the audit log) is read-only here: the console's forms and
# the family's pages write them through the services, which re-plan and audit.


class AuditedSaveAdmin(admin.ModelAdmin):
    """Saves through the service (one audited transaction); no deletes (deactivate instead)."""

    def save_model(self, request, obj, form, change) -> None:
        admin_save(request=request, obj=obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(AuditedSaveAdmin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Name", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


WEEKDAY_CHOICES = [(0, "Monday"), (1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"), (4, "Friday")]
WEEKDAY_CHOICES += [(5, "Saturday"), (6, "Sunday")]


CLINIC_FIELDSETS = (
    (None, {"fields": ("name", "time_zone", "default_location", "nurse_inbox_email")}),
    ("Phone numbers", {"fields": ("phone_business_hours", "phone_after_hours", "phone_nurse_line")}),
    ("Text messages", {"fields": ("sms_sender_name", "sms_sender_name_es")}),
    ("Opening hours", {"fields": ("open_weekdays", "opens_at", "closes_at")}),
    (
        "Refills and reminders",
        {
            "fields": (
                "refill_lead_days",
                "max_refill_interval_days",
                "reminder_refill_due_days",
                "reminder_alarm_days",
                "reminder_appointment_days",
                "reminder_battery_repeat_days",
                "texts_held_tell_nurses_minutes",
            )
        },
    ),
    (
        "Warning signs a family reports (the handout's words by default)",
        {
            "fields": (
                "sign_instructions_withdrawal",
                "sign_instructions_withdrawal_es",
                "sign_instructions_too_much",
                "sign_instructions_too_much_es",
                "sign_instructions_infection",
                "sign_instructions_infection_es",
                "signs_ack_minutes",
            )
        },
    ),
    ("FHIR export", {"fields": ("fhir_shares_caregiver_contact",)}),
)


class ClinicForm(forms.ModelForm):
    open_weekdays = forms.TypedMultipleChoiceField(
        label="Open weekdays",
        choices=WEEKDAY_CHOICES,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text="A refill-due date on a closed day moves to the open day before it.",
    )

    class Meta:
        model = Clinic
        fields = [name for _, group in CLINIC_FIELDSETS for name in group["fields"]]


class ClosedDateInline(admin.TabularInline):
    model = ClosedDate
    extra = 1
    verbose_name = "closed date (holiday)"
    verbose_name_plural = "Closed dates (holidays)"


@admin.register(Clinic)
class ClinicAdmin(AuditedSaveAdmin):
    """The clinic's settings and calendar. A clinic admin sees only their own clinic; a change
    recomputes the stored refill-due dates and re-plans the texts (pumps.services)."""

    form = ClinicForm
    inlines = [ClosedDateInline]
    list_display = ["name", "time_zone", "phone_business_hours", "phone_after_hours", "phone_nurse_line"]
    fieldsets = CLINIC_FIELDSETS

    def get_queryset(self, request):
        rows = super().get_queryset(request)
        if request.user.is_superuser:
            return rows
        return rows.filter(staff__user=request.user, staff__active=True)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        from pumps.services import refill_due_refresh

        moved = refill_due_refresh(clinic=form.instance)
        if moved:
            self.message_user(
                request, f"Refill-due dates moved for {moved} children; their texts are re-planned."
            )
        clashes = appointments_outside_hours(form.instance)
        if clashes:
            listed = "; ".join(
                f"{a.patient} {a.start.astimezone(form.instance.tzinfo):%a %d %b %Y %H:%M}" for a in clashes
            )
            self.message_user(
                request,
                f"{len(clashes)} open appointments are now on a closed day or outside hours: {listed}. "
                "Move them from each child's chart.",
                level=messages.WARNING,
            )


@admin.register(StaffProfile)
class StaffProfileAdmin(AuditedSaveAdmin):
    list_display = ["user", "clinic", "role", "active"]
    list_filter = ["clinic", "role", "active"]


class CaregiverLinkInline(admin.TabularInline):
    model = CaregiverLink
    extra = 0
    fields = ["caregiver", "relationship", "primary_contact", "active"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Patient)
class PatientAdmin(ReadOnlyAdmin):
    list_display = ["last_name", "first_name", "mrn", "clinic", "active"]
    list_filter = ["clinic", "active"]
    search_fields = ["first_name", "last_name", "mrn"]
    inlines = [CaregiverLinkInline]


@admin.register(Caregiver)
class CaregiverAdmin(ReadOnlyAdmin):
    list_display = ["user", "mobile", "sms_consent", "preferred_language"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    list_select_related = ["user"]


@admin.register(CaregiverLink)
class CaregiverLinkAdmin(ReadOnlyAdmin):
    list_display = ["caregiver", "patient", "relationship", "primary_contact", "active"]
    list_select_related = ["caregiver__user", "patient"]


@admin.register(SmsConsent)
class SmsConsentAdmin(ReadOnlyAdmin):
    list_display = ["caregiver", "given", "source", "at"]


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["at", "actor_label", "action", "object_type", "object_id", "patient_id", "outcome"]
    list_filter = ["action", "outcome"]
    search_fields = ["actor_label", "object_id"]
