"""Stage 0: read and validate `site.toml` and the command-line overrides."""

from __future__ import annotations

import os
import re
import tomllib
from difflib import get_close_matches
from types import MappingProxyType
from urllib.parse import urlsplit

from .model import ERROR, Config, Diagnostic, Language

CONFIG_NAME = "site.toml"
SOURCE_FOLDERS = ("templates", "locales", "static", "seeds")
"""The project's folders that shape the site, beside the content folder and site.toml."""
KNOWN_KEYS = {"base_url", "default_lang", "languages", "allow_raw_html", "readability", "review_months"}
LANGUAGE_KEYS = {"title", "locale"}
READABILITY_DEFAULTS = {"en_grade": 8.0, "en_emergency_grade": 6.0,
                        "es_inflesz": 55.0, "es_emergency_inflesz": 65.0}


class ConfigError(Exception):
    """The configuration cannot be used; carries the diagnostics that say why."""

    def __init__(self, diagnostics):
        super().__init__("; ".join(str(d) for d in diagnostics))
        self.diagnostics = tuple(diagnostics)


def find_project_root(start: str) -> str:
    """Return the nearest folder at or above `start` holding site.toml, else `start`."""
    here = os.path.abspath(start)
    while True:
        if os.path.isfile(os.path.join(here, CONFIG_NAME)):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return os.path.abspath(start)
        here = parent


def load_config(root: str, *, content: str | None = None, output: str | None = None,
                base_url: str | None = None, preview: bool = False) -> Config:
    """Read site.toml under `root`, apply overrides and validate; raise ConfigError on problems."""
    root = os.path.abspath(root)
    path = os.path.join(root, CONFIG_NAME)
    rel = CONFIG_NAME
    if not os.path.isfile(path):
        raise ConfigError([Diagnostic(ERROR, "missing-config",
                                      f"no {CONFIG_NAME} in {root}: run the command in the project folder, "
                                      f"or create {CONFIG_NAME} (see README)", rel)])
    raw = _read_toml(path, rel)
    problems = list(_unknown_keys(raw, KNOWN_KEYS, rel, ""))
    languages = _languages(raw.get("languages"), rel, problems)
    default_lang = raw.get("default_lang", languages[0].code if languages else "en")
    if languages and default_lang not in {lang.code for lang in languages}:
        problems.append(Diagnostic(ERROR, "config-value",
                                   f"default_lang {default_lang!r} is not one of the languages "
                                   f"({', '.join(lang.code for lang in languages)})", rel))
    url = _base_url(base_url if base_url is not None else raw.get("base_url", "http://localhost:8000/"),
                    rel, problems, from_cli=base_url is not None)
    readability = _readability(raw.get("readability", {}), rel, problems)
    review_months = raw.get("review_months", 12)
    if not isinstance(review_months, int) or isinstance(review_months, bool) or review_months < 1:
        problems.append(Diagnostic(ERROR, "config-value",
                                   f"review_months must be a whole number of months, not {review_months!r}", rel))
    allow_raw_html = raw.get("allow_raw_html", False)
    if not isinstance(allow_raw_html, bool):
        problems.append(Diagnostic(ERROR, "config-value", "allow_raw_html must be true or false", rel))
    if problems:
        raise ConfigError(problems)
    return Config(
        root=root, config_path=path,
        content_dir=os.path.abspath(content) if content else os.path.join(root, "content"),
        output_dir=os.path.abspath(output) if output else os.path.join(root, "public"),
        base_url=url, languages=tuple(languages), default_lang=default_lang,
        allow_raw_html=allow_raw_html, include_drafts=preview, preview=preview,
        readability=MappingProxyType(readability), review_months=review_months,
    )


TOML_HINTS = (
    ("overwrite", "this setting is written twice: keep one"),
    ("twice", "this table is written twice: keep one"),
    ("Unescaped '\\'", "write \\\\ for a backslash"),
    ("", "text values are written in double quotes, e.g. default_lang = \"en\""),  # the usual cause
)


def _read_toml(path: str, rel: str) -> dict:
    """Parse site.toml; a BOM and CRLF line endings, which Windows editors add, are accepted."""
    try:
        with open(path, "rb") as f:
            data = f.read()
        return tomllib.loads(data.decode("utf-8-sig"))
    except OSError as exc:
        problem = Diagnostic(ERROR, "config-syntax", f"{CONFIG_NAME} cannot be read ({exc.strerror})", rel)
    except UnicodeDecodeError as exc:
        problem = Diagnostic(ERROR, "config-syntax", f"{CONFIG_NAME} is not UTF-8 (byte 0x{data[exc.start]:02x}): "
                             "save it as UTF-8", rel, data[: exc.start].count(b"\n") + 1)
    except tomllib.TOMLDecodeError as exc:
        reason = re.sub(r" \(at (line \d+, column \d+|end of document)\)$", "", str(exc))
        hint = next(h for needle, h in TOML_HINTS if needle in reason)
        problem = Diagnostic(ERROR, "config-syntax", f"invalid TOML: {reason}: {hint}", rel, _toml_line(str(exc)))
    raise ConfigError([problem])


def _languages(table, rel, problems) -> list[Language]:
    if not isinstance(table, dict) or not table:
        problems.append(Diagnostic(ERROR, "config-value",
                                   "[languages] must list each language, e.g. [languages.en] title = \"...\"", rel))
        return []
    languages = []
    for code, settings in table.items():
        if not isinstance(settings, dict) or not isinstance(settings.get("title"), str):
            problems.append(Diagnostic(ERROR, "config-value", f"[languages.{code}] needs a title", rel))
            continue
        problems.extend(_unknown_keys(settings, LANGUAGE_KEYS, rel, f"languages.{code}."))
        locale = settings.get("locale", code)
        try:
            from babel import Locale
            Locale.parse(locale)
        except (ValueError, TypeError, LookupError):
            problems.append(Diagnostic(ERROR, "config-value",
                                       f"[languages.{code}] locale {locale!r} is not a known locale (e.g. es_MX)", rel))
            continue
        languages.append(Language(code=code, locale=locale, title=settings["title"]))
    return languages


def _base_url(value, rel, problems, from_cli: bool) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if not parts or parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        where = "--base-url" if from_cli else "base_url"
        problems.append(Diagnostic(ERROR, "config-value",
                                   f"{where} {value!r} must be an absolute http(s) URL such as "
                                   "https://example.org/fentanyl/", rel))
        return "http://localhost/"
    return value if value.endswith("/") else value + "/"


def _readability(table, rel, problems) -> dict:
    if not isinstance(table, dict):
        problems.append(Diagnostic(ERROR, "config-value", "[readability] must be a table", rel))
        return dict(READABILITY_DEFAULTS)
    problems.extend(_unknown_keys(table, set(READABILITY_DEFAULTS), rel, "readability."))
    values = dict(READABILITY_DEFAULTS)
    for key, value in table.items():
        if key in values:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                values[key] = float(value)
            else:
                problems.append(Diagnostic(ERROR, "config-value", f"readability.{key} must be a number", rel))
    return values


def _unknown_keys(table: dict, known: set, rel: str, prefix: str):
    for key in table:
        if key not in known:
            hint = get_close_matches(key, sorted(known), n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            yield Diagnostic(ERROR, "config-unknown-key", f"unknown setting {prefix}{key!r}{suggestion}", rel)


def _toml_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None
