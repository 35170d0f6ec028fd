"""Settings come from the environment: read in a fresh process, as at start-up."""

import json
import os
import subprocess
import sys

import pytest

SHOW = """
import json
from django.conf import settings
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "host": db.get("HOST", ""),
    "port": db.get("PORT", ""), "user": db.get("USER", ""), "options": db.get("OPTIONS", {}),
    "conn_max_age": db.get("CONN_MAX_AGE", 0), "data_dir": str(settings.DATA_DIR),
    "debug": settings.DEBUG, "allowed_hosts": settings.ALLOWED_HOSTS,
    "secret_key": settings.SECRET_KEY, "email": settings.MAILERS["default"]["OPTIONS"],
}))
"""

CLEARED = ("DATABASE_URL", "SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "ALLOWED_HOSTS", "EMAIL_PORT")


def run_settings(tmp_path, **env):
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environ.update(DJANGO_SETTINGS_MODULE="relance.settings", RELANCE_DATA_DIR=str(tmp_path))
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", SHOW], env=environ, capture_output=True, text=True, timeout=60
    )


def read_settings(tmp_path, **env):
    result = run_settings(tmp_path, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_default_is_a_sqlite_file_in_the_data_directory(tmp_path):
    s = read_settings(tmp_path)
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == str(tmp_path / "relance.sqlite3")
    assert s["options"]["transaction_mode"] == "IMMEDIATE"
    assert s["data_dir"] == str(tmp_path)
    assert s["debug"] is False
    assert s["secret_key"] == (tmp_path / "secret_key").read_text()


def test_a_sqlite_database_url(tmp_path):
    s = read_settings(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/other.sqlite3")
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"] == f"{tmp_path}/other.sqlite3"
    assert s["options"]["transaction_mode"] == "IMMEDIATE"
    assert s["conn_max_age"] == 0


def test_a_postgres_database_url(tmp_path):
    s = read_settings(tmp_path, DATABASE_URL="postgres://relance:pw@db.example:5433/books")
    assert s["engine"] == "django.db.backends.postgresql"
    assert (s["host"], s["port"], s["user"], s["name"]) == ("db.example", 5433, "relance", "books")
    assert s["options"]["application_name"] == "relance"
    assert s["conn_max_age"] == 60


def test_secrets_and_lists_from_the_environment(tmp_path):
    secret = tmp_path / "key"
    secret.write_text("k" * 60 + "\n")
    s = read_settings(
        tmp_path, SECRET_KEY_FILE=str(secret), ALLOWED_HOSTS="relance.example, www.relance.example"
    )
    assert s["secret_key"] == "k" * 60
    assert s["allowed_hosts"] == ["relance.example", "www.relance.example"]
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "nonsense"}, "ImproperlyConfigured: DATABASE_URL"),
        ({"DATABASE_URL": "postgres://u@h:notaport/db"}, "ImproperlyConfigured: DATABASE_URL"),
        ({"DEBUG": "maybe"}, "ImproperlyConfigured: DEBUG must be true or false, not 'maybe'"),
        ({"EMAIL_PORT": "smtp"}, "ImproperlyConfigured: EMAIL_PORT must be a whole number"),
    ],
)
def test_a_bad_setting_stops_the_start_and_names_the_variable(tmp_path, env, message):
    result = run_settings(tmp_path, **env)
    assert result.returncode != 0
    assert message in result.stderr


PRAGMAS = """
from django.db import connection
with connection.cursor() as cursor:
    for name in ("journal_mode", "foreign_keys", "busy_timeout"):
        cursor.execute("PRAGMA " + name)
        print(name, cursor.fetchone()[0])
"""


def test_the_sqlite_database_waits_for_writers_instead_of_failing(tmp_path):
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED}
    environ.update(DJANGO_SETTINGS_MODULE="relance.settings", RELANCE_DATA_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()\n" + PRAGMAS],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == [
        "journal_mode wal",
        "foreign_keys 1",
        "busy_timeout 30000",
    ]
