"""The launcher behind `make run` and `make test`: `python -m config.stack run|test [pytest args]`.

It starts embedded PostgreSQL and Redis when `DATABASE_URL` / `REDIS_URL` are not set, then runs
the processes. `run` supervises them: a process that stops (gunicorn, the Celery worker, beat, the
embedded Redis) is started again with a line in the log, after a back-off that grows while it
keeps stopping soon after its start, so a crash loop does not spin. Only Ctrl-C (SIGINT) or
SIGTERM stops everything it started.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from config.embedded import EmbeddedServices, start_missing_services

PYTHON = sys.executable
BIN = os.path.dirname(PYTHON)
RESTART_DELAY_S = 1.0  # the first restart of a process that stopped
RESTART_DELAY_MAX_S = 60.0  # doubling while it keeps stopping, up to this
STABLE_AFTER_S = 60.0  # a process that ran this long before it stopped restarts after 1 s again


def _say(message: str) -> None:
    print(f"steward: {message}", flush=True)


def _check(args: list[str], env: dict[str, str]) -> int:
    """Run one command to completion in the foreground; return its exit code."""
    return subprocess.run(args, env=env, check=False).returncode


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def demo_identity_provider(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """With STEWARD_DEMO_OIDC=1, run oidc-provider-mock on a thread here and yield the variables that
    configure Steward for it (its demo people's groups map to demo roles); otherwise yield nothing.

    The mock is a test dependency (the `test` extra, which `make` installs), never a runtime one:
    a production image built from `pip install .` has no use for a fake identity provider.
    """
    if env.get("STEWARD_DEMO_OIDC", "").strip().lower() not in {"1", "true", "yes", "on"}:
        yield {}
        return
    try:
        import oidc_provider_mock
    except ImportError as exc:
        raise SystemExit(
            "steward: STEWARD_DEMO_OIDC needs oidc-provider-mock: pip install -e '.[test]'"
        ) from exc
    from portfolio.sso.demo import DEMO_IDENTITIES, DEMO_PORT, demo_environment

    port = int(env.get("STEWARD_DEMO_OIDC_PORT") or DEMO_PORT)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not one line per request
    people = [oidc_provider_mock.User(sub=p.subject, claims=p.claims()) for p in DEMO_IDENTITIES]
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(
                oidc_provider_mock.run_server_in_thread(
                    port=port, require_nonce=True, user_claims=people
                )
            )
        except (OSError, SystemExit) as exc:  # werkzeug exits by itself on a port in use
            raise SystemExit(
                f"steward: the demo identity provider cannot listen on port {port} ({exc}); "
                "set STEWARD_DEMO_OIDC_PORT to a free port"
            ) from exc
        _say(f"demo identity provider (oidc-provider-mock) at http://127.0.0.1:{port}/")
        for person in DEMO_IDENTITIES:
            _say(f"  Sign in with Harbour Bank ID as {person.subject}: {person.what}")
        yield demo_environment(port)


@dataclass
class Child:
    """One supervised process: ``start()`` returns it running; restarted with a back-off.
    ``stopped_by_supervisor`` is False for a process whose owner stops it (the embedded Redis:
    after the others, which may still need it while they stop)."""

    name: str
    start: Callable[[], subprocess.Popen]
    process: subprocess.Popen | None = None
    stopped_by_supervisor: bool = True
    started_at: float = 0.0
    quick_stops: int = 0  # consecutive stops within STABLE_AFTER_S of a start
    restart_at: float | None = None

    def launch(self) -> None:
        self.process, self.started_at, self.restart_at = self.start(), time.monotonic(), None

    def check(self, now: float) -> None:
        """Notice a stop (schedule the restart, say so) or restart when its time has come."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.launch()
                _say(f"{self.name} restarted (pid {self.process.pid})")
            return
        code = self.process.poll() if self.process is not None else None
        if code is None:
            return
        self.quick_stops = self.quick_stops + 1 if now - self.started_at < STABLE_AFTER_S else 0
        delay = min(RESTART_DELAY_MAX_S, RESTART_DELAY_S * 2 ** max(0, self.quick_stops - 1))
        self.restart_at = now + delay
        _say(f"{self.name} stopped (exit code {code}); restarting it in {delay:g} s")


def supervise(children: list[Child], *, on_up: Callable[[], bool] | None = None) -> None:
    """Start the children and keep them running until KeyboardInterrupt (Ctrl-C, SIGTERM), then
    stop them. ``on_up`` is polled until it returns True once (to announce that the stack is up)."""
    for child in children:
        if child.process is None:
            child.launch()
    try:
        while True:
            if on_up is not None and on_up():
                on_up = None
            now = time.monotonic()
            for child in children:
                child.check(now)
            time.sleep(0.5)
    finally:
        _stop([c.process for c in children if c.process is not None and c.stopped_by_supervisor])


def web_command(port: str) -> list[str]:
    """gunicorn as `make run` starts it: workers and threads from WEB_CONCURRENCY and WEB_THREADS
    (config/gunicorn.py), on 127.0.0.1:`port`, access log on stdout."""
    return [
        os.path.join(BIN, "gunicorn"),
        "--config",
        "python:config.gunicorn",
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "-",
    ]


def _programs(services: EmbeddedServices, env: dict[str, str], port: str) -> list[Child]:
    """gunicorn, the Celery worker and beat, and the embedded Redis if this launcher started it."""

    def command(*argv: str) -> Callable[[], subprocess.Popen]:
        return lambda: subprocess.Popen(list(argv), env=env)

    children = [
        Child("gunicorn", command(*web_command(port))),
        Child(
            "celery worker",
            command(
                os.path.join(BIN, "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                env.get("CELERY_CONCURRENCY", "2"),
            ),
        ),
        Child(
            "celery beat",
            command(
                os.path.join(BIN, "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                os.path.join(str(services.folder), "celerybeat-schedule"),
            ),
        ),
    ]
    if services.redis is not None and services.redis_port is not None:
        redis_port = services.redis_port
        children.append(
            Child(
                "embedded Redis",
                lambda: services.spawn_redis(redis_port),
                process=services.redis,
                stopped_by_supervisor=False,
                started_at=time.monotonic(),
            )
        )
    return children


def run(services: EmbeddedServices, env: dict[str, str]) -> int:
    """Prepare the database and demo data, then serve web + worker + beat until Ctrl-C."""
    manage = [PYTHON, "manage.py"]
    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput", "-v0"], ["seed_demo"]):
        if code := _check(manage + step, env):
            return code
    port = env.get("STEWARD_PORT", "8000")

    def announce() -> bool:
        if not _port_open(int(port)):
            return False
        _say(f"Steward is up at http://127.0.0.1:{port}/  (Ctrl-C stops everything)")
        password = env.get("STEWARD_DEMO_PASSWORD", "demo")
        _say(f"log in as executive, pmo, member, outsider or admin with password “{password}”")
        return True

    try:
        supervise(_programs(services, env, port), on_up=announce)
    except KeyboardInterrupt:
        _say("stopping…")
    return 0


def test(env: dict[str, str], pytest_args: list[str]) -> int:
    """Lint, check migrations and types, then run the whole pytest suite; return the first failure's code."""
    steps = [
        [os.path.join(BIN, "ruff"), "check", "."],
        [PYTHON, "manage.py", "makemigrations", "--check", "--dry-run"],
        [PYTHON, "-m", "config.typecheck"],  # mypy on services and selectors, a ratchet
        # on every core (pytest-xdist; worksteal balances the long journeys); -n0 runs serially
        [PYTHON, "-m", "pytest", "-n", "auto", "--dist", "worksteal", *pytest_args],
    ]
    for step in steps:
        if code := _check(step, env):
            return code
    return 0


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test"}:
        print("usage: python -m config.stack run | test [pytest args]", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    services = start_missing_services()
    for name in ("DATABASE_URL", "REDIS_URL"):
        where = "embedded" if name in services.env else "from the environment"
        _say(f"{name} {where}")
    env = {**os.environ, **services.env}
    # Ctrl-C reaches every child of the terminal's process group; the launcher cleans up after them.
    # Handle SIGINT ourselves too: a launcher started in the background inherits it as ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if command == "test":
            return test(env, rest)
        with demo_identity_provider(env) as sso_env:
            return run(services, {**env, **sso_env})
    except KeyboardInterrupt:
        return 130
    finally:
        services.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
