from django.contrib import admin

from .models import Appointment


@admin.register(Appointment)
class AppointmentAdmin(admin.ModelAdmin):
    list_display = ["patient", "kind", "start", "status", "location"]
    list_filter = ["kind", "status"]
    list_select_related = ["patient"]
