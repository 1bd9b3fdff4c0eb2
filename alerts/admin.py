from django.contrib import admin

from .models import Escalation, Heartbeat, Reminder, SmsMessage


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["patient", "kind", "target_date", "offset_days", "send_after", "status", "attempts"]
    list_filter = ["kind", "status"]
    list_select_related = ["patient"]


@admin.register(SmsMessage)
class SmsMessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "direction", "to_number", "status", "backend"]
    list_filter = ["direction", "status"]


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "severity", "patient", "resolved_at"]
    list_filter = ["kind", "severity"]
    list_select_related = ["patient"]


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "last_run_at"]
