"""The TwiML of a ladder call: the message spoken in the caregiver's language, inside a <Gather>
where pressing 1 confirms. Pure functions, no Django import; every piece of text is escaped."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

# Twilio <Say> language codes for the languages the portal speaks.
SAY_LANGUAGE = {"en": "en-US", "es": "es-US"}
HEAD = '<?xml version="1.0" encoding="UTF-8"?><Response>'


def _say(text: str, language: str) -> str:
    return f"<Say language={quoteattr(SAY_LANGUAGE.get(language, 'en-US'))}>{escape(text)}</Say>"


def call_twiml(*, message: str, prompt: str, goodbye: str, language: str, gather_url: str) -> str:
    """Say the message and the prompt, wait for one key; say both once more if nothing was
    pressed (a message that starts before the phone reaches an ear is half heard); then goodbye."""
    gather = (
        f'<Gather numDigits="1" timeout="8" method="POST" action={quoteattr(gather_url)}>'
        f"{_say(message, language)}{_say(prompt, language)}</Gather>"
    )
    return f"{HEAD}{gather}{gather}{_say(goodbye, language)}</Response>"


def say_twiml(text: str, *, language: str) -> str:
    """The answer to a key press: say one thing and hang up."""
    return f"{HEAD}{_say(text, language)}<Hangup/></Response>"
