"""The Hebrew catalogue covers every string of the pages: extracted now from the templates
and the code (as ``make i18n`` does), each has a Hebrew translation that keeps its
placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from agentstatus.web import questions
from agentstatus.web.i18n import LANGUAGES, LOCALES_DIR, translations

WEB = Path(__file__).parents[2] / "src" / "agentstatus" / "web"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {
    "**/templates/**.html": {
        "extensions": "jinja2.ext.i18n",
        "trim_blocks": "true",
        "lstrip_blocks": "true",
    }
}
KEYWORDS = {"_": None, "gettext": None, "N_": None}


def extracted() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(
        WEB, METHODS, keywords=KEYWORDS, options_map=OPTIONS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_string_has_a_hebrew_translation() -> None:
    with (LOCALES_DIR / "he" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po, locale="he")
    translated = {m.id: m.string for m in catalogue if m.id and not m.fuzzy}
    strings = extracted()
    assert len(strings) > 40
    missing = sorted(s for s in strings if not translated.get(s))
    assert missing == [], "run make i18n and translate these"
    for message in strings:
        placeholders = sorted(re.findall(r"%\(\w+\)s", message))
        assert sorted(re.findall(r"%\(\w+\)s", str(translated[message]))) == placeholders


def test_a_question_s_confirming_button_never_reads_as_cancel() -> None:
    """The dialog and the confirmation page show the confirming button beside "Cancel":
    in every language they must read differently (Hebrew once said ביטול for both
    "Revoke" and "Cancel")."""
    asked = [q for q in vars(questions).values() if isinstance(q, questions.Question)]
    assert len(asked) >= 11
    for code in LANGUAGES:
        say = translations(code).gettext
        cancel = say("Cancel")
        for question in asked:
            assert say(question.button) != cancel, (code, question.button)
