"""Jinja2 templates, one environment per language (the catalogue is installed in it), with
HTML autoescaping always on: agent and status names are the users' text."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template, select_autoescape
from starlette.responses import HTMLResponse
from starlette.types import Receive, Scope, Send

from agentstatus.package_files import require
from agentstatus.web import questions
from agentstatus.web.agent_paths import agent_segment
from agentstatus.web.i18n import LANGUAGES, language, translations
from agentstatus.web.static_files import StaticFiles

TEMPLATES_DIR = Path(__file__).parent / "templates"
NO_STORE = {"cache-control": "no-store"}


class Pages:
    def __init__(self, static: StaticFiles) -> None:
        self.static = static
        self._envs = {code: self._environment(code) for code in LANGUAGES}

    def _environment(self, code: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(require(TEMPLATES_DIR)),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        env.install_gettext_translations(translations(code), newstyle=True)  # type: ignore[attr-defined]
        env.globals["static"] = self.static.url
        env.globals["agent_segment"] = agent_segment
        env.globals["questions"] = questions
        env.globals["lang"] = language(code)
        env.globals["languages"] = [language(c) for c in LANGUAGES]

        def when(ms: int, zone: ZoneInfo, fmt: str = "medium") -> str:
            moment = datetime.fromtimestamp(ms / 1000, tz=zone)
            return format_datetime(moment, fmt, tzinfo=zone, locale=code)

        env.filters["when"] = when
        return env

    def gettext(self, code: str, message: str) -> str:
        return translations(code).gettext(message)

    def render(
        self,
        code: str,
        name: str,
        context: Mapping[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> HTMLResponse:
        template = self._envs[code].get_template(name)
        headers = {**NO_STORE, **(headers or {})}
        return RenderedPage(template, dict(context), status_code=status_code, headers=headers)


class RenderedPage(HTMLResponse):
    """A page rendered in a worker thread when it is sent, never on the event loop: a large
    organisation's board or report (megabytes of HTML, seconds of Jinja) held up every
    other request of the process, health checks included, while it rendered."""

    def __init__(
        self,
        template: Template,
        context: dict[str, Any],
        status_code: int,
        headers: Mapping[str, str],
    ) -> None:
        super().__init__(b"", status_code=status_code, headers=headers)
        self._template, self._context = template, context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await anyio.to_thread.run_sync(self._render)
        self.body = body
        length = str(len(body)).encode()
        self.raw_headers = [
            *(h for h in self.raw_headers if h[0] != b"content-length"),
            (b"content-length", length),
        ]
        await super().__call__(scope, receive, send)

    def _render(self) -> bytes:
        return self._template.render(**self._context).encode(self.charset)
