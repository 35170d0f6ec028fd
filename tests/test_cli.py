"""The ``relance`` command, run as a user runs it: a real process, a real port."""

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

RELANCE = str(Path(sys.executable).parent / "relance")
# PYTHONUNBUFFERED is cleared: under systemd or a pipe, output is block-buffered.
CLEARED = (
    "DATABASE_URL",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "DEBUG",
    "ALLOWED_HOSTS",
    "PYTHONUNBUFFERED",
)


def environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    env.pop("DJANGO_SETTINGS_MODULE", None)  # the command sets it itself
    env["RELANCE_DATA_DIR"] = str(data_dir)
    return env


def test_help_lists_serve_and_the_django_commands(tmp_path):
    result = subprocess.run(
        [RELANCE, "--help"], env=environment(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    commands = {line.strip() for line in result.stdout.splitlines()}
    assert {"serve", "migrate", "createsuperuser", "collectstatic"} <= commands
    if (Path(__file__).parents[1] / "src/relance/ledger/management/commands/demo.py").exists():
        assert "demo" in commands


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, deadline: float) -> None:
    """Wait for the server process to accept connections (or to die)."""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"relance serve exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)  # polling a starting process
    pytest.fail("relance serve did not open its port in time")


def get(port: int, path: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.slow
def test_serve_migrates_and_serves_the_app_its_static_files_and_the_admin(tmp_path):
    data_dir = tmp_path / "data"
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [RELANCE, "serve", "--port", str(port)],
            env=environment(data_dir),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process, time.monotonic() + 90)

        # Printed before serving, so it is there as soon as the port is open.
        assert f"relance is running at http://127.0.0.1:{port}/" in log.read_text()

        home = get(port, "/")
        assert home.status == 302
        assert home.getheader("Location").startswith("/login/")
        assert get(port, "/login/").status == 200
        css = get(port, "/static/relance/relance.css")
        assert (css.status, css.getheader("Content-Type").split(";")[0]) == (200, "text/css")
        assert get(port, "/admin/login/").status == 200
    finally:
        process.terminate()
        process.wait(timeout=30)

    # The first run made the data directory: a private secret key and the database.
    assert (data_dir / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (data_dir / "relance.sqlite3").stat().st_size > 0


def test_serve_says_so_when_the_port_is_taken(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [RELANCE, "serve", "--port", str(port)],
            env=environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"CommandError: Cannot listen on 127.0.0.1:{port}: Address already in use" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "relance.sqlite3").exists()  # nothing was migrated
