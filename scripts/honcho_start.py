"""`make run`'s process manager: honcho, given time for the Celery worker's warm shutdown.

On Ctrl-C honcho sends SIGTERM to web, worker and beat, and SIGKILL to whatever still runs 5 s
later (`honcho.manager.KILL_WAIT`, not an option of its command line), printing "sending SIGKILL
to worker.1". The worker's warm shutdown on `make run`'s filesystem broker takes longer than that
on a busy machine (issue 24; measured at a load average of 26 on 2 cores): its consumer notices
the shutdown only when its poll of the queue folder ends (Celery's loop waits up to 2 s there),
its timer thread after its next 1 s tick, and then the interpreter's teardown of a Django and
Celery process took 3 to 4 s of starved CPU. None of it is the texts' send pool (on SQLite it
sends on the caller's thread and starts no threads). So honcho waits up to 30 s here, and a
worker in the middle of a send finishes it. Usage: python scripts/honcho_start.py start -f Procfile
"""

import sys

import honcho.manager
from honcho.command import main

honcho.manager.KILL_WAIT = 30

if __name__ == "__main__":
    sys.exit(main())
