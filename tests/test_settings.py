"""``Settings``: docs/settings.md documents every variable, and a bad one is one line that names
the variable and never repeats its value."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from agentstatus.settings import Settings, SettingsError, env_var, load_settings

SETTINGS_DOC = Path(__file__).parents[1] / "docs" / "settings.md"


def configuration_table() -> str:
    text = SETTINGS_DOC.read_text()
    return text[text.index("## Configuration") : text.index("## Running on PostgreSQL")]


def test_the_settings_page_documents_every_variable_and_no_other() -> None:
    documented = set(re.findall(r"`(AGENTSTATUS_[A-Z_]+)`", configuration_table()))
    assert documented == {env_var(name) for name in Settings.model_fields}


def test_a_bad_variable_names_itself_but_not_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTSTATUS_SECRET_KEY", "private-but-malformed")
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert str(raised.value).startswith("invalid AGENTSTATUS_SECRET_KEY: must be 32 url-safe")
    assert "private-but-malformed" not in str(raised.value)


def test_overrides_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTSTATUS_DATABASE_URL", "sqlite:///from-env.db")
    monkeypatch.setenv("AGENTSTATUS_LOG_LEVEL", "DEBUG")
    settings = load_settings(database_url="sqlite:///given.db")
    assert (settings.database_url, settings.log_level) == ("sqlite:///given.db", "debug")


def test_the_key_is_not_in_the_repr() -> None:
    key = Fernet.generate_key().decode()
    settings = load_settings(secret_key=key)
    assert settings.secret_key == key
    assert key not in repr(settings)
