"""Citations: every figure has a source in its paragraph, and every registered source is cited."""

from __future__ import annotations

from ..model import ERROR, WARNING, Diagnostic
from .blocks import HEADING, TITLE, line_of, page_blocks
from .facts import figures

SOURCES = "seeds/sources.yaml"


def check_uncited_figures(site, rendered, seeds):
    """A paragraph, list item or table with a figure (50%, 2 mg, 50 times, 4 in 10) must cite a source."""
    for r in rendered:
        for block in page_blocks(r):
            if block.cited or block.kind in (HEADING, TITLE):
                continue
            found = figures(block.text)
            if not found:
                continue
            quoted = ", ".join(f"'{fact.raw}'" for fact in found)
            noun, has = ("the figure", "has") if len(found) == 1 else ("the figures", "have")
            example = next(iter(seeds.sources), "cdc-fentanyl-facts")
            yield Diagnostic(ERROR, "uncited-figure", f"{noun} {quoted} in this {block.kind} {has} no citation: "
                             f"add its source from {SOURCES} where the {block.kind} ends, e.g. [@{example}]",
                             r.page.source, line_of(r.page, found[0].raw, block.line))


def check_unused_sources(site, rendered, seeds):
    """A source in the registry that no page cites is a warning at its line, so the registry stays honest."""
    cited = {key for r in rendered for key in r.citations}
    for source in seeds.sources.values():
        if source.id not in cited:
            yield Diagnostic(WARNING, "unused-source", f"source {source.id!r} is not cited by any page: cite it "
                             f"with [@{source.id}] where its facts are used, or remove it from the registry",
                             SOURCES, source.line)
