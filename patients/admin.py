from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import AuditEvent, Caregiver, CaregiverLink, Clinic, Patient, SmsConsent, StaffProfile, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "phone_business_hours", "phone_after_hours", "phone_nurse_line"]


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "clinic", "role", "active"]
    list_filter = ["clinic", "role", "active"]


class CaregiverLinkInline(admin.TabularInline):
    model = CaregiverLink
    extra = 0
    autocomplete_fields = ["caregiver"]


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "mrn", "clinic", "active"]
    list_filter = ["clinic", "active"]
    search_fields = ["first_name", "last_name", "mrn"]
    inlines = [CaregiverLinkInline]


@admin.register(Caregiver)
class CaregiverAdmin(admin.ModelAdmin):
    list_display = ["user", "mobile", "sms_consent", "preferred_language"]
    search_fields = ["user__email", "user__first_name", "user__last_name"]
    list_select_related = ["user"]
    # A number is set only by a proof (patients.services_contact), consent only through its service.
    readonly_fields = ["mobile", "sms_consent", "sms_consent_at", "calendar_token"]


@admin.register(CaregiverLink)
class CaregiverLinkAdmin(admin.ModelAdmin):
    list_display = ["caregiver", "patient", "relationship", "primary_contact", "active"]
    list_select_related = ["caregiver__user", "patient"]


@admin.register(SmsConsent)
class SmsConsentAdmin(admin.ModelAdmin):
    list_display = ["caregiver", "given", "source", "at"]
    readonly_fields = [f.name for f in SmsConsent._meta.fields]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ["at", "actor_label", "action", "object_type", "object_id", "patient_id", "outcome"]
    list_filter = ["action", "outcome"]
    search_fields = ["actor_label", "object_id"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
