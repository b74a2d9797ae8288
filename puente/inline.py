"""Python-Markdown made faster with the same output: the inline stage skips patterns that cannot match.

Python-Markdown tries each of its ~16 inline patterns on every piece of text, one regex search each,
and that was a quarter of each page's conversion. A pattern can only match text that holds its
opening character (a link needs "[", emphasis "*" or "_"), so when none is there the search is
skipped. The output is the same: a skipped pattern is one whose search would have found nothing.
Python-Markdown also asks whether each element's tag is block-level by searching a list of ~60
names; a set built once answers the same.
"""

from __future__ import annotations

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
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        # The loop of InlineProcessor.__handleInline (name-mangled, hence the name), plus the skip.
        if isinstance(data, util.AtomicString):
            return data
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
    """Give a Markdown instance, once all its extensions are registered, the skipping inline stage and a
    set lookup for block-level tags (a list lookup in Python-Markdown, asked for every element)."""
    md.treeprocessors.register(SkippingInlineProcessor(md), "inline", 20)
    block_level = frozenset(md.block_level_elements)
    md.is_block_level = lambda tag: isinstance(tag, str) and tag.lower().rstrip("/") in block_level


def _triggers(name: str, pattern) -> tuple[str, ...]:
    if getattr(pattern, "triggers", None):
        return pattern.triggers
    kind, triggers = TRIGGERS.get(name, (None, ()))
    return triggers if kind is not None and isinstance(pattern, kind) else ()
