"""Translation stamps: which version of its source a translation was made from.

A translation records its source in its front matter as `source_hash: <lang>:<hash>`, e.g.
`source_hash: en:3f2a9c1d04b7` in content/es/naloxona.md: the page was translated from the English
page whose title and body then had that hash. Either language may be the source; the stamp names
it. When the source's title or body changes (beyond whitespace), the stamp no longer matches and
the translation is outdated. `python build.py status --mark FILE` writes the stamp.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from ..model import WARNING, Diagnostic, Page
from .review import front_matter_line

HASH_LENGTH = 12
PRESENT, MISSING, OUTDATED = "present", "missing", "outdated"


def content_hash(title: str, body: str) -> str:
    """Return a short hash of a page's title and Markdown body, blind to whitespace-only edits."""
    lines = [line.rstrip() for line in unicodedata.normalize("NFC", body).split("\n")]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    title = " ".join(unicodedata.normalize("NFC", title).split())
    return hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()[:HASH_LENGTH]


def stamp(page: Page) -> str:
    """Return the stamp a translation of `page` records: `<lang>:<hash>`."""
    return f"{page.lang}:{content_hash(page.title, page.body)}"


def parse_stamp(value: str) -> tuple[str | None, str]:
    """Split `en:3f2a9c1d04b7` into ('en', '3f2a9c1d04b7'); a bare hash gives (None, hash)."""
    lang, _, digest = value.strip().rpartition(":")
    return lang or None, digest


@dataclass(frozen=True)
class Translation:
    """What a page's stamp says about it."""

    page: Page
    source: Page | None
    """The page it was translated from, when the stamp names one that exists."""
    state: str
    """`present` (a source, up to date, or not stamped) or `outdated`."""
    problem: str = ""
    """Why the stamp cannot be checked, if it cannot."""


def translation_of(site, page: Page) -> Translation:
    """Tell whether `page` is up to date with the source its `source_hash` names."""
    if not page.source_hash:
        return Translation(page, None, PRESENT)
    lang, digest = parse_stamp(page.source_hash)
    others = [p for p in site.alternates(page)]
    if lang is None and len(others) == 1:
        lang = others[0].lang
    if lang not in site.config.langs or lang == page.lang:
        return Translation(page, None, PRESENT, f"source_hash {page.source_hash!r} does not name another "
                                                f"language ({', '.join(l for l in site.config.langs if l != page.lang)})")
    source = site.page(page.translation_key, lang)
    if source is None:
        return Translation(page, None, PRESENT, f"source_hash names the {lang} page, but there is no {lang} page "
                                                f"with translation_key {page.translation_key!r}")
    current = content_hash(source.title, source.body)
    return Translation(page, source, PRESENT if current == digest else OUTDATED)


def check_outdated_translations(site, rendered, seeds):
    """Warn when a translation's source changed after the translation was stamped."""
    for r in rendered:
        translation = translation_of(site, r.page)
        line = front_matter_line(site.config, r.page, "source_hash") if r.page.source_hash else 1
        mark = f"python build.py status --mark {r.page.source}"
        if translation.problem:
            yield Diagnostic(WARNING, "invalid-stamp", f"{translation.problem}: fix it, or stamp the page again "
                             f"with `{mark}`", r.page.source, line)
        elif translation.state == OUTDATED:
            yield Diagnostic(WARNING, "outdated-translation", f"{translation.source.source} changed after this "
                             f"translation was made from it: bring this page up to date (`python build.py status` "
                             f"shows what changed), then run `{mark}`", r.page.source, line)
