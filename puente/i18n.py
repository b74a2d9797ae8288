"""UI strings: read each language's .po catalog directly (no compiled .mo on disk)."""

from __future__ import annotations

import functools
import io
import os
import re
from dataclasses import dataclass

from .model import ERROR, WARNING, Config, Diagnostic

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|\{\w+\}")
"""Placeholders as written: `%(name)s` and `{name}` differ, so a translation must keep the English style."""
PLACEHOLDER_NAME = re.compile(r"%\((\w+)\)")


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
                                      "translated UI strings; restore it with `git checkout -- locales` (see README, "
                                      "'Translating the interface')", "locales"))
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
    text, problem = _read_po_text(path, rel)
    if problem:
        return None, [problem]
    # Babel reads an unclosed quote or a stray word without complaint, dropping characters: check the lines first.
    msgstr_lines, problems = scan_po(text, rel)
    if problems:
        return None, problems
    try:
        catalog = read_po(io.BytesIO(text.encode("utf-8")), locale=lang, abort_invalid=True)
    except PoFileError as exc:
        reason = re.sub(r" on \d+$", "", str(exc.args[0] if exc.args else exc))
        return None, [Diagnostic(ERROR, "po-syntax", f"the catalog cannot be read: {reason}", rel,
                                 exc.lineno + 1 if getattr(exc, "lineno", None) is not None else None)]
    except ValueError as exc:
        return None, [Diagnostic(ERROR, "po-syntax", f"the catalog cannot be read: {exc}", rel)]
    problems, broken = [], []
    for message in (m for m in catalog if m.id):
        found = list(_message_problems(message, rel, msgstr_lines.get((_msgid(message), message.context))))
        problems += found
        if any(d.level == ERROR for d in found):
            broken.append(message)
    for message in broken:  # its English shows instead of a string that would break every page using it
        catalog.delete(message.id, context=message.context)
    return catalog, problems


def _read_po_text(path: str, rel: str):
    """Return (text, None) or (None, diagnostic); a BOM and CRLF line endings are accepted."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        return None, Diagnostic(ERROR, "po-syntax", f"the catalog cannot be read ({exc.strerror})", rel)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, Diagnostic(ERROR, "po-syntax", f"the catalog is not UTF-8 (byte 0x{data[exc.start]:02x}): "
                                "save it as UTF-8", rel, data[: exc.start].count(b"\n") + 1)
    return text.replace("\r\n", "\n").replace("\r", "\n"), None


PO_KEYWORD = re.compile(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)(?:\s+(.*))?")
PO_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
PO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def scan_po(text: str, rel: str) -> tuple[dict, list[Diagnostic]]:
    """Check every line of a .po file; return ({(msgid, msgctxt): line of its msgstr}, problems)."""
    problems, msgstr_lines = [], {}
    entry, keyword = {}, None
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = PO_KEYWORD.fullmatch(line)
        if match:
            previous, keyword, line = keyword, match.group(1), match.group(2) or ""
            if keyword == "msgctxt" or keyword == "msgid" and previous != "msgctxt":
                entry = {"msgctxt": None, "msgid": ""}
            if keyword in ("msgctxt", "msgid"):
                entry[keyword] = ""
        problem = _po_line_problem(line, match is not None, keyword, number, rel)
        if problem:
            problems.append(problem)
        elif keyword in ("msgctxt", "msgid"):
            entry[keyword] += _unescape(line[1:-1])
        elif match and keyword in ("msgstr", "msgstr[0]"):
            key = (entry.get("msgid", ""), entry.get("msgctxt"))
            if key in msgstr_lines:
                problems.append(Diagnostic(ERROR, "po-syntax", f"msgid {key[0]!r} is translated twice (first on "
                                           f"line {msgstr_lines[key]}): keep one of them", rel, number))
            msgstr_lines.setdefault(key, number)
    return msgstr_lines, problems


def _po_line_problem(line: str, has_keyword: bool, keyword, number: int, rel: str) -> Diagnostic | None:
    if keyword is None or not has_keyword and not line.startswith('"'):
        word = line.split()[0]
        return Diagnostic(ERROR, "po-syntax", f"{word!r} is not a PO keyword: each line starts with msgid, msgstr, "
                          "msgctxt, msgid_plural, a quote or #", rel, number)
    if not PO_STRING.fullmatch(line):
        return Diagnostic(ERROR, "po-syntax", "the text must be in double quotes, closed on the same line, with \\\" "
                          f"for a quote inside it: {line[:40]!r}", rel, number)
    unknown = [m.group(1) for m in re.finditer(r"\\(.)", line[1:-1]) if m.group(1) not in PO_ESCAPES]
    if unknown:
        return Diagnostic(ERROR, "po-syntax", f"unknown escape '\\{unknown[0]}': write \\\\ for a backslash",
                          rel, number)
    return None


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: PO_ESCAPES.get(m.group(1), m.group(1)), text)


def _msgid(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _message_problems(message, rel: str, msgstr_line: int | None):
    msgid = _msgid(message)
    line = msgstr_line or message.lineno
    strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    if message.fuzzy:
        yield Diagnostic(WARNING, "fuzzy-string", f"fuzzy translation of {msgid!r}: English is shown until "
                         "a translator checks it and removes the '#, fuzzy' line", rel, message.lineno)
        return
    if not all(strings):
        yield Diagnostic(WARNING, "untranslated-string", f"no translation for {msgid!r}: English is shown",
                         rel, message.lineno)
        return
    ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
    wanted = set().union(*(_placeholders(i) for i in ids))
    for string in strings:
        if _placeholders(string) != wanted:
            yield Diagnostic(ERROR, "placeholder-mismatch", f"the translation of {msgid!r} has placeholders "
                             f"{sorted(_placeholders(string)) or 'none'} but the English has {sorted(wanted) or 'none'}"
                             ": keep them exactly as in the msgid", rel, line)
            return
        if _fills(ids[0]) and not _fills(string):
            yield Diagnostic(ERROR, "placeholder-mismatch", f"the translation of {msgid!r} has a lone '%', which "
                             "would break every page showing it: write %% for a percent sign", rel, line)
            return


def _fills(text: str) -> bool:
    """Tell whether Jinja's newstyle gettext, which always applies `%`, can fill in this string."""
    try:
        text % {name: "" for name in PLACEHOLDER_NAME.findall(text)}
    except (ValueError, TypeError, KeyError):
        return False
    return True


def _placeholders(text: str) -> set:
    return set(PLACEHOLDER.findall(text or ""))


def _compile(catalog) -> bytes:
    from babel.messages.mofile import write_mo
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, so their English msgid shows
    return buffer.getvalue()
