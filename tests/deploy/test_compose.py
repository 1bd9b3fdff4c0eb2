"""The production shape, without a Docker engine: parse docker-compose.yml and start each app
service's own command (gunicorn, celery worker, celery beat) as a local process, with the
environment the compose file gives it, pointed at this machine's PostgreSQL and Redis."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DB_NAME = "itbportal_compose_smoke"
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _expand(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR:-default} and ${VAR:?message} interpolation."""

    def sub(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            raise AssertionError(f"compose needs {name}: {arg}")
        return arg

    return re.sub(r"\$\{(\w+)(:-|:\?)?([^}]*)\}", sub, value)


# The passwords the compose file asks for (.env), here for the smoke test's own app role.
SECRETS = {"SECRET_KEY": "x" * 50, "POSTGRES_PASSWORD": "smoke-superuser", "APP_DB_PASSWORD": "smoke-app"}


def service_env(name: str, outer: dict[str, str]) -> dict[str, str]:
    service = COMPOSE["services"][name]
    env = {k: _expand(str(v), outer) for k, v in service["environment"].items()}
    # The compose network's host names are this machine's services: the migrate service as this
    # machine's superuser, the app services as the app role the migrate service made.
    user = env["DATABASE_URL"].split("//", 1)[1].split(":", 1)[0]
    if user == "itbportal":
        env["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
    else:
        env["DATABASE_URL"] = f"postgres://{user}:{outer['APP_DB_PASSWORD']}@127.0.0.1:5432/{DB_NAME}"
    # No backup service here (tests/deploy/test_backup_restore.py tests it): nothing to read.
    env.pop("BACKUP_INFO_FILE", None)
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/14"
    env["REDIS_URL"] = env["CELERY_BROKER_URL"] = redis_url
    return env


BEAT_SCHEDULE = "/tmp/celerybeat-schedule"


def service_command(name: str, port: int, var_dir: str | None = None) -> list[str]:
    """The service's compose command, bound to `port`. Beat's schedule file goes under `var_dir`:
    in a container /tmp is the service's own, here it is the machine's, and a schedule left by a
    run at a later hour (CI runs the suite again under faketime at 03:00) holds every task back."""
    command = COMPOSE["services"][name]["command"]
    if command[:2] == ["sh", "-c"]:
        command = command[2].replace("0.0.0.0:8000", f"127.0.0.1:{port}")
        return ["sh", "-c", command]
    if var_dir and BEAT_SCHEDULE in command:
        return [part.replace(BEAT_SCHEDULE, f"{var_dir}/celerybeat-schedule") for part in command]
    return command


@pytest.fixture
def compose_env(tmp_path):
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    outer = {
        **SECRETS,
        "SECRET_KEY": "compose-smoke-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SMS_BACKEND": "console",
        "VOICE_BACKEND": "console",
        "PATH": str(ROOT / ".venv" / "bin") + os.pathsep + os.environ["PATH"],
    }
    env = {**os.environ, **outer}
    for key in ("DEBUG", "DATABASE_URL", "CELERY_BROKER_URL", "SMS_BACKEND", "VOICE_BACKEND"):
        env.pop(key, None)
    for key in ("SECURE_SSL_REDIRECT",):
        env.pop(key, None)
    env.update(outer)
    env["ITB_VAR_DIR"] = str(tmp_path / "var")
    env["MEDIA_ROOT"] = str(tmp_path / "media")
    return env


def _start(name: str, env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    service_vars = service_env(name, env)
    service_vars["MEDIA_ROOT"] = env["MEDIA_ROOT"]
    full = {**env, **service_vars}
    # The image collects static files at build time; do the same before gunicorn starts.
    if name == "web":
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=full, check=True
        )
    os.makedirs(env["ITB_VAR_DIR"], exist_ok=True)
    return subprocess.Popen(
        service_command(name, port, env["ITB_VAR_DIR"]),
        cwd=ROOT,
        env=full,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


CREATE_DUE_REMINDER = """
import datetime
from django.utils import timezone
from alerts.models import Reminder
from tests.factories import CaregiverLinkFactory, PatientFactory
# No quiet hours: the smoke test sends at whatever hour it runs (CI runs at night too).
link = CaregiverLinkFactory(patient=PatientFactory(), caregiver__quiet_hours_start=datetime.time(0),
    caregiver__quiet_hours_end=datetime.time(0))
r = Reminder.objects.create(patient=link.patient, caregiver=link.caregiver, kind="refill_due",
    target_date=timezone.localdate(), offset_days=0, send_after=timezone.now())
print(r.pk)
"""


def _manage(env: dict[str, str], *args: str) -> str:
    full = {**env, **service_env("worker", env)}
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def _a_reminder_goes_through(env: dict[str, str]) -> None:
    """A due reminder in the database is claimed by the sweep and sent by the worker."""
    pk = _manage(env, "shell", "-c", CREATE_DUE_REMINDER)
    full = {**env, **service_env("worker", env)}
    subprocess.run(
        ["celery", "-A", "itbportal", "call", "alerts.tasks.sweep"], cwd=ROOT, env=full, check=True
    )
    status = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and status not in ("sent", "delivered"):
        time.sleep(1)
        status = _manage(
            env,
            "shell",
            "-c",
            f"from alerts.models import Reminder; print(Reminder.objects.get(pk={pk}).status)",
        )
    assert status in ("sent", "delivered"), f"the reminder is {status!r}"


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def test_compose_services_start_and_the_portal_reports_healthy(compose_env, tmp_path):
    assert {"proxy", "postgres", "redis", "migrate", "web", "worker", "beat", "backup"} <= set(
        COMPOSE["services"]
    )
    for name in ("web", "worker", "beat", "postgres", "redis", "backup"):
        assert "healthcheck" in COMPOSE["services"][name], f"{name} has no health check"
    port = _free_port()
    procs = {}
    # The migrate service first, as the compose file orders it: migrations, then the app role.
    migrate = _start("migrate", compose_env, port, tmp_path / "migrate.log")
    assert migrate.wait(timeout=300) == 0, (tmp_path / "migrate.log").read_text()[-3000:]
    try:
        for name in ("web", "worker", "beat"):
            procs[name] = _start(name, compose_env, port, tmp_path / f"{name}.log")
        deadline = time.monotonic() + 120
        status, body = 0, {}
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz")
            except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
                status = 0
            if status == 200:
                break
            for name, proc in procs.items():
                assert proc.poll() is None, (
                    f"{name} exited:\n" + (tmp_path / f"{name}.log").read_text()[-3000:]
                )
            time.sleep(2)
        logs = {n: (tmp_path / f"{n}.log").read_text()[-2000:] for n in procs}
        assert status == 200, f"/healthz said {status} {body}\n{logs}"
        # As the TLS proxy in front of it would ask (the compose file trusts one proxy).
        static = urllib.request.Request(
            f"http://127.0.0.1:{port}/static/css/portal.css", headers={"X-Forwarded-Proto": "https"}
        )
        with urllib.request.urlopen(static, timeout=5) as response:
            assert response.status == 200  # whitenoise serves the static files
        _a_reminder_goes_through(compose_env)
    finally:
        for proc in procs.values():
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def test_compose_expansion_refuses_a_missing_secret():
    with pytest.raises(AssertionError, match="SECRET_KEY"):
        service_env("web", {})


def test_beat_keeps_its_schedule_in_the_run_s_own_folder(tmp_path):
    command = service_command("beat", 0, str(tmp_path))
    assert f"{tmp_path}/celerybeat-schedule" in command
    assert BEAT_SCHEDULE not in command


def test_shlex_roundtrip_of_the_web_command_binds_where_asked():
    command = service_command("web", 8123)
    assert "127.0.0.1:8123" in shlex.join(command)


def test_a_tls_proxy_fronts_gunicorn_whose_port_is_not_published():
    services = COMPOSE["services"]
    proxy = services["proxy"]
    assert proxy["image"].startswith("caddy:") and "healthcheck" in proxy
    assert any(str(port).startswith("443:") for port in proxy["ports"])
    assert "ports" not in services["web"], "gunicorn's port must not be published past the proxy"
    assert all("ports" not in services[name] for name in ("worker", "beat", "postgres", "redis"))
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    mount = next(v for v in proxy["volumes"] if v.endswith(":/etc/caddy/Caddyfile:ro"))
    assert (ROOT / mount.split(":")[0]).resolve() == (ROOT / "deploy" / "Caddyfile").resolve()
    assert "tls {$TLS_MODE:internal}" in caddyfile  # a local certificate in development
    assert "reverse_proxy web:8000" in caddyfile
    assert "header_up X-Forwarded-For {remote_host}" in caddyfile  # the client's header is replaced


def test_forwarded_for_is_trusted_only_from_the_proxys_configured_address():
    import ipaddress

    proxy_address = COMPOSE["services"]["proxy"]["networks"]["default"]["ipv4_address"]
    subnet = COMPOSE["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(proxy_address) in ipaddress.ip_network(subnet)
    for name in ("web", "worker", "beat"):
        env = service_env(name, SECRETS)
        assert env["TRUSTED_PROXY_COUNT"] == "1"
        assert env["TRUSTED_PROXY_ADDRESSES"] == proxy_address


def test_production_calls_families_through_twilio_and_the_web_start_assesses_every_child():
    env = COMPOSE["services"]["web"]["environment"]
    assert service_env("web", SECRETS)["VOICE_BACKEND"] == "twilio"
    assert "TWILIO_VOICE_FROM_NUMBER" in env
    command = " ".join(COMPOSE["services"]["web"]["command"])
    assert command.index("safety_refresh") < command.index("gunicorn")
    migrate = " ".join(COMPOSE["services"]["migrate"]["command"])
    assert migrate.index("migrate --noinput") < migrate.index("app_role")
    for name in ("web", "worker", "beat"):
        assert COMPOSE["services"][name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }


def test_the_app_connects_as_its_own_role_and_the_superuser_only_migrates_and_backs_up():
    services = COMPOSE["services"]
    superuser = services["postgres"]["environment"]["POSTGRES_USER"]
    for name in ("web", "worker", "beat"):
        url = services[name]["environment"]["DATABASE_URL"]
        assert url.startswith("postgres://itbportal_app:"), url
    assert services["migrate"]["environment"]["DATABASE_URL"].startswith(f"postgres://{superuser}:")
    assert services["migrate"]["environment"]["APP_DB_USER"] == "itbportal_app"
    assert services["backup"]["environment"]["PGUSER"] == superuser


def test_wal_is_archived_through_pgbackrest_and_backups_are_encrypted_and_scheduled():
    services = COMPOSE["services"]
    command = services["postgres"]["command"]
    settings = dict(part.split("=", 1) for part in command if "=" in part)
    assert settings["archive_mode"] == "on" and settings["archive_timeout"] == "60"
    assert settings["archive_command"] == "pgbackrest --stanza=itbportal archive-push %p"
    for name in ("postgres", "backup"):
        env = services[name]["environment"]
        assert env["BACKUP_CIPHER_PASS"].startswith("${BACKUP_CIPHER_PASS:?"), "the passphrase is required"
        assert "pgbackrest:/var/lib/pgbackrest" in services[name]["volumes"]
    assert services["backup"]["command"] == ["schedule"]
    assert services["backup"]["image"] == services["postgres"]["image"]
    # The web reads pgBackRest's info that the backup service writes, read-only.
    assert "backupinfo:/var/lib/itb-backup-info:ro" in services["web"]["volumes"]
    assert services["web"]["environment"]["BACKUP_INFO_FILE"].startswith("/var/lib/itb-backup-info/")
