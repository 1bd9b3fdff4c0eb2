"""The local fake Twilio of the tests (tests/fakes/twilio_api.py), run as its own process for the
sweep benchmark: every text is answered after LATENCY seconds (a real provider's round trip),
over keep-alive HTTP/1.1 as Twilio's API is.

    python -m tests.benchmarks.fake_twilio PORT LATENCY ACCOUNT_SID AUTH_TOKEN

Its own process, so its CPU is not counted in the sending worker's. Stops on SIGTERM.
"""

from __future__ import annotations

import signal
import sys
import threading

from tests.fakes.twilio_api import FakeTwilio


class SlowTwilio(FakeTwilio):
    """Answers every request after `latency` seconds unless told otherwise (fail_next)."""

    def __init__(self, *, latency: float, port: int, **kwargs):
        super().__init__(**kwargs)
        self.latency = latency
        self.server.server_close()  # re-bind on the port asked for
        handler = self.server.RequestHandlerClass
        handler.protocol_version = "HTTP/1.1"  # keep-alive: the SDK's session reuses connections
        server_class = type(
            "Server", (type(self.server),), {"request_queue_size": 512, "daemon_threads": True}
        )
        self.server = server_class(("127.0.0.1", port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _next_action(self):
        with self._lock:
            if self.plan:
                return self.plan.popleft()
        return ("hang", self.latency)


def main(argv: list[str]) -> None:
    port, latency, sid, token = int(argv[0]), float(argv[1]), argv[2], argv[3]
    fake = SlowTwilio(latency=latency, port=port, account_sid=sid, auth_token=token).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    print(f"fake Twilio on {fake.base_url}, {latency * 1000:.0f} ms per text", flush=True)
    done.wait()
    fake.stop()
    print(f"accepted {len(fake.accepted)} texts", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
