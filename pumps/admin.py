from django.contrib import admin

from itbportal.admin_readonly import ReadOnlyAdmin
from pumps.models import Document, Program, Pump, RefillVisit


@admin.register(Pump)
class PumpAdmin(ReadOnlyAdmin):
    list_display = ["serial_number", "model", "patient", "implant_date", "eri_date", "explant_date"]
    list_filter = ["model"]
    search_fields = ["serial_number", "patient__last_name", "patient__mrn"]
    list_select_related = ["patient"]


@admin.register(Program)
class ProgramAdmin(ReadOnlyAdmin):
    list_display = ["pump", "effective_from", "concentration_mcg_ml", "mode", "daily_dose_mcg"]
    list_select_related = ["pump"]


@admin.register(RefillVisit)
class RefillVisitAdmin(ReadOnlyAdmin):
    list_display = ["pump", "kind", "visit_at", "volume_after_ml", "alarm_at_worst", "refill_due"]
    list_filter = ["kind"]
    list_select_related = ["pump"]


@admin.register(Document)
class DocumentAdmin(ReadOnlyAdmin):
    list_display = ["kind", "patient", "visit", "language", "version", "created_at"]
    list_filter = ["kind", "language"]
