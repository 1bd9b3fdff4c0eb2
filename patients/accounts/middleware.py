"""The language follows the parent's own choice, saved on their caregiver record."""

from django.utils import translation


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
            caregiver = getattr(user, "caregiver", None)
            language = getattr(caregiver, "preferred_language", "")
            if language and translation.check_for_language(language):
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
