"""A password check costs one Argon2 verification whoever asks: an unknown e-mail, a wrong
password, an account made by single sign-on (no password) or a hash this version cannot
read. The cost is counted, not timed: the verifications pwdlib makes are observed."""

from __future__ import annotations

from typing import Any

import pytest
from pwdlib import PasswordHash

from agentstatus.service import passwords
from agentstatus.service.oidc_sign_in import NO_PASSWORD


@pytest.fixture
def argon2_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes each Argon2 verification was made against (the real one runs)."""
    seen: list[str] = []
    verify, verify_and_update = PasswordHash.verify, PasswordHash.verify_and_update

    def counted(self: PasswordHash, password: str, hash: str | bytes, **kw: Any) -> bool:
        seen.append(str(hash))
        return verify(self, password, hash, **kw)

    def counted_update(
        self: PasswordHash, password: str, hash: str | bytes, **kw: Any
    ) -> tuple[bool, str | None]:
        if str(hash).startswith("$argon2"):
            seen.append(str(hash))
        return verify_and_update(self, password, hash, **kw)

    monkeypatch.setattr(PasswordHash, "verify", counted)
    monkeypatch.setattr(PasswordHash, "verify_and_update", counted_update)
    return seen


def test_every_refusal_costs_one_argon2_verification(argon2_checks: list[str]) -> None:
    stored = passwords.hash_password("the right password")
    cases = {
        "unknown e-mail": None,
        "wrong password": stored,
        "single sign-on account": NO_PASSWORD,
        "unreadable hash": "$2b$12$not-a-hash-this-version-reads",
        "empty hash": "",
    }
    for case, hash_ in cases.items():
        argon2_checks.clear()
        assert passwords.verify("a wrong password", hash_) == (False, None), case
        assert len(argon2_checks) == 1, case
        assert argon2_checks[0].startswith("$argon2id$"), case  # a real Argon2 hash
    argon2_checks.clear()
    assert passwords.verify("the right password", stored) == (True, None)
    assert argon2_checks == [stored]
