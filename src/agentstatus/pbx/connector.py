"""What the Asterisk and FreeSWITCH adapters share: the settings and secret they connect
with, the counters the link reads, and the checked TCP connection to the phone system."""

from __future__ import annotations

import asyncio

from agentstatus.domain.calls import CallBook
from agentstatus.domain.pbx_config import PbxConfig
from agentstatus.outbound import OutboundPolicy, OutboundRefused
from agentstatus.outbound.tcp import open_checked
from agentstatus.pbx.phone import PhoneError


class Connector:
    def __init__(
        self,
        config: PbxConfig,
        secret: str,
        outbound: OutboundPolicy,
        *,
        timeout: float = 5.0,
        extensions: frozenset[str] = frozenset(),
    ) -> None:
        self.config = config
        self._secret = secret
        self._outbound = outbound
        self.timeout = timeout
        self.extensions = extensions
        """The organisation's extensions: channels of other devices are not followed."""
        self.commands = 0
        """Commands sent since the connection opened."""
        self.calls = CallBook()

    @property
    def _where(self) -> str:
        return f"{self.config.host}:{self.config.port}"

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The TCP connection, to an address the outbound policy allows; PhoneError says
        why there is none."""
        try:
            return await open_checked(
                self.config.host, self.config.port, self._outbound, self.timeout
            )
        except OutboundRefused as exc:
            raise PhoneError(f"{self._where}: {exc}") from None
        except (OSError, TimeoutError) as exc:
            raise PhoneError(f"cannot connect to {self._where}: {exc or 'timeout'}") from None
