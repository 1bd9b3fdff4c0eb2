"""Every URL of the portal, with who may open it. The URL walk (test_url_walk.py) fails for a URL
without an entry here, so adding a page means adding one line.

Personas: anonymous; parent_a and parent_b (two families in clinic A); nurse_a (clinic A) and
nurse_b (clinic B). Kwargs are always built from family A's objects (w.child_a, w.pump_a, ...), so
parent_b is a stranger to them (404) and nurse_b works in another clinic (404).

Expectations: OK (2xx/3xx, not bounced to sign-in), LOGIN (302 to the sign-in page), or a status
code (403 for a parent on a staff page or a nurse on a family page, 404 for a stranger to the object,
405 for a method the view refuses). Only parent_a and nurse_a may ever see child A's name or MRN.

To add a URL: pick a preset and give kwargs, e.g.
    "staff:patient_detail": staff_child_page(lambda w: {"pk": w.child_a.pk}),
    "family:child": family_child_page(lambda w: {"pk": w.child_a.pk}),
    "staff:visit_new": staff_child_page(lambda w: {"pk": w.child_a.pk}, methods=("get", "post"),
                                        post_data=lambda w: {"volume_ml": "20"}),
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

OK = "ok"
LOGIN = "login"
PERSONAS = ("anonymous", "parent_a", "parent_b", "nurse_a", "nurse_b")
OWNERS = ("parent_a", "nurse_a")  # the only personas who may see child A


def _none(world) -> dict:
    return {}


@dataclass(frozen=True)
class Entry:
    expect: dict[str, object]
    kwargs: Callable = _none
    methods: tuple[str, ...] = ("get",)
    post_data: Callable = _none
    query: Callable = lambda world: ""  # noqa: E731  e.g. lambda w: f"?patient={w.child_a.pk}"
    note: str = field(default="", compare=False)


def _expect(anonymous, parent_a, parent_b, nurse_a, nurse_b) -> dict[str, object]:
    return dict(zip(PERSONAS, (anonymous, parent_a, parent_b, nurse_a, nurse_b), strict=True))


def public_page(**options) -> Entry:
    """Anyone, signed in or not (sign-in, password reset, emergency)."""
    return Entry(expect=_expect(OK, OK, OK, OK, OK), **options)


def signed_in_page(**options) -> Entry:
    """Anyone signed in; the page itself shows only what the person may see."""
    return Entry(expect=_expect(LOGIN, OK, OK, OK, OK), **options)


def staff_page(**options) -> Entry:
    """A staff page not about one child (lists, the console): parents 403."""
    return Entry(expect=_expect(LOGIN, 403, 403, OK, OK), **options)


def staff_child_page(kwargs: Callable, **options) -> Entry:
    """A staff page about child A (or its pump, visit...): the other clinic's nurse gets 404."""
    return Entry(expect=_expect(LOGIN, 403, 403, OK, 404), kwargs=kwargs, **options)


def family_page(**options) -> Entry:
    """A parent page not about one child: staff 403."""
    return Entry(expect=_expect(LOGIN, OK, OK, 403, 403), **options)


def family_child_page(kwargs: Callable, **options) -> Entry:
    """A parent page about child A: the other family gets 404, staff 403."""
    return Entry(expect=_expect(LOGIN, OK, 404, 403, 403), kwargs=kwargs, **options)


def shared_child_page(kwargs: Callable, **options) -> Entry:
    """A page about child A for both the family and the clinic (documents, the emergency card)."""
    return Entry(expect=_expect(LOGIN, OK, 404, OK, 404), kwargs=kwargs, **options)


def audit_page(**options) -> Entry:
    """Audit search: only the clinic-admin role (or the permission); the nurses here are plain nurses."""
    return Entry(expect=_expect(LOGIN, 403, 403, 403, 403), **options)


def _invite_kwargs(world) -> dict:
    from patients.invites import invite_token_generator

    user = world.parent_a
    token = invite_token_generator.make_token(user)
    return {"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": token}


def _refill_kwargs(world) -> dict:
    return {"pk": world.child_a.pk, "kind": "refill"}


def _reset_kwargs(world) -> dict:
    user = world.parent_a
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


def _local(days: int = 0, fmt: str = "%Y-%m-%dT%H:%M") -> str:
    from datetime import timedelta

    from django.utils import timezone

    return (timezone.localtime() + timedelta(days=days)).replace(second=0, microsecond=0).strftime(fmt)


def _visit_post(world) -> dict:
    """A valid refill or programming form: the hostile walk replaces one field at a time."""
    return {
        "visit_at": _local(), "pre_concentration_mcg_ml": "1000", "pre_mode": "simple",
        "pre_daily_dose_mcg": "300", "expected_residual_ml": "4.0", "actual_residual_ml": "4.2",
        "volume_instilled_ml": "15", "volume_after_ml": "19", "concentration_mcg_ml": "1000",
        "mode": "simple", "daily_dose_mcg": "300", "bolus_mcg": "0", "bolus_max_per_day": "0",
        "alarm_volume_ml": "2.0", "bridge_bolus_ml": "0", "next_appointment_at": _local(60),
        "printed_alarm_date": _local(90, "%Y-%m-%d"), "eri_reported_date": "",
    }  # fmt: skip


def _new_patient_post(world) -> dict:
    return {
        "first_name": "Walk", "last_name": "Newchild", "date_of_birth": "2018-04-02", "mrn": "WALK-NEW-1",
        "model": "sm2_40", "serial_number": "NGPWALK", "implant_date": _local(0, "%Y-%m-%d"),
        "fill-visit_at": _local(), "fill-volume_after_ml": "38", "fill-concentration_mcg_ml": "500",
        "fill-mode": "simple", "fill-daily_dose_mcg": "100", "fill-alarm_volume_ml": "2.0",
        "fill-bridge_bolus_ml": "0", "fill-bolus_mcg": "0", "fill-bolus_max_per_day": "0",
    }  # fmt: skip


def _appointment_post(world) -> dict:
    return {"kind": "refill", "start": _local(30), "duration_minutes": "30", "after_alarm_reason": ""}


REGISTRY: dict[str, Entry] = {
    "home": signed_in_page(),
    "emergency": public_page(),
    "service_worker": public_page(note="The service worker script: static code, no data."),
    "favicon": public_page(note="The icon file."),
    "login": public_page(methods=("get", "post")),
    "logout": Entry(expect=_expect(LOGIN, LOGIN, LOGIN, LOGIN, LOGIN), methods=("post",)),
    "password_change": signed_in_page(methods=("get", "post")),
    "password_change_done": signed_in_page(),
    "password_reset": public_page(methods=("get", "post")),
    "password_reset_done": public_page(),
    "password_reset_confirm": public_page(kwargs=_reset_kwargs, methods=("get",)),
    "password_reset_complete": public_page(),
    "two_factor:settings": signed_in_page(),
    "two_factor:enrol": signed_in_page(methods=("get", "post")),
    "two_factor:verify": signed_in_page(methods=("get", "post")),
    "two_factor:recovery_codes": signed_in_page(methods=("post",)),
    "two_factor:turn_off": signed_in_page(methods=("post",)),
    "documents:summary": shared_child_page(lambda w: {"pk": w.document_a.pk}),
    "documents:regenerate": staff_child_page(lambda w: {"visit_pk": w.visit_a.pk}, methods=("post",)),
    "documents:list": shared_child_page(lambda w: {"patient_pk": w.child_a.pk}),
    "documents:card": shared_child_page(lambda w: {"patient_pk": w.child_a.pk}),
    "documents:card_pdf": shared_child_page(lambda w: {"patient_pk": w.child_a.pk}),
    # The FHIR export (patients/fhir/; its API tokens: tests/fhir/test_access.py).
    "fhir:base": public_page(note="The CapabilityStatement: what the endpoint offers, no data."),
    "fhir:metadata": public_page(note="The same CapabilityStatement."),
    "fhir:everything": staff_child_page(lambda w: {"pk": w.child_a.pk}),
    "fhir:collection": staff_child_page(lambda w: {"pk": w.child_a.pk}),
    "fhir:export": staff_page(note="Each nurse gets her own clinic's children, streamed."),
    "fhir:tokens": audit_page(methods=("get", "post"), post_data=lambda w: {"name": "EHR"}),
    "fhir:token_revoke": audit_page(kwargs=lambda w: {"pk": 1}, methods=("post",)),
    # The nurses' console.
    "staff:worklist": staff_page(query=lambda w: f"?q={w.child_a.first_name}"),
    "staff:battery": staff_page(),
    "staff:day": staff_page(),
    "staff:call_list": staff_page(),
    "staff:call_outcome": staff_child_page(
        lambda w: {"pk": w.call_step_a.pk},
        methods=("post",),
        post_data=lambda w: {f"s{w.call_step_a.pk}-outcome": "no_answer"},
    ),
    "staff:sign_outcome": staff_child_page(
        lambda w: {"pk": w.sign_report_a.pk},
        methods=("get", "post"),
        post_data=lambda w: {"outcome": "advice"},
    ),
    "staff:figures": staff_page(),
    "staff:figures_csv": staff_page(),
    "staff:clinic_calendar": staff_page(),
    "staff:patient_new": staff_page(methods=("get", "post"), post_data=_new_patient_post),
    "staff:patient_new_preview": staff_page(methods=("post",), post_data=_new_patient_post),
    "staff:chart": staff_child_page(lambda w: {"pk": w.child_a.pk}),
    "staff:visit": staff_child_page(_refill_kwargs, methods=("get", "post"), post_data=_visit_post),
    "staff:visit_preview": staff_child_page(_refill_kwargs, methods=("post",), post_data=_visit_post),
    "staff:appointment_book": staff_child_page(
        lambda w: {"pk": w.child_a.pk}, methods=("get", "post"), post_data=_appointment_post
    ),
    # Link an existing account (the number check and invitations): the same answer for any e-mail.
    "staff:caregivers": staff_child_page(
        lambda w: {"pk": w.child_a.pk},
        methods=("get", "post"),
        post_data=lambda w: {
            "link": "1",
            "link-email": "walk-nobody@example.test",
            "link-relationship": "father",
        },
    ),
    "staff:caregiver_contact": staff_child_page(
        lambda w: {"pk": w.child_a.pk, "link_pk": w.link_a.pk},
        methods=("get", "post"),
        post_data=lambda w: {"mobile": "+18015559876", "consent": "given", "code": "123456"},
    ),
    "staff:caregiver_deactivate": staff_child_page(
        lambda w: {"pk": w.child_a.pk, "link_pk": w.link_a.pk}, methods=("post",)
    ),
    "staff:appointment_reschedule": staff_child_page(
        lambda w: {"pk": w.appointment_a.pk}, methods=("get", "post"), post_data=_appointment_post
    ),
    "staff:appointment_act": staff_child_page(
        lambda w: {"pk": w.appointment_a.pk, "action": "complete"}, methods=("post",)
    ),
    # The parents' portal.
    "family:home": family_page(),
    "family:child": family_child_page(lambda w: {"pk": w.child_a.pk}),
    "family:appointment_confirm": family_child_page(lambda w: {"pk": w.appointment_a.pk}, methods=("post",)),
    "family:texts": family_page(
        methods=("get", "post"),
        post_data=lambda w: {
            "mobile": "+18015559875",
            "sms_consent": "on",
            "preferred_language": "en",
            "quiet_hours_start": "21:00",
            "quiet_hours_end": "08:00",
        },  # fmt: skip
    ),
    # With no code waiting it sends the parent back to the texts page (OK).
    "family:mobile_verify": family_page(methods=("get", "post"), post_data=lambda w: {"code": "123456"}),
    "family:language": family_page(methods=("post",), post_data=lambda w: {"language": "es", "next": "/"}),
    "family:calendar_page": family_page(),
    "family:signs": family_page(),
    "family:signs_report": family_child_page(
        lambda w: {"pk": w.child_a.pk}, methods=("get", "post"), post_data=lambda w: {"signs": ["tone"]}
    ),
    "family:signs_done": family_child_page(lambda w: {"pk": w.sign_report_a.pk}),
    "family:calendar_reset": family_page(methods=("post",)),
    # A capability URL: whoever holds parent A's secret token gets parent A's feed (first names only).
    "family:calendar": public_page(kwargs=lambda w: {"token": w.parent_a.caregiver.calendar_token}),
    "invite:accept": public_page(kwargs=_invite_kwargs, methods=("get",)),
    # A request to add a child to parent A's account: only parent A, signed in, may open it.
    "invite:link": family_child_page(lambda w: {"token": w.invitation_token}, methods=("get", "post")),
    # The reminder engine: staff pages, and Twilio's webhooks (a valid signature or 403, for everyone).
    "alerts:outbox": staff_page(),
    "alerts:escalations": staff_page(),
    "alerts:concern_acknowledge": staff_child_page(lambda w: {"pk": w.concern_a.pk}, methods=("post",)),
    "alerts:printed_alarm_resolve": staff_child_page(lambda w: {"pk": w.printed_a.pk}, methods=("post",)),
    "alerts:twilio_status": Entry(expect=_expect(403, 403, 403, 403, 403), methods=("post",)),
    "alerts:twilio_inbound": Entry(expect=_expect(403, 403, 403, 403, 403), methods=("post",)),
    "alerts:voice_gather": Entry(expect=_expect(403, 403, 403, 403, 403), methods=("post",)),
    "alerts:voice_status": Entry(expect=_expect(403, 403, 403, 403, 403), methods=("post",)),
    "audit:search": audit_page(query=lambda w: f"?patient={w.child_a.pk}&q={w.child_a.last_name}"),
}

# URL patterns the walk does not visit, each with the reason. Keep this list short.
NOT_WALKED: dict[str, str] = {
    "admin:*": "Django admin's own model pages; the admin is walked by test_two_factor "
    "(no admin page for anyone without a verified second factor) and guarded by is_staff.",
    "set_language": "Django's i18n language switch: stores a cookie only, shows no data.",
    "healthz": "Public health probe for the load balancer: names no person; its answers are tested "
    "in tests/itbportal/test_health.py (it is 503 here because no sweep ran).",
}
