"""The text blocks of a rendered page (paragraphs, list items, tables, headings), with source lines.

Checks read the HTML that Python-Markdown produced rather than re-parsing Markdown, so they see
exactly what readers see; each block is then located in the Markdown source by its first words.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from html import unescape
from html.parser import HTMLParser
from itertools import accumulate

from .words import word_lines

PARAGRAPH, ITEM, TABLE, HEADING, TITLE = "paragraph", "list item", "table", "heading", "title"
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
SKIPPED = {"pre", "code", "script", "style", "kbd"}
"""Code is not prose: its text is neither scored nor searched for figures."""
MARKER_GAP = re.compile(r" ([.,;:!?)»])")
"""The space left before punctuation where a citation marker was removed."""
FIRST_WORDS = re.compile(r"\W*(\w+)" + r"(?:\W+(\w+))?" * 5)
"""A block's first six words, by which it is found in the source."""
VOID = {"br", "hr", "img", "input", "meta", "link", "wbr", "source", "col", "area"}


@dataclass(frozen=True)
class Block:
    """One unit of text a reader sees, as plain text without citation markers."""

    kind: str
    """`paragraph`, `list item`, `table`, `heading` or `title` (an admonition's title)."""
    text: str
    """Whitespace-collapsed text; table cells are separated by ' | '."""
    cited: bool
    """Whether the block holds at least one `[@source]` citation."""
    emergency: bool
    """Whether the block sits inside an `!!! emergency` admonition."""
    links: tuple[str, ...]
    """The hrefs of the links in the block, as published."""
    line: int
    """1-based line of the page's source file where the block starts (best effort)."""


def page_blocks(rendered) -> tuple[Block, ...]:
    """Return the blocks of a rendered page body, in document order, with their source lines."""
    if rendered.blocks is not None:  # read from Markdown's tree while the page was converted
        return _located(rendered.blocks, rendered.page.body, rendered.page.body_line)
    return _blocks(rendered.content, rendered.page.body, rendered.page.body_line)


@lru_cache(maxsize=64)
def _blocks(content: str, body: str, body_line: int) -> tuple[Block, ...]:
    # Several checks read every page; the cache is keyed by text, so an edited page is parsed again.
    return _located(tuple(scan(content)), body, body_line)


@lru_cache(maxsize=64)
def _located(scanned: tuple, body: str, body_line: int) -> tuple[Block, ...]:
    locate = _Locator(body, body_line)
    return tuple(Block(kind, text, cited, emergency, links, locate(text))
                 for kind, text, cited, emergency, links in scanned if text)


def scan(content: str, fast: bool = True) -> list[tuple]:
    """Return (kind, text, cited, emergency, links) for each block of an HTML fragment.

    The fast reader handles what Python-Markdown and the sanitizer write; on anything else, and
    with `fast=False`, HTMLParser reads the fragment. Both give the same blocks.
    """
    parser = _BlockParser()
    if fast and _feed_serialized(parser, content):
        return parser.blocks
    parser = _BlockParser()
    parser.feed(content)
    parser.close()
    return parser.blocks


TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:\s+[^\s/>=\"']+(?:=(?:\"[^\"]*\"|'[^']*'|[^\s>\"'=]+))?)*)\s*(/?)>")
ATTRIBUTE = re.compile(r"""([^\s/>=\"']+)(?:=(?:"([^"]*)"|'([^']*)'|([^\s>"'=]+)))?""")
UNUSUAL = re.compile(r"<[!?]|<(?:script|style|textarea|title)\b", re.IGNORECASE)
"""Markup only hand-written HTML has: comments, declarations, elements whose text is not HTML."""


def _feed_serialized(parser: _BlockParser, content: str) -> bool:
    """Tokenize HTML as Python-Markdown and the sanitizer serialize it, twice as fast as HTMLParser.

    The parser gets the events HTMLParser would send. Return False when the content holds anything
    else (a comment, a stray `<`); the parser is then half-fed and HTMLParser must read it afresh.
    """
    if UNUSUAL.search(content):
        return False
    at = 0
    for match in TAG.finditer(content):
        if match.start() > at:
            text = content[at:match.start()]
            if "<" in text:
                return False
            parser.handle_data(unescape(text) if "&" in text else text)
        closing, name, attributes, empty = match.groups()
        if closing:
            parser.handle_endtag(name.lower())
        else:
            parser.handle_starttag(name.lower(), _attributes(attributes) if attributes else [])
            if empty:  # <br/>: HTMLParser reports a start and an end
                parser.handle_endtag(name.lower())
        at = match.end()
    rest = content[at:]
    if "<" in rest:
        return False
    if rest:
        parser.handle_data(unescape(rest) if "&" in rest else rest)
    return True


def _attributes(text: str) -> list:
    return [(m.group(1).lower(), None if m.group(2) is None and m.group(3) is None and m.group(4) is None
             else unescape(next(g for g in m.groups()[1:] if g is not None)))
            for m in ATTRIBUTE.finditer(text)]


class _Open:
    """A block being collected."""

    def __init__(self, kind: str, emergency: bool):
        self.kind, self.emergency = kind, emergency
        self.parts, self.links, self.cited = [], [], False


class _BlockParser(HTMLParser):
    """Collect the text of each block, its links and whether it cites a source, skipping code and citations."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        """(tag, block opened by it or None, inside an emergency box, hides its text) per open element."""
        self.open = []
        self.blocks = []
        self.hidden = 0
        self.containers = 0
        """How many open blocks are list items or tables, whose paragraphs are part of them."""

    def handle_starttag(self, tag, attrs):
        block, emergency, hides = self._start(tag, dict(attrs) if attrs else {}, bool(self.stack) and self.stack[-1][2])
        if tag not in VOID:
            self.hidden += hides
            self.stack.append((tag, block, emergency, hides))

    def _start(self, tag: str, attrs: dict, inside_emergency: bool) -> tuple:
        """Take an element's start: return (the block it opens or None, inside an emergency box, hides its text)."""
        classes = attrs["class"].split() if attrs.get("class") else ()
        emergency = inside_emergency or (tag == "div" and "emergency" in classes)
        hides = tag in SKIPPED or (tag == "sup" and "cite" in classes)
        if tag == "sup" and hides and self.open:
            self.open[-1].cited = True
        block = None if hides else self._block_for(tag, classes, emergency)
        if self.open and tag in ("br", "p", "td", "th"):
            self.open[-1].parts.append(" | " if tag in ("td", "th") else " ")  # cells stay apart, lines too
        if tag == "a" and self.open and attrs.get("href") and not self.hidden and not hides:
            self.open[-1].links.append(attrs["href"])
        if block is not None:
            self.open.append(block)
            self.containers += block.kind in (ITEM, TABLE)
        return block, emergency, hides

    def _block_for(self, tag, classes, emergency):
        if tag in HEADINGS:
            return _Open(HEADING, emergency)
        if tag == "p" and "admonition-title" in classes:
            return _Open(TITLE, emergency)
        if tag in ("li", "table"):
            return _Open(ITEM if tag == "li" else TABLE, emergency)
        if tag in ("p", "dd", "dt", "figcaption") and not self.containers:
            return _Open(PARAGRAPH, emergency)
        return None

    def handle_endtag(self, tag):
        if not (self.stack and self.stack[-1][0] == tag) and not any(entry[0] == tag for entry in self.stack):
            return
        while self.stack:
            name, block, _, hides = self.stack.pop()
            self.hidden -= hides
            if block is not None:
                self.open.remove(block)
                self._close(block)
            if name == tag:
                break

    def _close(self, block: _Open):
        self.containers -= block.kind in (ITEM, TABLE)
        text = " ".join("".join(block.parts).split()).strip(" |")
        self.blocks.append((block.kind, MARKER_GAP.sub(r"\1", text), block.cited, block.emergency, tuple(block.links)))

    def handle_data(self, data):
        if self.open and not self.hidden:
            self.open[-1].parts.append(data)


CODE_BLOCK = re.compile(r"<pre(?: [^<>]*)?><code(?: [^<>]*)?>[^<]*</code></pre>")
"""A fenced code block as Python-Markdown stashes it, its code escaped: nothing in it is prose."""


def tree_blocks(root, stashed=()) -> tuple | None:
    """Return what `scan` finds in the HTML Python-Markdown serializes `root` to, read from the tree.

    Walking the tree spares tokenizing the HTML again. `stashed` is Markdown's stash of HTML; a
    paragraph holding only the placeholder of a code block is replaced by that block, whose text is
    hidden, so it is skipped. None when the tree holds another placeholder that only serializing
    replaces (raw HTML, entities and footnotes leave `\x02...\x03` in it), or a comment: the HTML
    must then be read.
    """
    from markdown.util import HTML_PLACEHOLDER
    if not all(isinstance(html, str) and CODE_BLOCK.fullmatch(html) for html in stashed):
        return None
    reader = _TreeReader({HTML_PLACEHOLDER % i for i in range(len(stashed))})
    try:
        if root.text:
            reader.data(root.text)
        for child in root:  # the root is the wrapper Markdown strips
            reader.element(child, False)
    except _Unreadable:
        return None
    return tuple(reader.blocks)


class _Unreadable(Exception):
    """The tree holds what only the serializer and postprocessors turn into HTML."""


class _TreeReader(_BlockParser):
    """`_BlockParser` for a tree: its elements nest, so each end tag closes the element it follows."""

    def __init__(self, skipped):
        super().__init__()
        self.skipped = skipped

    def element(self, element, emergency: bool):
        tag = element.tag
        if tag is None:  # text-only: the serializer writes its text and children without a tag
            if element.text:
                self.data(element.text)
            for child in element:
                self.element(child, emergency)
        elif tag == "p" and self.skipped and element.text in self.skipped and not len(element) and not element.attrib:
            pass  # `<p>placeholder</p>` becomes the code block alone, which opens no block and shows no text
        elif not isinstance(tag, str):
            raise _Unreadable
        else:
            self._open(element, tag.lower(), emergency)
        if element.tail:
            self.data(element.tail)

    def _open(self, element, tag: str, emergency: bool):
        attributes = element.attrib
        if attributes:
            if any(value is not None and "\x02" in value for value in attributes.values()):
                raise _Unreadable
            if any(not name.islower() for name in attributes):
                attributes = {name.lower(): value for name, value in attributes.items()}
        block, emergency, hides = self._start(tag, attributes, emergency)
        self.hidden += hides
        if element.text:
            self.data(element.text)
        for child in element:
            self.element(child, emergency)
        self.hidden -= hides
        if block is not None:
            self.open.pop()
            self._close(block)

    def data(self, text: str):
        if "\x02" in text:
            raise _Unreadable
        if self.open and not self.hidden:
            self.open[-1].parts.append(text)


def plain_markdown(text: str) -> str:
    """Strip the Markdown syntax that does not show as text: citations, link targets, images, tags.

    No pattern crosses a line end, so a whole body gives, line for line, what each line gives alone.
    """
    text = re.sub(r"\[@[^\]\n]*\]", " ", text)
    text = re.sub(r"!\[[^\]\n]*\]\([^)\n]*\)(\{[^}\n]*\})?", " ", text)
    text = re.sub(r"\[([^\]\n]*)\]\([^)\n]*\)", r"\1", text)
    text = re.sub(r"\[([^\]\n]*)\]\[[^\]\n]*\]", r"\1", text)
    text = re.sub(r"<(?!https?:|mailto:)[^>\n]*>", " ", text)
    return re.sub(r"\{[:.#][^}\n]*\}", " ", text)


class _Locator:
    """Find the source line where a block's text starts, searching forward from the previous block."""

    def __init__(self, body: str, body_line: int):
        self.body_line = body_line
        pieces = word_lines(plain_markdown(body).casefold())
        self.starts = list(accumulate((len(piece) + 1 for piece in pieces[:-1]), initial=0))
        self.text = " " + " ".join(pieces) + " "
        self.cursor = 0
        self.last = body_line

    def __call__(self, text: str) -> int:
        found = FIRST_WORDS.match(text.casefold())
        probe = " ".join(word for word in found.groups() if word) if found else ""
        if not probe:
            return self.last
        found = self.text.find(f" {probe} ", self.cursor)
        if found < 0:
            found = self.text.find(f" {probe} ")
        if found < 0:
            return self.last
        self.cursor = found + 1
        self.last = self.body_line + bisect_right(self.starts, found) - 1
        return self.last


def line_of(page, needle: str, start: int, ignore_case: bool = False) -> int:
    """Return the first line at or after `start` of the page's source that contains `needle`, else `start`."""
    lines = page.body.casefold().split("\n") if ignore_case else page.body.split("\n")
    needle = needle.casefold() if ignore_case else needle
    for number in range(max(start - page.body_line, 0), len(lines)):
        if needle in lines[number]:
            return page.body_line + number
    return start
