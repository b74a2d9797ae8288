"""Headings: the title is the page's only h1, and levels go down one step at a time."""

from __future__ import annotations

from ..model import ERROR, WARNING, Diagnostic


def check_headings(site, rendered, seeds):
    """A `#` heading in the body is a second h1; a heading may not skip a level (h2 -> h4)."""
    for r in rendered:
        previous = 1  # the template's h1 is the title
        for level, text, line in r.headings:
            if level == 1:
                hint = ("it repeats the title, which is already the page's heading: delete the line"
                        if text.casefold() == r.page.title.casefold()
                        else "the title is the page's only level-1 heading: write '## ' for a section")
                yield Diagnostic(ERROR, "extra-h1", f"heading '# {text}' is a second level-1 heading; {hint}",
                                 r.page.source, line)
            elif level > previous + 1:
                yield Diagnostic(WARNING, "skipped-heading-level",
                                 f"heading {'#' * level} {text!r} skips from level {previous} to {level}: write it "
                                 f"as {'#' * (previous + 1)} {text!r}, or add the missing level above it",
                                 r.page.source, line)
            previous = max(level, 1)
