"""Stop the test run, in plain words, when PostgreSQL or Redis cannot be reached.

The tests use both for real (locking, constraints, Celery delivery); they are never skipped.
"""

import os
import sys

import psycopg
import redis


def main() -> int:
    db_url = os.environ["DATABASE_URL"]
    redis_url = os.environ["REDIS_URL"]
    problems = []
    try:
        url = db_url.replace("postgres://", "postgresql://", 1)
        with psycopg.connect(url, dbname="postgres", connect_timeout=5, autocommit=True) as conn:
            name = url.rsplit("/", 1)[-1].split("?")[0]
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                # makemigrations --check reads the migration history from this database.
                conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001 - any failure means "cannot reach it"
        problems.append(
            f"PostgreSQL is not reachable at {db_url} ({exc.__class__.__name__}).\n"
            "  Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"
            "  or set DATABASE_URL to a server you can reach."
        )
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=5).ping()
    except Exception as exc:  # noqa: BLE001
        problems.append(
            f"Redis is not reachable at {redis_url} ({exc.__class__.__name__}).\n"
            "  Start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379\n"
            "  or set REDIS_URL to a server you can reach."
        )
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
