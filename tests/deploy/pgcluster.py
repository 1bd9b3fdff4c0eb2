"""A throw-away PostgreSQL cluster and a pgBackRest repository in a temporary folder, for the
restore test and the backup drill: the machine's PostgreSQL binaries and Debian's pgbackrest,
run as the `postgres` user when the suite runs as root (initdb refuses root), and always on the
real clock (without libfaketime), as a deployment's would be."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.alerts.processes import real_clock_env

ROOT = Path(__file__).resolve().parents[2]
STANZA = "itbportal"
CONF_SCRIPT = ROOT / "deploy" / "backup" / "pgbackrest-conf.sh"
ITB_BACKUP = ROOT / "deploy" / "backup" / "itb-backup.sh"


def postgres_bin() -> Path:
    """The newest PostgreSQL server binaries on this machine (/usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
    return Path(found[-1]).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres() -> dict:
    """Popen arguments that drop root for the postgres user (initdb and postgres refuse root)."""
    if os.geteuid() != 0:
        return {}
    return {"user": "postgres", "group": "postgres", "extra_groups": []}


def runas_postgres(args: list[str], env: dict, timeout: float, cwd: Path, log: Path | None = None) -> str:
    """Runs a command as the postgres user (when root) in `cwd`, a folder that user owns (the
    checkout may sit where it cannot look), and returns its output; fails loudly."""
    done = subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, **as_postgres()
    )
    if done.returncode != 0:
        tail = log.read_text()[-3000:] if log and log.exists() else ""
        raise RuntimeError(
            f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}\n{tail}"
        )
    return done.stdout


class Workspace:
    """A temporary folder the postgres user owns, holding clusters, the repository and logs."""

    def __init__(self, cipher_pass: str = "drill-passphrase-not-for-production"):
        self.dir = Path(tempfile.mkdtemp(prefix="itb-backup-"))
        self.repo = self.dir / "repo"
        self.conf = self.dir / "pgbackrest.conf"
        self.cipher_pass = cipher_pass
        self.info_dir = self.dir / "info"
        for sub in ("repo", "log", "lock", "spool", "info", "bin"):
            (self.dir / sub).mkdir()
        # The backup service's scripts, where the postgres user can read them.
        self.itb_backup_script = self.dir / "bin" / ITB_BACKUP.name
        shutil.copy(ITB_BACKUP, self.itb_backup_script)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            for path in [self.dir, *self.dir.iterdir(), self.itb_backup_script]:
                os.chown(path, pw.pw_uid, pw.pw_gid)
        self.env = real_clock_env()
        self.env.pop("PGDATA", None)

    def write_conf(self, cluster: Cluster) -> None:
        """The deployment's configuration (deploy/backup/pgbackrest-conf.sh) with this folder's paths."""
        env = {
            "PATH": os.environ["PATH"],
            "BACKUP_CIPHER_PASS": self.cipher_pass,
            "BACKUP_REPO1_PATH": str(self.repo),
            "BACKUP_LOG_PATH": str(self.dir / "log"),
            "BACKUP_LOCK_PATH": str(self.dir / "lock"),
            "BACKUP_SPOOL_PATH": str(self.dir / "spool"),
            "PGDATA": str(cluster.data),
            "PGPORT": str(cluster.port),
            "PGSOCKET": str(cluster.socket_dir),
            "PGUSER": "postgres",
        }
        text = subprocess.run(["bash", str(CONF_SCRIPT)], env=env, check=True, capture_output=True, text=True)
        self.conf.write_text(text.stdout)
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.conf, pw.pw_uid, pw.pw_gid)
        self.conf.chmod(0o600)

    def pgbackrest(self, *args: str, timeout: float = 300) -> str:
        return runas_postgres(
            ["pgbackrest", f"--config={self.conf}", f"--stanza={STANZA}", *args], self.env, timeout, self.dir
        )

    def itb_backup(self, cluster: Cluster, *args: str, timeout: float = 600, **extra_env: str) -> str:
        """The compose file's backup service command (deploy/backup/itb-backup.sh) on `cluster`."""
        env = {
            **self.env,
            "PATH": f"{cluster.bin}{os.pathsep}{self.env['PATH']}",
            "PGBACKREST_CONFIG": str(self.conf),
            "PGDATA": str(cluster.data),
            "PGPORT": str(cluster.port),
            "PGSOCKET": str(cluster.socket_dir),
            "PGUSER": "postgres",
            "POSTGRES_DB": "itbportal",
            "BACKUP_INFO_DIR": str(self.info_dir),
            "BACKUP_ONCE": "1",
            "BACKUP_DRILL_PORT": str(free_port()),
            "TMPDIR": str(self.dir),
            **extra_env,
        }
        return runas_postgres(["bash", str(self.itb_backup_script), *args], env, timeout, self.dir)

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class Cluster:
    """One PostgreSQL cluster (data folder, port, socket folder) inside a Workspace."""

    def __init__(self, ws: Workspace, name: str):
        self.ws = ws
        self.data = ws.dir / name
        self.socket_dir = ws.dir / f"{name}-socket"
        self.log = ws.dir / f"{name}.log"
        self.port = free_port()
        self.bin = postgres_bin()
        self.started = False
        for path in (self.data, self.socket_dir):
            path.mkdir(mode=0o700)
            if os.geteuid() == 0:
                pw = pwd.getpwnam("postgres")
                os.chown(path, pw.pw_uid, pw.pw_gid)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/itbportal"

    def _run(self, *args: str, timeout: float = 120) -> None:
        runas_postgres(list(args), self.ws.env, timeout, self.ws.dir, self.log)

    def initdb(self) -> Cluster:
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        )
        return self

    def start(self, *settings: str) -> Cluster:
        """pg_ctl start with `-c name=value` settings; waits until it accepts connections."""
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.socket_dir}",
            ]
            + [f"-c {s}" for s in settings]
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            "-t",
            "300",
            "start",
            timeout=320,
        )
        self.started = True
        return self

    def archive_to_pgbackrest(self) -> Cluster:
        """The settings of the deployment's postgres service (docker-compose.yml): WAL to pgBackRest."""
        settings = {
            "wal_level": "replica",
            "archive_mode": "on",
            "archive_command": f"pgbackrest --config={self.ws.conf} --stanza={STANZA} archive-push %p",
            "archive_timeout": "60",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{name} = '{value}'\n" for name, value in settings.items())
        return self

    def stop(self) -> None:
        if self.started or (self.data / "postmaster.pid").exists():
            subprocess.run(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"],
                env=self.ws.env,
                cwd=self.ws.dir,
                capture_output=True,
                timeout=120,
                **as_postgres(),
            )
            self.started = False

    def connect(self, dbname: str = "itbportal") -> psycopg.Connection:
        return psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}", autocommit=True)

    def wait_promoted(self, timeout: float = 300) -> None:
        """Until recovery reached its target and the cluster took writes again."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with self.connect("postgres") as conn:
                    if not conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                        return
            except psycopg.OperationalError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the restored cluster did not finish recovery:\n" + self.log.read_text()[-3000:])
