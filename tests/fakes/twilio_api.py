"""A local fake of Twilio's Messages and Calls APIs, for the real twilio SDK to talk to.

Implements POST /2010-04-01/Accounts/<sid>/Messages.json and .../Calls.json with HTTP basic auth,
answering with Twilio-shaped JSON. Every request is checked against Twilio's own request schema
(twilio_v2010_create.json, copied from Twilio's OpenAPI description): an unknown parameter, a
missing required one, or a value of the wrong type or pattern is answered 400, as Twilio would.
Tell it how to answer the next requests with `fail_next(...)`:
  "ok" | 500 | 503 | 429 | "timeout" (sleeps past the client's timeout, then answers 201) |
  "reset" (closes the connection without an answer: the client sees it dropped) |
  ("error", 400, 21610) | ("hang", seconds) (answers 201 after a delay) |
  ("reply", {"status": "failed", "error_code": 30003, "from": "whatsapp:+14155238886", ...})
  (answers 201 with these fields of the message or call changed).
`fail_share(share, actions, seed)` answers that share of all later requests with one of `actions`
(chosen by a seeded random), once the planned ones are used up.
Every text request that reached it is kept in `requests` (even the ones answered with an error;
`most_in_flight`: the most it was answering at once),
the accepted ones in `accepted` (and the messages it answered with in `messages`); calls likewise
in `call_requests` and `calls`. Schema errors are
kept in `invalid`.

GET .../Messages.json lists the accepted messages as Twilio does: newest first, filtered by `To`,
`From` and `DateSent`/`DateSent>`/`DateSent<` (Twilio compares the GMT day only, and a message
still queued has no DateSent, so a day filter leaves it out), one page of `PageSize` (default 50)
in Twilio's page envelope. A message counts as handed to the carrier (status sent, DateSent set)
the moment it is accepted, unless `keep_queued` is set: then it stays queued with no DateSent.
List requests are kept in `list_requests`; `lists_failing = n` answers the next n with 503.
"""

from __future__ import annotations

import base64
import json
import random
import re
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

SCHEMAS = json.loads((Path(__file__).parent / "twilio_v2010_create.json").read_text())["paths"]

ERROR_MESSAGES = {
    21610: "Attempt to send to unsubscribed recipient",
    21211: "The 'To' number is not a valid phone number.",
    21614: "'To' number is not a valid mobile number",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
}


# Twilio's codes for a request without a sender (Messages: 21603, Calls: 21213); any other
# schema problem is answered with the generic 21201.
MISSING_FROM = {"Messages": 21603, "Calls": 21213}


class FakeTwilio:
    def __init__(self, *, account_sid: str, auth_token: str, timeout_sleep: float = 3.0):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.timeout_sleep = timeout_sleep
        self.requests: list[dict] = []
        self.accepted: list[dict] = []
        self.messages: list[dict] = []
        self.keep_queued = False
        self.list_requests: list[dict] = []
        self.lists_failing = 0  # answer this many list requests 503 (Twilio's own trouble)
        self.call_requests: list[dict] = []
        self.calls: list[dict] = []
        self.invalid: list[str] = []
        self.plan: deque = deque()
        self.in_flight = self.most_in_flight = 0  # text requests being answered at once
        self.share, self.share_actions, self.random = 0.0, (), random.Random(0)
        self.arrived = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeTwilio:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_next(self, *actions) -> None:
        with self._lock:
            self.plan.extend(actions)

    def fail_share(self, share: float, actions, *, seed: int = 0) -> None:
        with self._lock:
            self.share, self.share_actions, self.random = share, tuple(actions), random.Random(seed)

    def _next_action(self):
        with self._lock:
            if self.plan:
                return self.plan.popleft()
            if self.share and self.random.random() < self.share:
                return self.random.choice(self.share_actions)
            return "ok"

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            # The answer goes as two writes (headers, then body). With Nagle's algorithm on, the
            # body waits for the client's ACK of the headers, which Linux delays up to 40 ms on a
            # keep-alive connection: every text answered 40 ms late, whatever the latency asked.
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                path, _, query = self.path.partition("?")
                if not re.fullmatch(rf"/2010-04-01/Accounts/{fake.account_sid}/Messages\.json", path):
                    return self._json(404, {"code": 20404, "message": "Not found", "status": 404})
                if not fake._authorised(self.headers.get("Authorization", "")):
                    return self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
                with fake._lock:
                    fake.list_requests.append(params)
                    failing = fake.lists_failing > 0
                    fake.lists_failing -= failing
                if failing:
                    return self._json(503, {"code": 20503, "message": "Service unavailable", "status": 503})
                with fake._lock:
                    found = [m for m in reversed(fake.messages) if _listed(m, params)]
                size = int(params.get("PageSize") or 50)
                return self._json(
                    200,
                    {
                        "messages": found[:size],
                        "end": min(size, len(found)) - 1,
                        "first_page_uri": self.path,
                        "next_page_uri": None,
                        "page": 0,
                        "page_size": size,
                        "previous_page_uri": None,
                        "start": 0,
                        "uri": self.path,
                    },
                )

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
                form = {k: v[0] for k, v in raw.items()}
                match = re.fullmatch(
                    rf"/2010-04-01/Accounts/{fake.account_sid}/(Messages|Calls)\.json", self.path
                )
                if not match:
                    return self._json(404, {"code": 20404, "message": "Not found", "status": 404})
                if not fake._authorised(self.headers.get("Authorization", "")):
                    return self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                resource = match.group(1)
                problem = schema_problem(resource, raw)
                if problem:
                    with fake._lock:
                        fake.invalid.append(problem)
                    code = MISSING_FROM[resource] if problem == "Missing required parameter From" else 21201
                    return self._json(400, {"code": code, "message": problem, "status": 400})
                with fake._lock:
                    (fake.requests if resource == "Messages" else fake.call_requests).append(form)
                fake.arrived.set()
                action = fake._next_action()
                with fake._lock:
                    fake.in_flight += 1
                    fake.most_in_flight = max(fake.most_in_flight, fake.in_flight)
                try:
                    if action == "timeout":
                        time.sleep(fake.timeout_sleep)
                    elif isinstance(action, tuple) and action[0] == "hang":
                        time.sleep(action[1])
                    elif action == "reset":
                        self.close_connection = True
                        return  # the connection closes with no answer (a reset, to the client)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1
                if isinstance(action, int):
                    return self._json(
                        action,
                        {
                            "code": 20500 if action >= 500 else 20429,
                            "message": "Try later",
                            "status": action,
                            "more_info": "",
                        },
                    )
                if isinstance(action, tuple) and action[0] == "error":
                    _, status, code = action
                    return self._json(
                        status,
                        {
                            "code": code,
                            "message": ERROR_MESSAGES.get(code, "Error"),
                            "more_info": f"https://www.twilio.com/docs/errors/{code}",
                            "status": status,
                        },
                    )
                message = fake._message(form) if resource == "Messages" else fake._call(form)
                if isinstance(action, tuple) and action[0] == "reply":
                    message.update(action[1])
                with fake._lock:
                    (fake.accepted if resource == "Messages" else fake.calls).append(form)
                    if resource == "Messages":
                        fake.messages.append(fake._listed_copy(message))
                return self._json(201, message)

            def _json(self, status, payload):
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        return Handler

    def _authorised(self, header: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return header == f"Basic {expected}"

    def _message(self, form: dict) -> dict:
        sid = "SM" + uuid.uuid4().hex
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        return {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": form.get("Body", ""),
            "date_created": now,
            "date_sent": None,
            "date_updated": now,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if form.get("MessagingServiceSid") else "queued",
            "subresource_uris": {
                "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
            },
            "to": form.get("To"),
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }

    def _listed_copy(self, message: dict) -> dict:
        """The message as a later list shows it: handed to the carrier, unless kept queued."""
        listed = dict(message)
        if not self.keep_queued and listed["status"] in ("queued", "accepted"):
            listed.update(status="sent", date_sent=listed["date_created"])
        return listed

    def _call(self, form: dict) -> dict:
        sid = "CA" + uuid.uuid4().hex
        now = time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime())
        return {
            "account_sid": self.account_sid,
            "answered_by": None,
            "api_version": "2010-04-01",
            "caller_name": None,
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "duration": None,
            "end_time": None,
            "forwarded_from": None,
            "from": form.get("From"),
            "from_formatted": form.get("From"),
            "group_sid": None,
            "parent_call_sid": None,
            "phone_number_sid": None,
            "price": None,
            "price_unit": "USD",
            "queue_time": "0",
            "sid": sid,
            "start_time": None,
            "status": "queued",
            "subresource_uris": {
                "recordings": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}/Recordings.json"
            },
            "to": form.get("To"),
            "to_formatted": form.get("To"),
            "trunk_sid": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
        }


def _gmt_day(value: str) -> str:
    """The GMT day (YYYY-MM-DD) of an RFC 2822 date or an ISO 8601 one, as Twilio compares them."""
    from email.utils import parsedate_to_datetime

    if re.match(r"\d{4}-\d{2}-\d{2}", value):
        return value[:10]
    return parsedate_to_datetime(value).strftime("%Y-%m-%d")


def _listed(message: dict, params: dict) -> bool:
    """Whether a list request with these filters shows this message (Twilio's rules)."""
    if "To" in params and message["to"] != params["To"]:
        return False
    if "From" in params and message["from"] != params["From"]:
        return False
    for name, keep in (
        ("DateSent", lambda day, ref: day == ref),
        ("DateSent>", lambda day, ref: day >= ref),
        ("DateSent<", lambda day, ref: day <= ref),
    ):
        if name in params:
            if not message["date_sent"]:
                return False
            if not keep(_gmt_day(message["date_sent"]), _gmt_day(params[name])):
                return False
    return True


def _value_problem(name: str, value: str, spec: dict) -> str:
    kind = spec.get("type")
    if kind == "integer" and not re.fullmatch(r"-?\d+", value):
        return f"{name} must be an integer"
    if kind == "boolean" and value.lower() not in ("true", "false"):
        return f"{name} must be true or false"
    if kind == "number" and not re.fullmatch(r"-?\d+(\.\d+)?", value):
        return f"{name} must be a number"
    if "enum" in spec and value not in spec["enum"]:
        return f"{name} must be one of {spec['enum']}"
    if "pattern" in spec and not re.search(spec["pattern"], value):
        return f"{name} does not match {spec['pattern']}"
    if spec.get("format") == "uri" and not re.match(r"https?://", value):
        return f"{name} must be an absolute URL"
    return ""


def schema_problem(resource: str, raw: dict[str, list[str]]) -> str:
    """Why this request would not fit Twilio's request schema ("" when it does)."""
    schema = SCHEMAS[resource]
    props = schema["properties"]
    for name in schema["required"]:
        if not raw.get(name, [""])[0]:
            return f"Missing required parameter {name}"
    if resource == "Calls" and not any(raw.get(k) for k in ("Url", "Twiml", "ApplicationSid")):
        return "One of Url, Twiml or ApplicationSid is required"  # Twilio's rule for a call
    for name, values in raw.items():
        if name not in props:
            return f"Unknown parameter {name}"
        spec = props[name]
        if spec.get("type") != "array" and len(values) > 1:
            return f"{name} given more than once"
        item = spec.get("items", {}) if spec.get("type") == "array" else spec
        for value in values:
            problem = _value_problem(name, value, item)
            if problem:
                return problem
    return ""
