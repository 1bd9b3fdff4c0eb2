"""Helpers for the URL walk: list every URL pattern, and judge a response against an expectation."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import URLPattern, URLResolver, get_resolver

from tests.security.url_registry import LOGIN, NOT_WALKED, OK


def iter_url_names(patterns=None, namespace: str = "", prefix: str = ""):
    """Yield (qualified name or None, route) for every pattern, recursing into includes."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            ns = pattern.namespace
            inner = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from iter_url_names(pattern.url_patterns, inner, route)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield (name if pattern.name else (f"{namespace}:" if namespace else None)), route


def not_walked(name: str) -> bool:
    return name in NOT_WALKED or any(key.endswith(":*") and name.startswith(key[:-1]) for key in NOT_WALKED)


def is_login_redirect(response) -> bool:
    login_path = resolve_url(settings.LOGIN_URL)
    return response.status_code == 302 and response["Location"].split("?")[0] == login_path


def matches(response, expected) -> bool:
    if expected == OK:
        return response.status_code < 400 and not is_login_redirect(response)
    if expected == LOGIN:
        return is_login_redirect(response)
    return response.status_code == expected


def describe(response) -> str:
    where = f" -> {response['Location']}" if response.status_code in (301, 302) else ""
    return f"{response.status_code}{where}"
