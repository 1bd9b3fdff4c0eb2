"""The parent's side of an invitation: choose a first password, then be signed in."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import SetPasswordForm
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext as _

from patients.accounts.permissions import caregiver_required
from patients.contact import link_invitation_accept, link_invitation_find
from patients.invites import invite_token_generator
from patients.models import User


def _user(uidb64: str):
    try:
        return User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (User.DoesNotExist, ValueError, TypeError, OverflowError):
        return None


def page_language(request, user) -> str:
    """The invitation's language (the parent's), unless the visitor chose one on the page."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    known = {code for code, _name in settings.LANGUAGES}
    if chosen in known:
        return chosen
    caregiver = getattr(user, "caregiver", None) if user is not None else None
    preferred = getattr(caregiver, "preferred_language", "")
    return preferred if preferred in known else translation.get_language()


def accept(request, uidb64: str, token: str):
    user = _user(uidb64)
    with translation.override(page_language(request, user)):
        response = _accept(request, user, token)
    return response


def _accept(request, user, token: str):
    if user is None or not user.is_active or not invite_token_generator.check_token(user, token):
        return render(request, "invite/expired.html", status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("home")
    return render(request, "invite/accept.html", {"form": form, "title": _("Choose your password")})


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """Django's set-a-new-password page, in the parent's language (as the e-mail that links here)."""

    def dispatch(self, *args, **kwargs):
        user = self.get_user(kwargs["uidb64"])
        with translation.override(page_language(self.request, user)):
            response = super().dispatch(*args, **kwargs)
            if hasattr(response, "render"):
                response.render()
        return response


@caregiver_required
def link(request, token: str):
    """A clinic asks to add a child to this parent's account: shown, then accepted or left."""
    invitation = link_invitation_find(token=token, user=request.user)
    if invitation is None:
        return render(request, "invite/expired.html", status=404)
    if request.method == "POST" and request.POST.get("accept") == "1":
        link_invitation_accept(invitation=invitation)
        messages.success(request, _("Thank you. You can now see this child in the portal."))
        return redirect("family:child", pk=invitation.patient_id)
    return render(request, "invite/link.html", {"invitation": invitation})
