"""Python-Markdown made faster with the same output: the inline stage skips patterns that cannot match.

Python-Markdown tries each of its ~16 inline patterns on every piece of text, one regex search each,
and that was a quarter of each page's conversion. A pattern can only match text that holds its
opening character (a link needs "[", emphasis "*" or "_"), so when none is there the search is
skipped. The output is the same: a skipped pattern is one whose search would have found nothing.

Most prose holds nothing but code spans, citations, plain links and `*`/`**` emphasis that opens
after a space and closes before one. For such text `ProseReader` makes in one pass what the
patterns would make one by one (and emphasis at a cost of several calls per delimiter), with its
elements already in place rather than behind placeholders to be found again; any other text takes
the patterns' way. tests/test_inline.py holds the two ways to the same HTML.

Python-Markdown also asks whether each element's tag is block-level by searching a list of ~60
names; a set built once answers the same.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown import inlinepatterns, treeprocessors, util
from markdown.extensions.footnotes import FootnoteInlineProcessor

TRIGGERS = {
    "backtick": (inlinepatterns.BacktickInlineProcessor, ("`",)),
    "escape": (inlinepatterns.EscapeInlineProcessor, ("\\",)),
    "reference": (inlinepatterns.ReferenceInlineProcessor, ("[",)),
    "link": (inlinepatterns.LinkInlineProcessor, ("[",)),
    "image_link": (inlinepatterns.ImageInlineProcessor, ("![",)),
    "image_reference": (inlinepatterns.ImageReferenceInlineProcessor, ("![",)),
    "short_reference": (inlinepatterns.ShortReferenceInlineProcessor, ("[",)),
    "short_image_ref": (inlinepatterns.ShortImageReferenceInlineProcessor, ("![",)),
    "autolink": (inlinepatterns.AutolinkInlineProcessor, ("<",)),
    "automail": (inlinepatterns.AutomailInlineProcessor, ("<",)),
    "linebreak": (inlinepatterns.SubstituteTagInlineProcessor, ("  \n",)),
    "html": (inlinepatterns.HtmlInlineProcessor, ("<",)),
    "entity": (inlinepatterns.HtmlInlineProcessor, ("&",)),
    "em_strong": (inlinepatterns.DelimiterProcessor, ("*", "_")),
    "footnote": (FootnoteInlineProcessor, ("[^",)),
}
"""Pattern name -> (the class it must be, strings one of which every match contains).

A pattern of another class (an extension replaced it) or another name is always searched, unless it
declares its own `triggers`, as the site's citation pattern does."""


class SkippingInlineProcessor(treeprocessors.InlineProcessor):
    """Registered as "inline" in place of Python-Markdown's own; only `__handleInline` differs."""

    def run(self, tree, ancestors=None):
        patterns = list(self.inlinePatterns)  # sorts the registry by priority, as _priority then is
        self.triggered = []
        for item, pattern in zip(self.inlinePatterns._priority, patterns):
            triggers = _triggers(item.name, pattern)
            self.triggered.append((pattern, triggers[0] if triggers else None, triggers[1:]))
        self.prose = ProseReader.for_patterns(self.inlinePatterns)
        return super().run(tree, ancestors)

    def _InlineProcessor__processPlaceholders(self, data, parent: etree.Element, isText: bool = True) -> list:
        # InlineProcessor.__processPlaceholders, which finds the placeholders in the text __handleInline
        # gave and puts their elements in; text the prose reader read comes with its elements in place.
        if not isinstance(data, Prose):
            return super()._InlineProcessor__processPlaceholders(data, parent, isText)
        # `run`, the one caller with Prose, has just taken the text (or tail) away: nothing to add it to.
        if data.text:
            if isText:
                parent.text = data.text
            else:
                parent.tail = data.text
        return [(element, self.ancestors[:]) for element in data.elements]

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> "str | Prose":
        # The loop of InlineProcessor.__handleInline (name-mangled, hence the name), plus the skip.
        if isinstance(data, util.AtomicString):
            return data
        if patternIndex == 0 and self.prose is not None:
            made = self.prose.read(data)
            if made is not None:
                return made
        apply = self._InlineProcessor__applyPattern
        triggered = self.triggered
        startIndex = 0
        while patternIndex < len(triggered):
            pattern, first, more = triggered[patternIndex]
            # Written out, not any(...): this test runs a million times on a big site.
            if startIndex == 0 and first is not None and first not in data and (
                    not more or not any(t in data for t in more)):
                patternIndex += 1
                continue
            data, matched, startIndex = apply(pattern, data, patternIndex, startIndex)
            if not matched:
                patternIndex += 1
        return data


def speed_up(md):
    """Give a Markdown instance, once all its extensions are registered, the skipping inline stage, a
    set lookup for block-level tags (a list lookup in Python-Markdown, asked for every element), and a
    block processor registry that lists its processors once, not once per block."""
    md.treeprocessors.register(SkippingInlineProcessor(md), "inline", 20)
    md.parser.blockprocessors.__class__ = ListedRegistry
    block_level = frozenset(md.block_level_elements)
    answers = {}  # asked about the same dozen tags a million times on a big site

    def is_block_level(tag) -> bool:
        answer = answers.get(tag)
        if answer is None:
            answer = answers[tag] = isinstance(tag, str) and tag.lower().rstrip("/") in block_level
        return answer
    md.is_block_level = is_block_level


class ListedRegistry(util.Registry):
    """A Registry whose iteration reuses one list, in priority order, until an item is added or removed.

    The block parser walks its ~15 processors for every block of every page, and Registry makes the
    list anew each time. The list is never changed in place, so a walk under way when a processor
    registers another goes on over the list it started with, as it does in Registry."""

    _listed = None

    def __iter__(self):
        if self._listed is None or not self._is_sorted:
            self._listed = list(super().__iter__())
        return iter(self._listed)

    def register(self, item, name: str, priority: float) -> None:
        self._listed = None
        super().register(item, name, priority)

    def deregister(self, name: str, strict: bool = True) -> None:
        self._listed = None
        super().deregister(name, strict)


def _triggers(name: str, pattern) -> tuple[str, ...]:
    if getattr(pattern, "triggers", None):
        return pattern.triggers
    kind, triggers = TRIGGERS.get(name, (None, ()))
    return triggers if kind is not None and isinstance(pattern, kind) else ()


REFUSED = re.compile(r"[\\<\x02\x03]|  \n|!\[|\[\^")
"""Prose holds none of these: escapes, HTML, autolinks, placeholders, hard line breaks, images, footnotes."""
LEFT_OVER = re.compile(r"[&_\[\]]")
"""Nor, once code, citations and links are taken out, entities, `_` emphasis or other brackets."""
RUN = re.compile(r"\*+")
OPENS_AFTER = frozenset("(\"'¿¡")
CLOSES_BEFORE = frozenset(".,;:!?)\"'")
"""Besides a space or the text's edge, what may stand before an opening `*` and after a closing one."""
ATOM = "\x02"
"""Stands for a code span, citation or link while emphasis is paired: to the delimiter rules it is
what its placeholder is, a character that is neither a space nor a `*`."""


class ProseReader:
    """The inline stage for prose: code spans, citations, plain links and simple emphasis in one pass.

    `read` gives what `InlineProcessor.__handleInline` and then `__processPlaceholders` would: the
    text itself when it makes no element, else `Prose`, the text with its elements in place; or None
    for text it does not read. Code spans, links and citations are made by Python-Markdown's own
    patterns (and the site's); only emphasis pairing is done here, for the one shape whose pairing
    is plain: each `*` or `**` opens after a space (or the text's start, or OPENS_AFTER) before a
    non-space, and the next run, of the same length, closes it after a non-space before a space (or
    the end, or CLOSES_BEFORE). Nothing nests and nothing is left unpaired.
    """

    def __init__(self, code, citation, link):
        self.code, self.citation, self.link = code, citation, link

    @classmethod
    def for_patterns(cls, registry) -> "ProseReader | None":
        """A reader for these patterns, or None unless they are exactly those it stands in for, in that
        order: another extension's pattern could match prose, and it would then be skipped."""
        names = [item.name for item in registry._priority]
        known = {"backtick", "citation", "link", "em_strong"}
        if set(names) - known - set(TRIGGERS) or not known <= set(names):
            return None
        if [n for n in names if n in known] != ["backtick", "citation", "link", "em_strong"]:
            return None
        if any(registry[n].ANCESTOR_EXCLUDES or not isinstance(registry[n], TRIGGERS[n][0])
               for n in names if n in TRIGGERS):
            return None
        delimiters = getattr(registry["em_strong"], "delimiters", {})
        if ({t: (d.tags, d.smart, d.double) for t, d in delimiters.items()}
                != {"*": (("strong", "em"), False, False), "_": (("strong", "em"), True, False)}):
            return None
        citation = registry["citation"]
        if getattr(citation, "triggers", None) != ("[@",) or citation.ANCESTOR_EXCLUDES:
            return None
        return cls(registry["backtick"], citation, registry["link"])

    def read(self, data: str) -> "Prose | str | None":
        if REFUSED.search(data):
            return None
        pieces = self._bracketed(self._code_spans(data))
        if pieces is None:
            return None
        flat = "".join(ATOM if not isinstance(p, str) else p for p in pieces)
        pairs = emphasis_pairs(flat)
        if pairs is None:
            return None
        # Only now are citations made: making one numbers it and may report it, which must happen once.
        atoms = (self._made(p) for p in pieces if not isinstance(p, str))
        parts = self._emphasized(flat, pairs, lambda: next(atoms))
        return Prose(parts[0], _tailed(parts)) if len(parts) > 1 else parts[0]

    def _code_spans(self, data: str) -> list | None:
        """The text split into strings and code elements, as the backtick pattern, which runs first, splits it."""
        pieces, at = [], 0
        while (tick := data.find("`", at)) >= 0:
            element, start, end = self.code.handleMatch(self.code.compiled_re.match(data, tick), data)
            if element is None:  # an unclosed run of backticks
                return None
            pieces += [data[at:start], element]
            at = end
        return [*pieces, data[at:]]

    def _bracketed(self, pieces: list | None) -> list | None:
        """Citations and then links taken out of each string, with their matches to make them from; None
        if a bracket is left, or anything else prose does not hold."""
        if pieces is None:
            return None
        found = []
        for piece in pieces:
            split = self._links(self._citations(piece)) if isinstance(piece, str) and "[" in piece else [piece]
            if split is None:
                return None
            found += split
        return None if any(isinstance(p, str) and LEFT_OVER.search(p) for p in found) else found

    def _citations(self, text: str) -> list:
        pieces, at = [], 0
        for match in self.citation.compiled_re.finditer(text):
            pieces += [text[at:match.start()], ("citation", match, text)]
            at = match.end()
        return [*pieces, text[at:]]

    def _links(self, pieces: list) -> list | None:
        found = []
        for piece in pieces:
            at = 0
            while isinstance(piece, str) and (bracket := piece.find("[", at)) >= 0:
                element, start, end = self.link.handleMatch(self.link.compiled_re.match(piece, bracket), piece)
                text = element.text if element is not None else None
                pairs = emphasis_pairs(text) if text and not LEFT_OVER.search(text) else None
                if element is None or len(element) or pairs is None:
                    return None
                found += [piece[at:start], ("link", element, pairs)]
                at = end
            found.append(piece[at:] if isinstance(piece, str) else piece)
        return found

    def _made(self, piece):
        """The element for a code span, citation or link, as its pattern makes it."""
        if isinstance(piece, etree.Element):
            return piece
        kind, first, second = piece
        if kind == "citation":
            return self.citation.handleMatch(first, second)[0]
        if second:  # a link's text gets the patterns after it: its emphasis
            _fill(first, self._emphasized(first.text, second, None))
        return first

    def _emphasized(self, flat: str, pairs: list, atom) -> list:
        """`flat` as [text, element, text, ..., element, text]: each pair's emphasis, and each ATOM's
        element (`atom()` makes them in the order they are written), between the texts around them."""
        def split(text):  # called left to right, so atoms are made in the order they are written
            return _alternate(text.split(ATOM), atom) if atom is not None and ATOM in text else [text]
        out, at = [""], 0
        for start, end, size in pairs:
            element = etree.Element("strong" if size == 2 else "em")
            _join(out, split(flat[at:start]))
            _fill(element, split(flat[start + size:end - size]))
            out += [element, ""]
            at = end
        return _join(out, split(flat[at:]))


class Prose:
    """Text the prose reader read, as __processPlaceholders would leave it: the text before the first
    element, and the elements, each with the text that follows it as its tail."""

    __slots__ = ("text", "elements")

    def __init__(self, text: str, elements: list):
        self.text, self.elements = text, elements


def _alternate(parts: list, atom) -> list:
    """[parts[0], atom(), parts[1], atom(), ... parts[-1]]."""
    out = [parts[0]]
    for part in parts[1:]:
        out += [atom(), part]
    return out


def _join(out: list, parts: list) -> list:
    """Append [text, element, ..., text] to `out`, which ends with a text: the texts that meet are joined."""
    out[-1] += parts[0]
    out += parts[1:]
    return out


def _fill(element: etree.Element, parts: list):
    """Give `element` its text and children from [text, element, text, ...], as placeholders would: an
    empty text is left unset."""
    element.text = parts[0] or None
    element.extend(_tailed(parts))


def _tailed(parts: list) -> list:
    """The elements of [text, element, text, ...], each given the text after it as its tail (unset if empty)."""
    for child, tail in zip(parts[1::2], parts[2::2]):
        child.tail = tail or None
    return parts[1::2]


def emphasis_pairs(flat: str) -> list | None:
    """(start of the opening run, end of the closing run, 1 or 2) for each emphasis, when every `*` in
    `flat` pairs in the plain shape ProseReader reads; else None."""
    pairs, opening = [], None
    for match in RUN.finditer(flat):
        start, end = match.span()
        size = end - start
        before = flat[start - 1] if start else " "
        after = flat[end] if end < len(flat) else None
        if size > 2:
            return None
        if opening is None:
            if after is None or after.isspace() or not (before.isspace() or before in OPENS_AFTER):
                return None
            opening = (start, size)
        elif (size != opening[1] or before.isspace()
              or not (after is None or after.isspace() or after in CLOSES_BEFORE)):
            return None
        else:
            pairs.append((opening[0], end, size))
            opening = None
    return pairs if opening is None else None
