"""The launcher behind `make run` and `make test`: `python -m config.stack run|test [pytest args]`.

It starts embedded PostgreSQL and Redis when `DATABASE_URL` / `REDIS_URL` are not set, runs the
processes, and stops everything it started on Ctrl-C or when a process ends.
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
from collections.abc import Iterator

from config.embedded import EmbeddedServices, start_missing_services

PYTHON = sys.executable
BIN = os.path.dirname(PYTHON)


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


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 60) -> bool:
    """True once something accepts connections on the port; False if the process died or time ran out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.2)
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


def run(services: EmbeddedServices, env: dict[str, str]) -> int:
    """Prepare the database and demo data, then serve web + worker + beat until one stops."""
    manage = [PYTHON, "manage.py"]
    for step in (["migrate", "--noinput"], ["collectstatic", "--noinput", "-v0"], ["seed_demo"]):
        if code := _check(manage + step, env):
            return code
    port = env.get("STEWARD_PORT", "8000")
    data = str(services.folder)
    processes = [
        subprocess.Popen(
            [
                os.path.join(BIN, "gunicorn"),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                env.get("WEB_CONCURRENCY", "2"),
                "--access-logfile",
                "-",
            ],
            env=env,
        ),
        subprocess.Popen(
            [
                os.path.join(BIN, "celery"),
                "-A",
                "config",
                "worker",
                "--loglevel",
                "INFO",
                "--concurrency",
                env.get("CELERY_CONCURRENCY", "2"),
            ],
            env=env,
        ),
        subprocess.Popen(
            [
                os.path.join(BIN, "celery"),
                "-A",
                "config",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                os.path.join(data, "celerybeat-schedule"),
            ],
            env=env,
        ),
    ]
    try:
        if _wait_for_port(int(port), processes[0]):
            _say(f"Steward is up at http://127.0.0.1:{port}/  (Ctrl-C stops everything)")
            password = env.get("STEWARD_DEMO_PASSWORD", "demo")
            _say(f"log in as executive, pmo, member, outsider or admin with password “{password}”")
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        _say("a process stopped; shutting down the others")
        return 1
    except KeyboardInterrupt:
        _say("stopping…")
        return 0
    finally:
        _stop(processes)


def test(env: dict[str, str], pytest_args: list[str]) -> int:
    """Lint, check migrations, then run the whole pytest suite; return the first failure's code."""
    steps = [
        [os.path.join(BIN, "ruff"), "check", "."],
        [PYTHON, "manage.py", "makemigrations", "--check", "--dry-run"],
        [PYTHON, "-m", "pytest", *pytest_args],
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
