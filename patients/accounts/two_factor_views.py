"""Two-factor pages: settings, set-up (QR code), the sign-in check, recovery codes, turning it off."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token

from patients import audit
from patients.accounts import two_factor as tf
from patients.accounts.two_factor_forms import TokenForm


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path on this site only: anything else ('9999-12-31', a view name) would be looked up as one.
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return reverse("home")


@login_required
def two_factor_settings(request):
    user = request.user
    context = {
        "has_device": tf.user_has_device(user),
        "mandatory": tf.two_factor_mandatory(user),
        "codes_left": len(tf.recovery_codes_remaining(user=user)),
        "verified": user.is_verified(),
    }
    return render(request, "security/two_factor_settings.html", context)


@login_required
def two_factor_enrol(request):
    user = request.user
    if tf.user_has_device(user) and not user.is_verified():
        # Replacing an authenticator needs the current one: a stolen password is not enough.
        return redirect(f"{reverse('two_factor:verify')}?next={reverse('two_factor:enrol')}")
    device = tf.totp_pending_device(user=user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if tf.totp_confirm(device=device, token=form.cleaned_data["token"]):
            otp_login(request, device)
            request.session[tf.SESSION_REQUIRED] = True
            codes = tf.recovery_codes_regenerate(user=user)
            audit.audit_record(request=request, action=audit.TWO_FACTOR_ENROLLED, obj=device)
            return render(
                request,
                "security/recovery_codes.html",
                {"codes": codes, "next": _next_url(request), "new": True},
            )
        form.add_error(
            "token", _("That code did not match. Check the time on your phone and try the newest code.")
        )
    context = {
        "form": form,
        "qr_data_uri": tf.totp_qr_data_uri(device),
        "secret": tf.totp_secret_base32(device),
        "next": request.GET.get("next", request.POST.get("next", "")),
        "mandatory": tf.two_factor_mandatory(user),
    }
    return render(request, "security/two_factor_enrol.html", context)


@login_required
def two_factor_verify(request):
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not tf.user_has_device(user):
        return redirect(f"{reverse('two_factor:enrol')}?next={_next_url(request)}")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            audit.audit_record(request=request, action=audit.TWO_FACTOR_VERIFIED, obj=device)
            return redirect(_next_url(request))
        audit.audit_record(request=request, action=audit.TWO_FACTOR_FAILED, outcome="failed")
        form.add_error(
            "token", _("That code did not work. Try the newest code from your app, or a recovery code.")
        )
    next_url = request.GET.get("next", request.POST.get("next", ""))
    return render(request, "security/two_factor_verify.html", {"form": form, "next": next_url})


@login_required
@require_POST
def recovery_codes_new(request):
    if not request.user.is_verified():
        return tf.two_factor_redirect(request)
    codes = tf.recovery_codes_regenerate(user=request.user)
    audit.audit_record(request=request, action=audit.RECOVERY_CODES_REGENERATED)
    return render(
        request, "security/recovery_codes.html", {"codes": codes, "next": reverse("home"), "new": False}
    )


@login_required
@require_POST
def two_factor_turn_off(request):
    user = request.user
    if tf.two_factor_mandatory(user):
        messages.error(request, _("Clinic staff must keep two-step sign-in on."))
        return redirect("two_factor:settings")
    if tf.user_has_device(user) and not user.is_verified():
        return tf.two_factor_redirect(request)
    tf.two_factor_remove(user=user)
    request.session[tf.SESSION_REQUIRED] = False
    audit.audit_record(request=request, action=audit.TWO_FACTOR_REMOVED)
    messages.success(request, _("Two-step sign-in is off."))
    return redirect("two_factor:settings")
