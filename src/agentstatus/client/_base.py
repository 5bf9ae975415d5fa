"""``BaseClient``: everything ``Client`` and ``AsyncClient`` share that is not I/O —
settings, building requests, deciding retries, reading answers."""

from __future__ import annotations

import logging
import os

import httpx

from ..wire.outcomes import STATUS, STATUS_ERRO_MESSAGE, STATUS_ERROR
from ..wire.paths import SET_STATUS
from ._exceptions import MissingParameter, TransportError
from ._models import StatusResult
from ._outcomes import checked
from ._retry import RETRY_HTTP_STATUSES, RetryPolicy, parse_retry_after
from ._wire import Call, build_call, redact_code_in_httpx_logs, scrub

__all__ = ["DEFAULT_BASE_URL", "DEFAULT_RETRIES", "DEFAULT_TIMEOUT", "BaseClient"]

DEFAULT_BASE_URL = "https://api.voicenter.com"
DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 3
CODE_VARIABLES = ("AGENTSTATUS_CODE", "VOICENTER_API_CODE")
USER_AGENT = "agentstatus-client/0.1.0"

log = logging.getLogger("agentstatus.client")


def code_from_environment() -> str | None:
    """The Code from ``AGENTSTATUS_CODE``, else ``VOICENTER_API_CODE``."""
    for name in CODE_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


class BaseClient:
    """What ``Client`` and ``AsyncClient`` share; not used directly."""

    def __init__(
        self,
        code: str | None,
        base_url: str,
        *,
        timeout: float | httpx.Timeout,
        retries: int | RetryPolicy,
        method: str,
    ) -> None:
        method = method.upper()
        if method not in ("GET", "POST"):
            raise ValueError(f"method must be 'GET' or 'POST', not {method!r}")
        if httpx.URL(base_url).scheme not in ("http", "https"):
            raise ValueError("base_url must be an http:// or https:// URL")
        code = (code if code is not None else code_from_environment() or "").strip()
        if not code:
            raise MissingParameter(
                "no Code: pass code=… or set AGENTSTATUS_CODE (or VOICENTER_API_CODE)"
            )
        self._code = code
        self.base_url = base_url.rstrip("/")
        self.method = method
        self.timeout = timeout
        self.retry = RetryPolicy.of(retries)
        if method == "GET":
            redact_code_in_httpx_logs()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} base_url={self.base_url!r} method={self.method!r}>"

    def _set_status_call(
        self,
        http: httpx.Client | httpx.AsyncClient,
        user_id: str | int,
        extension: str,
        status: int,
    ) -> Call:
        # Non-int values are sent as given: the server, not the client, judges them.
        wire_status = int(status) if isinstance(status, int) else status
        params = {
            "Code": self._code,
            "UserId": user_id,
            "ExtensionUser": extension,
            "Status": wire_status,
        }
        subject = {"user_id": user_id, "extension": extension, "status": wire_status}
        url = self.base_url + SET_STATUS
        return build_call(http, self.method, url, params, subject, self.timeout)

    def _read_call(
        self, http: httpx.Client | httpx.AsyncClient, path: str, **params: str | None
    ) -> Call:
        given = {"code": self._code, **{k: v for k, v in params.items() if v is not None}}
        return build_call(http, self.method, self.base_url + path, given, {}, self.timeout)

    def _wait_before_retry(
        self,
        call: Call,
        attempts: int,
        response: httpx.Response | None,
        error: httpx.RequestError | None,
    ) -> float | None:
        """Seconds to wait before sending ``call`` again, or None to stop here."""
        if error is not None:
            if not RetryPolicy.retryable(error):
                return None
            wait, reason = self.retry.delay(attempts), type(error).__name__
        elif response is not None and response.status_code in RETRY_HTTP_STATUSES:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            wait, reason = self.retry.delay(attempts, retry_after), f"HTTP {response.status_code}"
        else:
            return None
        if wait is not None:
            log.info(
                "retrying %s %s in %.2f s after %s (retry %d of %d)",
                call.redacted.method,
                call.redacted.url.path,
                wait,
                reason,
                attempts,
                self.retry.retries,
            )
        return wait

    def _transport_error(
        self, call: Call, error: httpx.RequestError, attempts: int
    ) -> TransportError:
        detail = scrub(str(error), self._code) or "no details"
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        return TransportError(
            f"could not reach {self.base_url} ({type(error).__name__}: {detail}) after {tries}",
            request=call.redacted,
        )

    @staticmethod
    def _status_result(call: Call, response: httpx.Response) -> StatusResult:
        fields = checked(call, response, STATUS_ERROR)
        return StatusResult(
            fields[STATUS], fields[STATUS_ERROR], str(fields.get(STATUS_ERRO_MESSAGE, ""))
        )
