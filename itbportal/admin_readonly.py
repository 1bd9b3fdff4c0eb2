"""The admin site is no back door past the services: rows whose writes have consequences
(visits, programs, pumps, appointments, reminders, concerns) are shown read-only there."""

from django.contrib import admin


class ReadOnlyAdmin(admin.ModelAdmin):
    """List and view only: add, change and delete go through the services (the console)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
