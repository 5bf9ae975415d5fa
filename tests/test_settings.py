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


def test_a_monitor_refresh_token_outlasts_its_socket_token() -> None:
    with pytest.raises(SettingsError, match="AGENTSTATUS_MONITOR_REFRESH_SECONDS"):
        load_settings(monitor_token_seconds=7200, monitor_refresh_seconds=3600)
    with pytest.raises(SettingsError, match="AGENTSTATUS_MONITOR_TOKEN_SECONDS"):
        load_settings(monitor_token_seconds=10)
    assert load_settings(monitor_token_seconds=600).monitor_refresh_seconds == 30 * 86400


@pytest.mark.parametrize(
    ("given", "message"),
    [
        (
            {"oidc_issuer": "http://idp.example.com"},
            "invalid AGENTSTATUS_OIDC_ISSUER: an http:// issuer is accepted only on a loopback",
        ),
        (
            {"oidc_issuer": "https://idp.example.com"},
            "invalid AGENTSTATUS_OIDC_CLIENT_ID: required with AGENTSTATUS_OIDC_ISSUER",
        ),
        (
            {"oidc_issuer": "https://idp.example.com", "oidc_client_id": "a"},
            "invalid AGENTSTATUS_OIDC_CLIENT_SECRET: required with AGENTSTATUS_OIDC_ISSUER",
        ),
        (
            {"password_sign_in": False},
            "invalid AGENTSTATUS_PASSWORD_SIGN_IN: false needs AGENTSTATUS_OIDC_ISSUER",
        ),
        (
            {
                "oidc_issuer": "https://idp.example.com",
                "oidc_client_id": "a",
                "oidc_client_secret": "private-value",
                "oidc_client_secret_file": "/nonexistent/secret",
            },
            "invalid AGENTSTATUS_OIDC_CLIENT_SECRET: set it or ..._SECRET_FILE, not both",
        ),
    ],
)
def test_the_openid_settings_are_checked_at_start(given: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(**given)
    assert str(raised.value).startswith(message)
    assert "private-value" not in str(raised.value)


def test_the_openid_client_secret_may_be_a_file_and_is_never_shown(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("from-the-file\n")
    for issuer in ("https://idp.example.com/", "http://127.0.0.1:9000", "http://localhost:1"):
        settings = load_settings(
            oidc_issuer=issuer, oidc_client_id="a", oidc_client_secret_file=str(secret)
        )
        assert settings.oidc_client_secret is not None
        assert settings.oidc_client_secret.get_secret_value() == "from-the-file"
        assert "from-the-file" not in repr(settings)
    assert settings.oidc_issuer == "http://localhost:1"
    with pytest.raises(SettingsError, match="OIDC_CLIENT_SECRET_FILE: cannot be read"):
        load_settings(
            oidc_issuer="https://x.example", oidc_client_id="a", oidc_client_secret_file="/nope"
        )
