"""Fact parity: a page and its translation give the same phone numbers, links and figures.

A wrong hotline number in one language is dangerous, so every fact found on one side and not on
the other is reported where it is written, naming what the other side has instead.
"""

from __future__ import annotations

from babel import Locale

from ..model import WARNING, Diagnostic
from .blocks import line_of, page_blocks
from .facts import block_facts


def check_fact_parity(site, rendered, seeds):
    """Warn about each phone number, tel: link, URL or figure that only one language of a page has."""
    by_page = {r.page.source: r for r in rendered}
    langs = site.config.langs
    for r in rendered:
        for other in site.alternates(r.page):
            # Each pair once, from the side that comes first in site.toml's language order.
            if langs.index(other.lang) < langs.index(r.page.lang) or other.source not in by_page:
                continue
            mine, theirs = page_facts(r), page_facts(by_page[other.source])
            yield from _differences(r.page, other, mine, theirs)
            yield from _differences(other, r.page, theirs, mine)


def page_facts(rendered) -> dict:
    """Return {(kind, key): (as written, line)} for the first place each fact appears on the page."""
    facts = {}
    for block in page_blocks(rendered):
        for fact in block_facts(block):
            if (fact.kind, fact.key) not in facts:
                facts[(fact.kind, fact.key)] = (fact.raw, line_of(rendered.page, fact.raw, block.line))
    return facts


def _differences(page, other, mine: dict, theirs: dict):
    only_here = [key for key in mine if key not in theirs]
    for kind, key in only_here:
        raw, line = mine[(kind, key)]
        instead = [theirs[k][0] for k in theirs if k[0] == kind and k not in mine]
        other_lang = _language_name(other.lang)
        detail = (f" (it has {', '.join(repr(i) for i in instead)} instead)" if instead
                  else "")
        yield Diagnostic(WARNING, "fact-parity", f"{kind} {raw!r} is not in the {other_lang} version, "
                         f"{other.source}{detail}: make both pages give the same {kind}", page.source, line)


def _language_name(lang: str) -> str:
    try:
        return Locale.parse(lang).get_display_name("en")
    except (ValueError, LookupError):
        return lang
