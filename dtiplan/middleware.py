"""Vietnamese first: the UI language is the person's choice, never the browser's guess.

Django's LocaleMiddleware follows the browser's Accept-Language, so a civil servant whose
Windows or Chrome is in English would get an English site. Here the language is, in order:
the language cookie (set by the VI/EN switch), the signed-in person's saved language, and
otherwise ``LANGUAGE_CODE`` (Vietnamese).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers


class PreferredLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def language_for(self, request: HttpRequest) -> str:
        cookie = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if cookie in self.supported:
            return cookie
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.language in self.supported:
            return user.language
        return settings.LANGUAGE_CODE

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = self.language_for(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", language)
        return response
