"""Settings readers: strict about what they accept, loud about what they refuse."""

import re
import stat

import pytest
from django.core.exceptions import ImproperlyConfigured

from relance import env


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("1", True), (" Yes ", True), ("ON", True), ("false", False), ("0", False),
     ("no", False), ("Off", False)],
)  # fmt: skip
def test_env_bool_reads_the_usual_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("RELANCE_FLAG", raw)
    assert env.env_bool("RELANCE_FLAG", not expected) is expected


@pytest.mark.parametrize("raw", ["maybe", "2", "ja", "tru"])
def test_env_bool_refuses_anything_else_and_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv("RELANCE_FLAG", raw)
    with pytest.raises(
        ImproperlyConfigured, match=f"RELANCE_FLAG must be true or false, not '{raw}'"
    ):
        env.env_bool("RELANCE_FLAG", False)


def test_env_bool_falls_back_to_the_default_when_unset_or_empty(monkeypatch):
    monkeypatch.delenv("RELANCE_FLAG", raising=False)
    assert env.env_bool("RELANCE_FLAG", True) is True
    monkeypatch.setenv("RELANCE_FLAG", "")
    assert env.env_bool("RELANCE_FLAG", False) is False


def test_env_int(monkeypatch):
    monkeypatch.delenv("RELANCE_N", raising=False)
    assert env.env_int("RELANCE_N", 25) == 25
    monkeypatch.setenv("RELANCE_N", " 587 ")
    assert env.env_int("RELANCE_N", 25) == 587
    monkeypatch.setenv("RELANCE_N", "5.5")
    with pytest.raises(
        ImproperlyConfigured, match=re.escape("RELANCE_N must be a whole number, not '5.5'")
    ):
        env.env_int("RELANCE_N", 25)


def test_env_list(monkeypatch):
    monkeypatch.delenv("RELANCE_HOSTS", raising=False)
    assert env.env_list("RELANCE_HOSTS", ["localhost"]) == ["localhost"]
    monkeypatch.setenv("RELANCE_HOSTS", " a.example , b.example,, ")
    assert env.env_list("RELANCE_HOSTS", []) == ["a.example", "b.example"]
    monkeypatch.setenv("RELANCE_HOSTS", "  ")
    assert env.env_list("RELANCE_HOSTS", ["x"]) == ["x"]


def test_env_secret_reads_the_variable(monkeypatch):
    monkeypatch.setenv("RELANCE_TOKEN", "s3cret")
    monkeypatch.delenv("RELANCE_TOKEN_FILE", raising=False)
    assert env.env_secret("RELANCE_TOKEN") == "s3cret"


def test_env_secret_reads_a_secret_file(monkeypatch, tmp_path):
    secret = tmp_path / "token"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("RELANCE_TOKEN", raising=False)
    monkeypatch.setenv("RELANCE_TOKEN_FILE", str(secret))
    assert env.env_secret("RELANCE_TOKEN") == "from-a-file"


def test_env_secret_refuses_both_ways_at_once(monkeypatch, tmp_path):
    monkeypatch.setenv("RELANCE_TOKEN", "a")
    monkeypatch.setenv("RELANCE_TOKEN_FILE", str(tmp_path / "token"))
    with pytest.raises(
        ImproperlyConfigured, match="Set RELANCE_TOKEN or RELANCE_TOKEN_FILE, not both"
    ):
        env.env_secret("RELANCE_TOKEN")


def test_env_secret_names_a_missing_file(monkeypatch, tmp_path):
    monkeypatch.delenv("RELANCE_TOKEN", raising=False)
    monkeypatch.setenv("RELANCE_TOKEN_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="RELANCE_TOKEN_FILE: cannot read"):
        env.env_secret("RELANCE_TOKEN")


def test_env_secret_is_none_when_unset(monkeypatch):
    monkeypatch.delenv("RELANCE_TOKEN", raising=False)
    monkeypatch.delenv("RELANCE_TOKEN_FILE", raising=False)
    assert env.env_secret("RELANCE_TOKEN") is None


def test_env_path_expands_the_home_directory(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("RELANCE_DIR", "~/data")
    assert env.env_path("RELANCE_DIR", tmp_path) == (tmp_path / "data").resolve()


def test_the_secret_key_is_created_once_private_and_kept(tmp_path):
    data_dir = tmp_path / "data"
    key = env.persistent_secret_key(data_dir)
    path = data_dir / "secret_key"
    assert len(key) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert env.persistent_secret_key(data_dir) == key
    assert path.read_text() == key


def test_a_secret_key_written_by_another_process_meanwhile_is_used(tmp_path, monkeypatch):
    """Two processes starting at once: the one that loses the race reads the winner's key."""
    data_dir = tmp_path
    (data_dir / "secret_key").write_text("the-winners-key")
    # This process looked before the other one wrote the file.
    monkeypatch.setattr(env.Path, "exists", lambda self: False)
    assert env.persistent_secret_key(data_dir) == "the-winners-key"


def test_an_empty_secret_key_file_stops_the_start(tmp_path):
    (tmp_path / "secret_key").write_text("\n")
    with pytest.raises(ImproperlyConfigured, match="secret_key is empty"):
        env.persistent_secret_key(tmp_path)
