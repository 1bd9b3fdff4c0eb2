from django.contrib import admin

from itbportal.admin_readonly import ReadOnlyAdmin

from appointments.models import Appointment


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ["patient", "kind", "start", "status", "location"]
    list_filter = ["kind", "status"]
    list_select_related = ["patient"]
