"""A logging filter that keeps health data out of the logs.

Django attaches the request to error records (record.request); handlers such as AdminEmailHandler
would print its POST body. The filter drops it, renders the message and any traceback itself, and
masks phone numbers in them. Attached to every handler in settings.LOGGING.
"""

from __future__ import annotations

import logging
import re

# E.164 (+18015550123) and North American forms (801-555-0123, (801) 555 0123, 801.555.0123).
PHONE = re.compile(r"\+\d{8,15}\b|(?<!\d)\(?\d{3}\)?[\s.-]?\d{3}[\s.-]\d{4}\b")


def mask(text: str) -> str:
    return PHONE.sub("[phone]", text)


class NoHealthDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "request"):
            record.request = None
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call must not hide the rest of the line
            message = str(record.msg)
        record.msg = mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True
