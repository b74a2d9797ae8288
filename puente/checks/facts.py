"""Facts that must match between a page and its translation: figures, phone numbers, tel: links, URLs.

A *figure* is a number with a percent sign, a unit (mass, volume, time), "times"/"veces", or a
ratio such as "4 in 10"/"4 de cada 10". A bare number is not a figure: years (2024), phone
numbers, "24/7", list numbering and short numbers like 911 are not. Numbers are written the same
way in both languages on this site ("50%", "0.5 mg", "1-800-222-1222"), so facts are compared
after normalizing only the words around them: "50 times" and "50 veces" are both `50×`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

UNITS = {
    "%": ("%", "percent", "per cent", "por ciento", "porciento"),
    "×": ("times", "veces", "×", "x"),
    "mg": ("mg", "milligram", "milligrams", "miligramo", "miligramos"),
    "mcg": ("mcg", "µg", "μg", "microgram", "micrograms", "microgramo", "microgramos"),
    "g": ("g", "gram", "grams", "gramo", "gramos"),
    "kg": ("kg", "kilogram", "kilograms", "kilogramo", "kilogramos", "kilo", "kilos"),
    "lb": ("lb", "lbs", "pound", "pounds", "libra", "libras"),
    "ml": ("ml", "milliliter", "milliliters", "millilitre", "millilitres", "mililitro", "mililitros"),
    "s": ("second", "seconds", "segundo", "segundos"),
    "min": ("min", "minute", "minutes", "minuto", "minutos"),
    "h": ("h", "hour", "hours", "hora", "horas"),
    "d": ("day", "days", "día", "días", "dia", "dias"),
    "wk": ("week", "weeks", "semana", "semanas"),
    "mo": ("month", "months", "mes", "meses"),
    "yr": ("year", "years", "año", "años"),
}
"""Canonical unit -> the ways it is written in English and Spanish."""
_UNIT_OF = {form.casefold(): unit for unit, forms in UNITS.items() for form in forms}
_LOWERCASE_ONLY = {"g", "h", "x"}
"""One-letter units count only in lowercase, so "4G" or "Plan X" are not figures."""

NUMBER = r"\d+(?:[.,]\d+)*"
_START = r"(?<![\w.,/:#+-])"
"""A figure's number does not continue a word, a decimal, "24/7", a time of day or a phone number."""
_UNIT_FORMS = "|".join(sorted((re.escape(f) for f in _UNIT_OF), key=len, reverse=True)).replace(r"\ ", r"\s+")
FIGURE = re.compile(
    rf"{_START}(?P<low>{NUMBER})(?:\s*(?P<to>-|–|—|to|and|or|a|y|o)\s*(?P<high>{NUMBER}))?"
    rf"\s?(?P<unit>{_UNIT_FORMS})(?!\w)", re.IGNORECASE)
RATIO = re.compile(rf"{_START}(?P<part>{NUMBER})\s+(?:in|out\s+of|in\s+every|of\s+every|de\s+cada)\s+"
                   rf"(?P<whole>{NUMBER})(?!\w|[.,]\d)", re.IGNORECASE)
PHONE = re.compile(r"(?<![\w+/.,-])(?:\+\d{1,3}[ .-]?)?(?:1[ .-])?(?:\(\d{2,3}\)[ .-]?|\d{2,4}[ .-])"
                   r"\d{3,4}[ .-]\d{4}(?![\w-])")
VANITY = re.compile(r"(?<![\w-])(?:1-)?8\d\d-(?=[A-Z0-9]{3}-[A-Z0-9]{4}\b)(?=.{0,8}[A-Z])[A-Z0-9]{3}-[A-Z0-9]{4}\b")
"""Phone numbers spelled with letters, like 1-800-662-HELP."""
BARE_URL = re.compile(r"https?://[^\s<>\"')\]]+")
YEAR = re.compile(r"^(1[89]|20)\d\d$")
DIGIT = re.compile(r"\d")
"""Every figure and phone number has a digit; most prose has none, and one search rules it out."""

PHONE_NUMBER, TEL_LINK, WEB_ADDRESS, FIGURE_KIND = "phone number", "tel: link", "web address", "figure"


@dataclass(frozen=True)
class Fact:
    """One fact found in a page's text or links."""

    kind: str
    """`phone number`, `tel: link`, `web address` or `figure`."""
    key: str
    """The language-neutral form compared across languages, e.g. `4 in 10` or `18002221222`."""
    raw: str
    """The fact as written on the page."""


@lru_cache(maxsize=2048)
def figures(text: str) -> tuple[Fact, ...]:
    """Return the figures in `text`, in order (remembered: two checks ask about every block)."""
    if not DIGIT.search(text):
        return ()
    found = []
    for match in FIGURE.finditer(text):
        unit_text = match.group("unit")
        if unit_text in (u.upper() for u in _LOWERCASE_ONLY):
            continue
        unit = _UNIT_OF[" ".join(unit_text.casefold().split())]
        number = match.group("low") + (f"-{match.group('high')}" if match.group("high") else "")
        key = f"{number}{unit}" if unit in ("%", "×") else f"{number} {unit}"
        found.append((match.start(), Fact(FIGURE_KIND, key, match.group(0).strip())))
    for match in RATIO.finditer(text):
        if not YEAR.match(match.group("whole")):
            key = f"{match.group('part')} in {match.group('whole')}"
            found.append((match.start(), Fact(FIGURE_KIND, key, match.group(0))))
    return tuple(fact for _, fact in sorted(found, key=lambda pair: pair[0]))


def phone_numbers(text: str) -> list[Fact]:
    """Return the phone numbers written in `text` (seven digits or more, or spelled like 1-800-662-HELP)."""
    if not DIGIT.search(text):
        return []
    found = sorted([*PHONE.finditer(text), *VANITY.finditer(text)], key=lambda m: m.start())
    return [Fact(PHONE_NUMBER, re.sub(r"[^0-9A-Z+]", "", m.group(0)), m.group(0)) for m in found]


def link_facts(hrefs) -> list[Fact]:
    """Return the tel: links and external web addresses among published hrefs."""
    found = []
    for href in hrefs:
        scheme = href.split(":", 1)[0].lower() if ":" in href else ""
        if scheme == "tel":
            found.append(Fact(TEL_LINK, re.sub(r"[^0-9+*#]", "", unquote(href[4:])), href))
        elif scheme in ("http", "https", "mailto"):
            found.append(Fact(WEB_ADDRESS, normalize_url(href), href))
    return found


def text_urls(text: str) -> list[Fact]:
    """Return the web addresses written out in `text`."""
    if "http" not in text:
        return []
    return [Fact(WEB_ADDRESS, normalize_url(m.group(0).rstrip(".,;:")), m.group(0).rstrip(".,;:"))
            for m in BARE_URL.finditer(text)]


def normalize_url(url: str) -> str:
    """Lowercase the scheme and host and drop a trailing slash and fragment, which change nothing for a reader."""
    if url.lower().startswith("mailto:"):
        return url.lower()
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}{query}"


def block_facts(block) -> list[Fact]:
    """Return every fact of one text block: figures, phone numbers, tel: links and URLs."""
    return [*figures(block.text), *phone_numbers(block.text), *link_facts(block.links), *text_urls(block.text)]
