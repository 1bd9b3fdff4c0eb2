"""A local fake of Twilio's Messages API, for the real twilio SDK to talk to.

Implements POST /2010-04-01/Accounts/<sid>/Messages.json with HTTP basic auth, answering with
Twilio-shaped JSON. Tell it how to answer the next requests with `fail_next(...)`:
  "ok" | 500 | 503 | 429 | "timeout" (sleeps past the client's timeout, then answers 201) |
  ("error", 400, 21610) | ("hang", seconds) (answers 201 after a delay) |
  ("reply", {"status": "failed", "error_code": 30003, "from": "whatsapp:+14155238886", ...})
  (answers 201 with these fields of the message changed).
`fail_share(share, actions, seed)` answers that share of all later requests with one of `actions`
(chosen by a seeded random), once the planned ones are used up.
Every request that reached it is kept in `requests` (even the ones answered with an error).
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
import uuid
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ERROR_MESSAGES = {
    21610: "Attempt to send to unsubscribed recipient",
    21211: "The 'To' number is not a valid phone number.",
    21614: "'To' number is not a valid mobile number",
    21408: "Permission to send an SMS has not been enabled for the region indicated by the 'To' number",
}


class FakeTwilio:
    def __init__(self, *, account_sid: str, auth_token: str, timeout_sleep: float = 3.0):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.timeout_sleep = timeout_sleep
        self.requests: list[dict] = []
        self.accepted: list[dict] = []
        self.plan: deque = deque()
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
            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                expected_path = f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"
                if self.path != expected_path:
                    return self._json(404, {"code": 20404, "message": "Not found", "status": 404})
                if not fake._authorised(self.headers.get("Authorization", "")):
                    return self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
                with fake._lock:
                    fake.requests.append(form)
                fake.arrived.set()
                action = fake._next_action()
                if action == "timeout":
                    time.sleep(fake.timeout_sleep)
                elif isinstance(action, tuple) and action[0] == "hang":
                    time.sleep(action[1])
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
                message = fake._message(form)
                if isinstance(action, tuple) and action[0] == "reply":
                    message.update(action[1])
                with fake._lock:
                    fake.accepted.append(form)
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
