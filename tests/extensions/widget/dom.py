"""Just enough of an HTML tree to assert on what a rendered block shows a shopper.

`parse(html)` builds elements with the standard library's parser; `Element.find`/`find_all`
match a tag and attribute values; `Element.text()` is the text a browser would display without
scripts: hidden (or invisible) elements, <template>, <script> and <style> contribute nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr", "path"}
NEVER_SHOWN = {"template", "script", "style"}


class Element:
    """A tag with its attributes and children (elements and text)."""

    def __init__(self, tag: str, attrs: dict[str, str | None]):
        self.tag = tag
        self.attrs = attrs
        self.children: list[Element | str] = []

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"

    @property
    def hidden(self) -> bool:
        """Whether the `hidden` attribute or an inline `visibility: hidden` keeps it off screen."""
        style = (self.attrs.get("style") or "").replace(" ", "")
        return "hidden" in self.attrs or "visibility:hidden" in style.split(";")

    def iter(self) -> Iterator[Element]:
        """This element and every descendant element, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str | bool) -> list[Element]:
        """Descendants with this tag whose attributes all match (see `has`)."""
        # Python names to attribute names: class_ -> class, data_ll_if -> data-ll-if.
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        return [el for el in self.iter()
                if el is not self and (not tag or el.tag == tag)
                and all(el.has(name, value) for name, value in wanted.items())]

    def has(self, name: str, value: str | bool) -> bool:
        """Attribute present (True), equal to value, or for `class` one of its classes."""
        if value is True:
            return name in self.attrs
        actual = self.attrs.get(name) or ""
        return value in actual.split() if name == "class" else actual == value

    def find(self, tag: str | None = None, **attrs: str | bool) -> Element:
        """The first match; fails loudly when there is none."""
        found = self.find_all(tag, **attrs)
        if not found:
            raise LookupError(f"no <{tag or '*'} {attrs}>")
        return found[0]

    def text(self, *, even_if_hidden: bool = False) -> str:
        """Displayed text, whitespace collapsed; `even_if_hidden` looks inside a closed panel.

        Elements are treated as separate words (as blocks and the widget's spaced inline
        markup display), so "<p>a</p><p>b</p>" reads "a b".
        """
        if self.tag in NEVER_SHOWN or (self.hidden and not even_if_hidden):
            return ""
        parts = [child if isinstance(child, str) else f" {child.text()} "
                 for child in self.children]
        return " ".join("".join(parts).split())


class TreeBuilder(HTMLParser):
    """Builds `Element`s from markup."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Open an element (void elements close at once)."""
        el = Element(tag, dict(attrs))
        self.stack[-1].children.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """A self-closing tag such as <path/>."""
        self.stack[-1].children.append(Element(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        """Close the nearest open element with this tag."""
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        """Text, kept as it is."""
        self.stack[-1].children.append(data)


def parse(markup: str) -> Element:
    """The document element of the markup."""
    builder = TreeBuilder()
    builder.feed(markup)
    builder.close()
    return builder.root
