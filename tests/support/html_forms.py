"""Reading the administration pages' forms out of HTML, as a test checks them: each
element with an id (its attributes and text), and the error tied to a field."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = frozenset({"input", "br", "img", "meta", "link", "hr", "source", "col", "wbr"})


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


@dataclass
class _Parser(HTMLParser):
    found: dict[str, Element] = field(default_factory=dict)
    open: list[Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        if "id" in element.attrs:
            self.found[element.attrs["id"]] = element
        if tag not in VOID:
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self.open:
            if self.open.pop().tag == tag:
                break

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element.text += data


def elements(html: str) -> dict[str, Element]:
    parser = _Parser()
    parser.feed(html)
    return parser.found


def field_error(html: str, field_id: str) -> str | None:
    """The text of the error tied to the field (aria-describedby, aria-invalid), or None;
    asserts that the tie is complete when there is one."""
    found = elements(html)
    control = found[field_id]
    described = control.attrs.get("aria-describedby")
    if described is None:
        assert "aria-invalid" not in control.attrs
        return None
    assert control.attrs.get("aria-invalid") == "true"
    return " ".join(found[described].text.split())


def value_of(html: str, field_id: str) -> str:
    control = elements(html)[field_id]
    if control.tag == "textarea":
        return control.text
    return control.attrs.get("value", "")
