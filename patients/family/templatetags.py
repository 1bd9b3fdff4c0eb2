"""Template helpers for the parents' portal: dates in the parent's language, optional links."""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

register = template.Library()

SMS_STATUS = {
    "queued": lambda: _("Waiting to be sent"),
    "accepted": lambda: _("Waiting to be sent"),
    "sending": lambda: _("Sending"),
    "sent": lambda: _("Sent"),
    "delivered": lambda: _("Delivered"),
    "read": lambda: _("Delivered"),
    "failed": lambda: _("Not delivered"),
    "undelivered": lambda: _("Not delivered"),
    "canceled": lambda: _("Not sent"),
}


@register.filter(expects_localtime=True)
def longdate(value) -> str:
    """'Monday, November 30, 2026' / 'lunes 30 de noviembre de 2026'."""
    if not value:
        return ""
    return date_format(value, pgettext("long date with weekday (Django date format)", "l, F j, Y"))


@register.filter(expects_localtime=True)
def clocktime(value) -> str:
    """'1:00 PM' / '13:00' (the Spanish convention, as in the texts)."""
    if not value:
        return ""
    return date_format(value, pgettext("time of day (Django date format)", "g:i A"))


@register.filter
def days_phrase(days) -> str:
    """How far away a date is, in words."""
    if days is None:
        return ""
    if days == 0:
        return _("today")
    if days == 1:
        return _("tomorrow")
    if days < 0:
        return ngettext("%(count)d day ago", "%(count)d days ago", -days) % {"count": -days}
    return ngettext("in %(count)d day", "in %(count)d days", days) % {"count": days}


@register.filter
def sms_status(value) -> str:
    label = SMS_STATUS.get((value or "").lower())
    return label() if label else _("Status unknown")


@register.filter
def sms_not_delivered(value) -> bool:
    """The text did not reach the phone: the page then says what to do next."""
    return (value or "").lower() in ("failed", "undelivered")


@register.simple_tag
def url_or_empty(name: str, *args) -> str:
    """The URL, or "" when that page does not exist (yet) in this build."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


@register.simple_tag
def last_updated(clinic=None) -> str:
    """'Last updated: Tuesday, December 1, 2026, 5:13 AM' in the clinic's time: an offline copy
    shows when it was made."""
    from django.utils import timezone

    now = timezone.localtime(timezone.now(), clinic.tzinfo if clinic else None)
    return _("Last updated: %(day)s, %(time)s") % {"day": longdate(now), "time": clocktime(now)}


@register.filter
def clinic_name(clinic) -> str:
    """The clinic's name in the page's language."""
    from django.utils.translation import get_language

    return clinic.name_in(get_language()) if clinic else ""


@register.filter
def place(location: str, clinic) -> str:
    """An appointment's place in the page's language (see Clinic.place_in)."""
    from django.utils.translation import get_language

    return clinic.place_in(location, get_language()) if clinic and location else location or ""
