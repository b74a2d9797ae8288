"""Stage 2: pair every page with its translations, in one pass over both languages."""

from __future__ import annotations

from collections import defaultdict
from difflib import get_close_matches

from .model import ERROR, WARNING, Config, Diagnostic, Site


def pair_translations(config: Config, pages, unavailable=frozenset(), memory: dict | None = None
                      ) -> tuple[Site, tuple[Diagnostic, ...]]:
    """Group pages by translation key; report duplicate keys, clashing URLs and keys that match nothing.

    With the cache's in-process memory (the preview's), pages that pair exactly as last time (the
    same keys, URLs and files) reuse last time's outcome: most saves change no page's pairing.
    """
    if memory is None:
        return _pair(config, pages, unavailable)
    pairing = (config.langs, tuple(sorted(unavailable)),
               [(p.translation_key, p.lang, p.url, p.source, "translation_key" in p.meta and _key_line(p)) for p in pages])
    if memory.get("pairing", (None,))[0] == pairing:
        _, kept, diagnostics = memory["pairing"]
        return Site(config, [pages[i] for i in kept]), diagnostics
    site, diagnostics = _pair(config, pages, unavailable)
    index = {id(page): i for i, page in enumerate(pages)}
    memory["pairing"] = (pairing, [index[id(page)] for page in site.pages], diagnostics)
    return site, diagnostics


def _pair(config: Config, pages, unavailable) -> tuple[Site, tuple[Diagnostic, ...]]:
    diagnostics = []
    kept = []
    by_key = defaultdict(list)
    for page in pages:
        by_key[(page.translation_key, page.lang)].append(page)
    for (key, lang), group in sorted(by_key.items()):
        kept.append(group[0])
        if len(group) > 1:
            diagnostics.extend(_duplicate(group, "duplicate-key",
                                          f"translation_key {key!r} is used by more than one {lang} page"))
    by_url = defaultdict(list)
    for page in kept:
        by_url[page.url].append(page)
    for url, group in sorted(by_url.items()):
        if len(group) > 1:
            diagnostics.extend(_duplicate(group, "duplicate-url", f"more than one page is published at {url}"))
    kept = [group[0] for group in by_url.values()]
    diagnostics.extend(_unmatched_keys(config, kept, unavailable))
    return Site(config, kept), tuple(diagnostics)


def _duplicate(group, code: str, message: str):
    files = ", ".join(p.source for p in group)
    for page in group:
        yield Diagnostic(ERROR, code, f"{message}: {files}; give each page its own", page.source, 1)


def _unmatched_keys(config: Config, pages, unavailable=frozenset()):
    """Warn when an explicit translation_key pairs with nothing: usually a typo that silently unpairs.

    A page whose counterpart failed to load is not warned about: that file's own error says enough.
    """
    keys = defaultdict(set)
    for page in pages:
        keys[page.lang].add(page.translation_key)
    for lang, rel_path in unavailable:
        keys[lang].add(rel_path[:-3])
    for page in pages:
        if "translation_key" not in page.meta:
            continue
        others = [lang for lang in config.langs if lang != page.lang]
        if any(page.translation_key in keys[lang] for lang in others):
            continue
        candidates = sorted(set().union(*(keys[lang] for lang in others)))
        hint = get_close_matches(page.translation_key, candidates, n=1)
        yield Diagnostic(WARNING, "unmatched-key",
                         f"translation_key {page.translation_key!r} matches no page in "
                         f"{', '.join(others)}" + (f"; did you mean {hint[0]!r}?" if hint else ""),
                         page.source, _key_line(page))


def _key_line(page) -> int:
    return 1 + next((i for i, key in enumerate(page.meta, start=1) if key == "translation_key"), 0)
