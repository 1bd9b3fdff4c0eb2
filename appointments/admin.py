from django.contrib import admin

from appointments.models import Appointment
from itbportal.admin_readonly import ReadOnlyAdmin


@admin.register(Appointment)
class AppointmentAdmin(ReadOnlyAdmin):
    list_display = ["patient", "kind", "start", "status", "location"]
    list_filter = ["kind", "status"]
    list_select_related = ["patient"]
