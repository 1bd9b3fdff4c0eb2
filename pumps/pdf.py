"""The one place that renders PDFs (WeasyPrint). Nothing else imports weasyprint.

Rendering is locked down: the only resources WeasyPrint may load are the app's own static
files (CSS), found through Django's staticfiles finders; http(s), file: and every other scheme
is refused. Fonts are DejaVu from the system package (fonts-dejavu-core), named by family in
the CSS, so every machine draws the same glyphs. A wall-clock guard stops a runaway layout.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from django.utils import translation
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

# Templates reference `{% static %}` paths; they resolve against this host, which never exists.
STATIC_HOST = "itbportal-static.invalid"
BASE_URL = f"https://{STATIC_HOST}/"
RENDER_TIME_LIMIT_SECONDS = 30


class RenderRefused(ValueError):
    """A resource outside the app's static files was asked for."""


class RenderTimeout(Exception):
    """Rendering took longer than RENDER_TIME_LIMIT_SECONDS."""


class _Deadline(BaseException):
    """Raised by the alarm inside WeasyPrint. A BaseException (like WeasyPrint's own
    FatalURLFetchingError) so no `except Exception` in the layout engine swallows it; turned
    into RenderTimeout at the boundary so Celery sees an ordinary task failure."""


def _static_prefix() -> str:
    return "/" + settings.STATIC_URL.strip("/") + "/"


class StaticOnlyURLFetcher(URLFetcher):
    """Serve files found by the staticfiles finders; refuse everything else."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=("https",), allow_redirects=False)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        prefix = _static_prefix()
        if parts.scheme != "https" or parts.netloc != STATIC_HOST or not parts.path.startswith(prefix):
            raise RenderRefused(f"refused to fetch {url!r}: only the app's static files are allowed")
        relative = parts.path[len(prefix) :]
        if not relative or ".." in relative.split("/"):
            raise RenderRefused(f"refused to fetch {url!r}")
        try:
            found = finders.find(relative)
        except SuspiciousFileOperation as exc:
            raise RenderRefused(f"refused to fetch {url!r}") from exc
        if not found:
            raise RenderRefused(f"no static file {relative!r}")
        with open(found, "rb") as fh:
            body = fh.read()
        mime = "text/css" if relative.endswith(".css") else None
        return URLFetcherResponse(url, body, {"Content-Type": mime} if mime else {}, 200)


@contextlib.contextmanager
def _time_limit(seconds: int):
    """SIGALRM guard in the main thread (Celery's prefork workers, manage.py); elsewhere the
    Celery soft_time_limit of the task is the guard."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    fired = []

    def _raise(signum, frame):
        fired.append(True)
        raise _Deadline

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
        # The alarm can land where Python swallows exceptions (a gc callback, a C callback):
        # the render then finishes late, and is still a timeout.
        if fired:
            raise _Deadline
    except _Deadline:
        raise RenderTimeout(f"PDF rendering took longer than {seconds} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@functools.cache
def _font_config() -> FontConfiguration:
    """One font configuration per process: building it (fontconfig's set-up) is a large part of
    a small document's cost, and nothing in it depends on the document."""
    return FontConfiguration()


def render_html(*, template: str, context: dict, language: str, title: str) -> str:
    """The HTML that `render_pdf` lays out (autoescaped Django template, in `language`)."""
    with translation.override(language):
        return render_to_string(template, {**context, "title": title, "language": language})


def render_pdf(*, template: str, context: dict, language: str, title: str) -> bytes:
    """Render `template` to a tagged PDF (PDF/UA-1) with a title and a language.

    The same inputs give the same bytes: the template sets dcterms.created/modified from the
    data (never "now"), and the file identifier is a hash of the content.
    """
    html = render_html(template=template, context=context, language=language, title=title)
    with _time_limit(RENDER_TIME_LIMIT_SECONDS):
        document = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyURLFetcher())
        return document.write_pdf(pdf_variant="pdf/ua-1", pdf_identifier=True, font_config=_font_config())
