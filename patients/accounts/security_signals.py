"""Sign-in bookkeeping through Django's auth signals.

Why signals here (the house style prefers explicit calls): sign-in happens in Django's own views
(LoginView, the admin login, password reset's auto-login, test clients' force_login) and in axes'
backend; the signals are the one place every path passes through. They only append audit rows and
stamp the session, never change domain data.
"""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from patients import audit
from patients.accounts.lockout import account_failure_noted
from patients.accounts.security_middleware import session_stamp_login


@receiver(user_logged_in, dispatch_uid="security_user_logged_in")
def on_logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        session_stamp_login(request, user)
    audit.audit_record(request=request, actor=user, action=audit.SIGN_IN)


@receiver(user_login_failed, dispatch_uid="security_user_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    # credentials are already cleansed by Django; keep only the typed identifier as a label.
    typed = str(credentials.get("username") or credentials.get("email") or "")[:254]
    audit.audit_record(request=request, action=audit.SIGN_IN_FAILED, outcome="failed", actor_label=typed)
    account_failure_noted(request=request, username=typed)  # the owner is told of a pause, once


@receiver(user_logged_out, dispatch_uid="security_user_logged_out")
def on_logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit.audit_record(request=request, actor=user, action=audit.SIGN_OUT)


@receiver(user_locked_out, dispatch_uid="security_user_locked_out")
def on_locked_out(sender, request=None, username=None, ip_address=None, **kwargs):
    # axes paused this account on this address: a row for the audit trail (no password kept).
    audit.audit_record(
        request=request,
        action=audit.LOCKED_OUT,
        outcome="refused",
        actor_label=str(username or "")[:254],
        object_type="account_and_address",
    )
