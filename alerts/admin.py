from django.contrib import admin

from alerts.models import ChildSafety, Concern, Heartbeat, Reminder, SmsMessage
from itbportal.admin_readonly import ReadOnlyAdmin


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ["patient", "kind", "target_date", "offset_days", "send_after", "status", "attempts"]
    list_filter = ["kind", "status"]
    list_select_related = ["patient"]


@admin.register(SmsMessage)
class SmsMessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "direction", "to_number", "status", "backend"]
    list_filter = ["direction", "status"]


@admin.register(Concern)
class ConcernAdmin(ReadOnlyAdmin):
    list_display = ["opened_at", "kind", "tier", "patient", "resolved_at", "resolved_reason"]
    list_filter = ["kind", "tier"]
    list_select_related = ["patient"]


@admin.register(ChildSafety)
class ChildSafetyAdmin(ReadOnlyAdmin):
    list_display = ["patient", "tier_rank", "act_by", "alarm_day", "refill_due", "next_refill_at"]
    list_select_related = ["patient"]


@admin.register(Heartbeat)
class HeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "last_run_at"]
