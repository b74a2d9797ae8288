"""Python-Markdown's inline stage, skipping the patterns that cannot match a piece of text.

Python-Markdown tries each of its ~16 inline patterns on every piece of text, one regex search each,
and that was a quarter of each page's conversion. A pattern can only match text that holds its
opening character (a link needs "[", emphasis "*" or "_"), so when none is there the search is
skipped. The output is the same: a skipped pattern is one whose search would have found nothing.
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
        self.triggered = [(pattern, _triggers(item.name, pattern))
                          for item, pattern in zip(self.inlinePatterns._priority, patterns)]
        return super().run(tree, ancestors)

    def _InlineProcessor__handleInline(self, data: str, patternIndex: int = 0) -> str:
        # The loop of InlineProcessor.__handleInline (name-mangled, hence the name), plus the skip.
        if isinstance(data, util.AtomicString):
            return data
        apply = self._InlineProcessor__applyPattern
        triggered = self.triggered
        startIndex = 0
        while patternIndex < len(triggered):
            pattern, triggers = triggered[patternIndex]
            if startIndex == 0 and triggers and not any(t in data for t in triggers):
                patternIndex += 1
                continue
            data, matched, startIndex = apply(pattern, data, patternIndex, startIndex)
            if not matched:
                patternIndex += 1
        return data


def _triggers(name: str, pattern) -> tuple[str, ...]:
    if getattr(pattern, "triggers", None):
        return pattern.triggers
    kind, triggers = TRIGGERS.get(name, (None, ()))
    return triggers if kind is not None and isinstance(pattern, kind) else ()
