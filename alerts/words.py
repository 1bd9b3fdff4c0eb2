"""The words of every text, in English and Spanish, written here rather than in locale/.

Rules (docs/rules.md#what-a-text-may-say): no diagnosis, drug, dose or therapy name (not "ITB":
a text on a lock screen must not tell that a child has a baclofen pump); the child by the text name
the family chose, or the initial form unique in the family (`Patient.name_in_texts`); the date, what
to do, and the clinic's phone number. Every text opens with the clinic's short name (the clinic's
`sms_sender_name` setting, e.g. "PCH Rehab"). Pure functions, no Django import.
"""

from __future__ import annotations

from datetime import date, datetime

from patients.text_names import MAX_LENGTH, clinical_words_in

MONTHS = {
    "en": ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"],
    "es": ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"],
}
WEEKDAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "es": ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"],
}

REMINDER_TEXTS = {
    "en": {
        "refill_due": (
            "{sender}: {child}'s pump refill is due by {date}. Please make sure a refill visit "
            "is booked before then. Questions: call {phone}."
        ),
        "alarm": (
            "{sender}: {child}'s pump will beep on {date} because it is getting low. If the refill "
            "is not done before then, call the clinic today: {phone}."
        ),
        "alarm_today": (
            "{sender}: {child}'s pump may beep today, {date}, because it is getting low. "
            "If the refill is not done, call the clinic now: {phone}."
        ),
        "appointment": (
            "{sender}: {child} has a clinic visit on {date} at {time}. Reply C to confirm. "
            "To change it, call {phone}."
        ),
        # A refill visit: the handout's numbing cream goes on an hour before (no drug named).
        "appointment_refill": (
            "{sender}: {child} has a pump refill visit on {date} at {time}. Put the numbing cream "
            "on at {cream}, an hour before. Reply C to confirm. To change it, call {phone}."
        ),
        "overdue": (
            "{sender}: URGENT. {child}'s pump refill is overdue: the pump may be beeping and "
            "will soon be empty. Call the clinic now: {phone}. After hours: {after}."
        ),
        "battery": (
            "{sender}: it is time to plan {child}'s pump replacement (the battery is running "
            "down). Please call the clinic to book it: {phone}."
        ),
    },
    "es": {
        "refill_due": (
            "{sender}: la recarga de la bomba de {child} vence el {date}. Asegúrese de tener una "
            "cita para la recarga antes de esa fecha. Preguntas: llame al {phone}."
        ),
        "alarm": (
            "{sender}: la bomba de {child} va a sonar el {date} porque le queda poco. Si la "
            "recarga no se hace antes, llame hoy a la clínica: {phone}."
        ),
        "alarm_today": (
            "{sender}: la bomba de {child} puede sonar hoy, {date}, porque le queda poco. "
            "Si la recarga no se ha hecho, llame ya a la clínica: {phone}."
        ),
        "appointment": (
            "{sender}: {child} tiene cita en la clínica el {date} a las {time}. Responda C para "
            "confirmar. Para cambiarla, llame al {phone}."
        ),
        "appointment_refill": (
            "{sender}: {child} tiene cita para recargar la bomba el {date} a las {time}. Ponga la "
            "crema para adormecer la piel a las {cream}, una hora antes. Responda C para confirmar. "
            "Para cambiarla, llame al {phone}."
        ),
        "overdue": (
            "{sender}: URGENTE. La recarga de la bomba de {child} está atrasada: la bomba puede "
            "estar sonando y pronto quedará vacía. Llame ya a la clínica: {phone}. Fuera de horario: {after}."
        ),
        "battery": (
            "{sender}: es hora de planear el cambio de la bomba de {child} (la batería se está "
            "agotando). Llame a la clínica para pedir la cita: {phone}."
        ),
    },
}

# When no one clinic can be named (a parent with children at two clinics, a stranger's number).
DEFAULT_SENDER = "Rehab clinic"
DEFAULT_SENDER_ES = "Clínica de rehabilitación"

REPLY_TEXTS = {
    "en": {
        "help": "{sender} reminders. For help call the clinic: {phone}. After hours: {after}. "
        "Reply SIGNS to tell the nurses what you see. Reply STOP to stop texts.",
        # The answer to SIGNS (issue 25): the report page and the number for this hour, nothing
        # clinical (a lock screen).
        "signs": "{sender}: to tell the nurses what you see, open:\n{link}\nTo talk to someone now, "
        "call {phone}. In an emergency call 911.",
        "confirmed": "Thank you. {child}'s clinic visit on {date} at {time} is confirmed.",
        "nothing_to_confirm": "We could not find a visit to confirm. Please call the clinic: {phone}.",
        "unknown": "This number cannot read messages. Please call the clinic: {phone}. "
        "In an emergency call 911.",
        "proof": "{sender}: your code is {code}. Type it on the portal, or read it to the nurse. "
        "If you did not ask for it, ignore this text.",
    },
    "es": {
        "help": "Recordatorios de {sender}. Para ayuda llame a la clínica: {phone}. Fuera de horario: "
        "{after}. Responda SIGNOS para decir a las enfermeras lo que ve. Responda STOP para no "
        "recibir más mensajes.",
        "signs": "{sender}: para decir a las enfermeras lo que ve, abra:\n{link}\nPara hablar con "
        "alguien ahora, llame al {phone}. En una emergencia llame al 911.",
        "confirmed": "Gracias. La cita de {child} el {date} a las {time} está confirmada.",
        "nothing_to_confirm": "No encontramos una cita para confirmar. Llame a la clínica: {phone}.",
        "unknown": "Este número no puede leer mensajes. Llame a la clínica: {phone}. "
        "En una emergencia llame al 911.",
        "proof": "{sender}: su código es {code}. Escríbalo en el portal o díganselo a la enfermera. "
        "Si no lo pidió, no haga caso a este mensaje.",
    },
}


# The ladder (alerts/ladder.py): texts that ask for an answer, and what a call says. Opened with
# the clinic's sender name (`sender_of`) as every reminder is, with its number; never a therapy
# name; the child by its text name.
LADDER_TEXTS = {
    "en": {
        "alarm_near": "{child}'s pump will beep on {date} because it is getting low, and no refill "
        "visit is booked. Please call the clinic to book: {phone}.",
        "alarm_passed": "{child}'s pump alarm date ({date}) has passed and no refill is recorded. "
        "Call the clinic now: {phone}.",
        "refill_overdue": "{child}'s pump refill was due by {date} and no visit is booked. Please call "
        "the clinic to book: {phone}.",
        "eri": "{child}'s pump battery is running down and the replacement must be booked. Please call "
        "the clinic: {phone}.",
        "ask": " Reply 1 if you have booked, 2 to be called.",
        "say_prompt": "Press 1 if you heard this message. To speak to a nurse, call {phone}.",
        "say_intro": "Hello. This is a message from {sender}, your child's clinic. ",
        "say_goodbye": "We will try again later. Goodbye.",
        "say_thanks": "Thank you. The clinic will know you heard this message. Goodbye.",
        "answer_booked": "Thank you. We have noted that you booked. If you need help call {phone}.",
        "answer_call_me": "Thank you. A nurse will call you today. In an emergency call 911.",
    },
    "es": {
        "alarm_near": "La bomba de {child} va a sonar el {date} porque le queda poco, y no hay cita de "
        "recarga. Llame a la clínica para pedirla: {phone}.",
        "alarm_passed": "La fecha de alarma de la bomba de {child} ({date}) ya pasó y no hay recarga "
        "registrada. Llame ya a la clínica: {phone}.",
        "refill_overdue": "La recarga de la bomba de {child} vencía el {date} y no hay cita. Llame a la "
        "clínica para pedirla: {phone}.",
        "eri": "La batería de la bomba de {child} se está agotando y hay que programar el cambio. Llame "
        "a la clínica: {phone}.",
        "ask": " Responda 1 si ya tiene cita, 2 para que le llamemos.",
        "say_prompt": "Marque 1 si escuchó este mensaje. Para hablar con una enfermera, llame al {phone}.",
        "say_intro": "Hola. Este es un mensaje de {sender}, la clínica de su hijo. ",
        "say_goodbye": "Volveremos a intentarlo más tarde. Adiós.",
        "say_thanks": "Gracias. La clínica sabrá que escuchó este mensaje. Adiós.",
        "answer_booked": "Gracias. Anotamos que ya tiene cita. Si necesita ayuda llame al {phone}.",
        "answer_call_me": "Gracias. Una enfermera le llamará hoy. En una emergencia llame al 911.",
    },
}


def ladder_text(
    *, danger: str, language: str, child: str, day: date | None, phone: str, sender: str = ""
) -> str:
    """A ladder text: the clinic's name, what is wrong and what to do, then the question (reply 1
    or 2)."""
    words = LADDER_TEXTS[language_of(language)]
    body = words[danger].format(
        child=child_name(child), date=format_date(day, language) if day else "", phone=phone
    )
    return f"{sender or default_sender(language)}: {body}{words['ask']}"


def ladder_call_words(
    *, danger: str, language: str, child: str, day: date | None, phone: str, sender: str = ""
) -> dict:
    """What a ladder call says: message, prompt (press 1) and goodbye, in the caregiver's language."""
    words = LADDER_TEXTS[language_of(language)]
    body = words[danger].format(
        child=child_name(child), date=format_date(day, language) if day else "", phone=phone
    )
    return {
        "message": words["say_intro"].format(sender=sender or default_sender(language)) + body,
        "prompt": words["say_prompt"].format(phone=phone),
        "goodbye": words["say_goodbye"],
    }


def ladder_reply(key: str, *, language: str, phone: str = "", sender: str = "") -> str:
    """The answer to a reply 1 or 2, opened with the clinic's sender name."""
    opening = sender or default_sender(language)
    return f"{opening}: " + LADDER_TEXTS[language_of(language)][key].format(phone=phone)


def child_name(name: str) -> str:
    """The child's text name as given (`Patient.name_in_texts`, checked when the family typed it);
    should anything longer or clinical reach here, only its first letter goes out."""
    name = (name or "").strip()
    if not name or len(name) > MAX_LENGTH or clinical_words_in(name):
        return (name[:1] or "?").upper() + "."
    return name


def language_of(code: str) -> str:
    return code if code in REMINDER_TEXTS else "en"


def format_date(day: date, language: str) -> str:
    """'Mon Dec 7' / 'lun 7 dic': short, unambiguous, no locale files needed."""
    language = language_of(language)
    weekday = WEEKDAYS[language][day.weekday()]
    month = MONTHS[language][day.month - 1]
    if language == "es":
        return f"{weekday} {day.day} {month}"
    return f"{weekday} {month} {day.day}"


def format_time(moment: datetime, language: str) -> str:
    if language_of(language) == "es":
        return moment.strftime("%H:%M")
    return moment.strftime("%I:%M %p").lstrip("0")


def reminder_text(
    *,
    kind: str,
    language: str,
    child: str,
    target: date,
    phone: str,
    after_hours: str = "",
    offset_days: int = 1,
    local_start: datetime | None = None,
    local_cream: datetime | None = None,
    sender: str = "",
) -> str:
    """The text of one reminder. `local_start` is the appointment's start in clinic time, and
    `local_cream` when the numbing cream goes on (a refill appointment's)."""
    language = language_of(language)
    if kind == "alarm" and offset_days == 0:
        kind = "alarm_today"
    if kind == "appointment" and local_cream:
        kind = "appointment_refill"
    template = REMINDER_TEXTS[language][kind]
    return template.format(
        child=child_name(child),
        date=format_date(target, language),
        time=format_time(local_start, language) if local_start else "",
        cream=format_time(local_cream, language) if local_cream else "",
        phone=phone,
        sender=sender or default_sender(language),
        after=after_hours or phone,
    )


def reply_text(key: str, *, language: str, sender: str = "", **values: str) -> str:
    if "child" in values:
        values["child"] = child_name(values["child"])
    opening = sender or default_sender(language)
    return REPLY_TEXTS[language_of(language)][key].format(sender=opening, **values)


def proof_text(code: str, *, language: str, sender: str = "") -> str:
    """The text that carries a code to prove a mobile number."""
    return reply_text("proof", language=language, sender=sender, code=code)


def default_sender(language: str) -> str:
    """The neutral name a text opens with when no clinic can be named, in the reader's language."""
    return DEFAULT_SENDER_ES if language_of(language) == "es" else DEFAULT_SENDER


def sender_of(clinic, language: str = "en") -> str:
    """The name a text opens with, in the reader's language: the clinic's short name (its Spanish
    form for a Spanish reader; a clinic that kept the neutral English name gets the neutral
    Spanish one, and a brand name with no Spanish form stays as it is), or a neutral one."""
    english = (getattr(clinic, "sms_sender_name", "") or DEFAULT_SENDER).strip()[:30]
    if language_of(language) != "es":
        return english
    spanish = (getattr(clinic, "sms_sender_name_es", "") or "").strip()[:30]
    return spanish or (DEFAULT_SENDER_ES if english == DEFAULT_SENDER else english)
