"""Glossary: the terms of seeds/glossary.yaml are used consistently across a page and its translation."""

from __future__ import annotations

import functools
import os

import yaml

from ..model import ERROR, WARNING, Diagnostic
from .blocks import line_of, page_blocks
from .words import words

GLOSSARY = "seeds/glossary.yaml"


def check_glossary(site, rendered, seeds):
    """When one language's page uses a glossary term, its translation must use one of the term's forms."""
    entries, problems = load_glossary(site.config)
    yield from problems
    if not entries:
        return
    by_page = {r.page.source: r for r in rendered}
    for r in rendered:
        text = _searchable(r)
        for other in site.alternates(r.page):
            if other.source not in by_page:
                continue
            theirs = _searchable(by_page[other.source])
            for entry, line in entries:
                if other.lang not in entry:  # a term the glossary gives no translation for
                    continue
                used = _first_use(entry.get(r.page.lang, ()), text)
                if used and not _first_use(entry[other.lang], theirs):
                    forms = ", ".join(repr(f) for f in entry.get(other.lang, ()))
                    yield Diagnostic(WARNING, "glossary", f"{r.page.source}:{line_of(r.page, used, r.page.body_line, ignore_case=True)} "
                                     f"uses {used!r}, but this translation uses none of its glossary forms "
                                     f"({forms}, {GLOSSARY}:{line}): use one of them, or add the form you "
                                     "use to the glossary", other.source, 1)


def load_glossary(config):
    """Return ([({lang: (forms...)}, line)], diagnostics) from seeds/glossary.yaml (optional)."""
    path = config.path(*GLOSSARY.split("/"))
    if not os.path.isfile(path):
        return [], []
    with open(path, "rb") as f:
        return _parse_glossary(f.read())


@functools.lru_cache(maxsize=4)
def _parse_glossary(data: bytes):
    """Parse the glossary once per content: the check runs once per page."""
    try:
        node = yaml.compose(data.decode("utf-8-sig"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        data = yaml.SafeLoader("").construct_document(node) if node is not None else []
    except (yaml.YAMLError, ValueError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        return [], [Diagnostic(ERROR, "glossary-syntax", f"invalid YAML: {getattr(exc, 'problem', None) or exc}",
                               GLOSSARY, mark.line + 1 if mark else None)]
    if not isinstance(data, list):
        return [], [Diagnostic(ERROR, "glossary-syntax", "the glossary must be a YAML list of entries like "
                               "'- en: [naloxone]' / '  es: [naloxona]'", GLOSSARY, 1)]
    entries, problems = [], []
    for entry, item in zip(data, node.value):
        line = item.start_mark.line + 1
        forms = {lang: value for lang, value in entry.items()} if isinstance(entry, dict) else None
        if not forms or not all(isinstance(v, list) and v and all(isinstance(f, str) for f in v)
                                for v in forms.values()):
            problems.append(Diagnostic(ERROR, "invalid-glossary-entry", "a glossary entry lists the forms of one "
                                       "term per language, e.g. 'en: [overdose, overdoses]'", GLOSSARY, line))
            continue
        entries.append(({lang: tuple(v) for lang, v in forms.items()}, line))
    return entries, problems


def _searchable(rendered) -> tuple[str, frozenset]:
    """The page's words, case-folded, one space apart and padded (a form is found by a substring search),
    and the set of those words."""
    return _padded(" ".join([rendered.page.title, *(block.text for block in page_blocks(rendered))]))


@functools.lru_cache(maxsize=64)
def _padded(text: str) -> tuple[str, frozenset]:
    # Each page is searched by its own pair check and by its translation's, in both directions.
    words = _words(text)
    return " " + " ".join(words) + " ", frozenset(words)


def _words(text: str) -> list[str]:
    return words(text.casefold())


def _first_use(forms, searchable: tuple[str, frozenset]) -> str | None:
    """Return the first form used in the page as a whole word or phrase, case-insensitively."""
    text, words = searchable
    for form in forms:
        phrase, first = _phrase(form)
        if first in words and phrase in text:  # most forms' first word is not on the page: no search
            return form
    return None


@functools.lru_cache(maxsize=4096)
def _phrase(form: str) -> tuple[str, str]:
    """A glossary form as it is searched for (every page asks about every form), and its first word."""
    words = _words(form)
    return f" {' '.join(words)} ", words[0] if words else ""
