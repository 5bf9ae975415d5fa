"""The secrets a test module makes (Codes, tokens, webhook secrets, mistyped Codes), and a
scan of every log file of the test run for them."""

from __future__ import annotations

from pathlib import Path


class SecretsSeen:
    def __init__(self) -> None:
        self.values: set[str] = set()

    def remember(self, *values: str) -> None:
        self.values.update(values)

    def scan_logs(self, root: Path) -> tuple[list[Path], list[str]]:
        """Every ``*.log`` file under ``root``, and each (file, secret) found in one."""
        logs = sorted(root.rglob("*.log"))
        found = []
        for log in logs:
            text = log.read_text(errors="replace")
            for secret in self.values:
                if secret in text or secret.upper() in text:
                    found.append(f"{log}: {secret[:6]}…")
        return logs, found
