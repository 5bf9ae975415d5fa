"""Jinja2 templates, one environment per language (the catalogue is installed in it), with
HTML autoescaping always on: agent and status names are the users' text."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from agentstatus.package_files import require
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
        body = self._envs[code].get_template(name).render(**context)
        return HTMLResponse(body, status_code=status_code, headers={**NO_STORE, **(headers or {})})
