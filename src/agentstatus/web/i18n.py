"""The pages' languages: English (the source strings) and Hebrew, from Babel catalogues.

The ``.po`` files are compiled in memory at start, so there is no compiled file to go
stale and ``make run`` needs nothing but Python. The language is the remembered choice
(a cookie set by the switch), else the best match of ``Accept-Language``, else English.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from agentstatus.package_files import read_bytes

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES = ("en", "he")
DEFAULT_LANGUAGE = "en"
LANGUAGE_COOKIE = "agentstatus_lang"
MAX_ACCEPT_LANGUAGE = 512


@dataclass(frozen=True, slots=True)
class Language:
    code: str
    name: str
    """The language's own name, for the switch (English, עברית)."""
    rtl: bool

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"


@cache
def language(code: str) -> Language:
    locale = Locale.parse(code)
    name = (locale.get_display_name(locale) or code).capitalize()
    return Language(code, name, locale.character_order == "right-to-left")


@cache
def translations(code: str) -> NullTranslations:
    if code == DEFAULT_LANGUAGE:
        return NullTranslations()
    # Every language offered has its catalogue in the package; without it the pages would
    # silently fall back to English.
    source = read_bytes(LOCALES_DIR / code / "LC_MESSAGES" / "messages.po")
    catalogue = read_po(io.BytesIO(source), locale=code)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)
    compiled.seek(0)
    return Translations(compiled)


def _accepted(header: str) -> list[str]:
    """The languages of an ``Accept-Language`` header, best first."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header[:MAX_ACCEPT_LANGUAGE].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, position, tag.strip().replace("-", "_")))
    return [tag for _, _, tag in sorted(weighted)]


def choose(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    if accept_language:
        found = negotiate_locale(_accepted(accept_language), LANGUAGES, sep="_")
        if found is None:
            # "he-IL" is Hebrew: compare the language part alone too.
            found = negotiate_locale(
                [t.split("_")[0] for t in _accepted(accept_language)], LANGUAGES, sep="_"
            )
        if found in LANGUAGES:
            return found
    return DEFAULT_LANGUAGE
