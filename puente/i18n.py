"""UI strings: read each language's .po catalog directly (no compiled .mo on disk)."""

from __future__ import annotations

import functools
import io
import os
import re
from dataclasses import dataclass

from .model import ERROR, WARNING, Config, Diagnostic

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


@dataclass(frozen=True)
class Catalogs:
    """The compiled catalogs per language (None for the source language, English, or a missing one)."""

    compiled: dict
    """lang -> the catalog compiled to .mo bytes in memory, or None."""
    digests: dict
    """lang -> digest of the .po file, so the cache knows which pages a catalog change affects."""

    @functools.cached_property
    def translations(self) -> dict:
        """lang -> gettext translations, made only when a template is rendered."""
        import gettext
        return {lang: gettext.GNUTranslations(io.BytesIO(mo)) if mo else None for lang, mo in self.compiled.items()}


def catalog_path(config: Config, lang: str) -> str:
    return config.path("locales", lang, "LC_MESSAGES", "messages.po")


def load_catalogs(config: Config, cache=None) -> tuple[Catalogs, tuple[Diagnostic, ...]]:
    """Read `locales/<lang>/LC_MESSAGES/messages.po` for every non-English language."""
    diagnostics = []
    compiled, digests = {}, {}
    if not os.path.isdir(config.path("locales")):
        diagnostics.append(Diagnostic(ERROR, "missing-folder", "the locales/ folder is missing: it holds the "
                                      "translated UI strings (see README, 'Translating UI strings')", "locales"))
        return Catalogs({}, {}), tuple(diagnostics)
    for lang in config.langs:
        if lang == "en":
            compiled[lang], digests[lang] = None, ""
            continue
        digests[lang] = _file_digest(catalog_path(config, lang))
        found = cache.get("values", ("catalog", lang, digests[lang])) if cache else None
        if found is None:
            catalog, problems = read_catalog(config, lang)
            found = (_compile(catalog) if catalog is not None else None, tuple(problems))
            if cache:
                cache.put("values", ("catalog", lang, digests[lang]), found)
        compiled[lang] = found[0]
        diagnostics.extend(found[1])
    return Catalogs(compiled, digests), tuple(diagnostics)


def _file_digest(path: str) -> str:
    from .cache import digest
    try:
        with open(path, "rb") as f:
            return digest(f.read())
    except OSError:
        return "missing"


def read_catalog(config: Config, lang: str):
    """Return (babel Catalog or None, diagnostics) for one language."""
    from babel.messages.pofile import PoFileError, read_po
    path = catalog_path(config, lang)
    rel = config.relative(path)
    if not os.path.isfile(path):
        return None, [Diagnostic(WARNING, "missing-catalog", f"no catalog for {lang!r}: every UI string shows in "
                                 f"English; create it with `pybabel init -i locales/messages.pot -l {lang} -d locales`",
                                 rel)]
    try:
        with open(path, "rb") as f:
            catalog = read_po(f, locale=lang, abort_invalid=True)
    except PoFileError as exc:
        return None, [Diagnostic(ERROR, "po-syntax", f"the catalog cannot be read: {exc.args[0] if exc.args else exc}",
                                 rel, getattr(exc, "lineno", None))]
    except (UnicodeDecodeError, ValueError) as exc:
        return None, [Diagnostic(ERROR, "po-syntax", f"the catalog cannot be read: {exc}", rel)]
    return catalog, list(_catalog_problems(catalog, rel))


def _catalog_problems(catalog, rel: str):
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        line = message.lineno
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        if message.fuzzy:
            yield Diagnostic(WARNING, "fuzzy-string", f"fuzzy translation of {msgid!r}: English is shown until "
                             "a translator checks it and removes the '#, fuzzy' line", rel, line)
        elif not all(strings):
            yield Diagnostic(WARNING, "untranslated-string", f"no translation for {msgid!r}: English is shown",
                             rel, line)
        else:
            ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
            wanted = set().union(*(_placeholders(i) for i in ids))
            for string in strings:
                if _placeholders(string) != wanted:
                    yield Diagnostic(ERROR, "placeholder-mismatch",
                                     f"the translation of {msgid!r} has placeholders "
                                     f"{sorted(_placeholders(string)) or 'none'} but the English has "
                                     f"{sorted(wanted) or 'none'}: keep them exactly as in the msgid", rel, line)
                    break


def _placeholders(text: str) -> set:
    return {a or b for a, b in PLACEHOLDER.findall(text or "")}


def _compile(catalog) -> bytes:
    from babel.messages.mofile import write_mo
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, so their English msgid shows
    return buffer.getvalue()
