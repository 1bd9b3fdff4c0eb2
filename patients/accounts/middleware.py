"""The language follows the parent's own choice, saved on their caregiver record."""

from django.utils import translation

ROLES = ("caregiver", "staff_profile")


def roles_load(user) -> None:
    """Read the person's caregiver record and staff profile (either may be missing) in one query
    and keep them on `user`: most pages read both (the language here, then who may see which
    child: Patient.objects.visible_to, the staff pages' checks), one query each otherwise."""
    meta = user._meta  # request.user is a lazy object: its class is not the model
    if all(meta.get_field(name).is_cached(user) for name in ROLES):
        return
    loaded = meta.model._default_manager.select_related(*ROLES).filter(pk=user.pk).first()
    for name in ROLES:
        field = meta.get_field(name)
        field.set_cached_value(user, field.get_cached_value(loaded, None) if loaded else None)


class CaregiverLanguageMiddleware:
    """Activate `Caregiver.preferred_language` for a signed-in caregiver.

    Sits after AuthenticationMiddleware (it needs `request.user`) and so overrides what
    LocaleMiddleware guessed from the browser or the cookie. Everyone else keeps that guess.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            roles_load(user)
            caregiver = getattr(user, "caregiver", None)
            language = getattr(caregiver, "preferred_language", "")
            if language and translation.check_for_language(language):
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
