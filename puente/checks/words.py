"""Word characters, as Python's regular expressions mean `\\w`, found at the speed of bytes.translate.

The checks cut every page into words several times (to locate blocks in the source, to search the
glossary, to count words for readability), and a regular expression over a page's text, replacing
or finding ~1,000 runs of punctuation and space, was a tenth of the checks' time. Text that Latin-1
encodes (English, Spanish without curly quotes), else cp1252 (curly quotes, dashes and ellipses
too), is classified one byte per character through tables made from those same patterns; other
text still takes the regular expressions. Latin-1 is tried first because Python encodes and
decodes it without a lookup table.
"""

from __future__ import annotations

import re

NON_WORD = re.compile(r"[^\w\n]+")
PUNCTUATION = re.compile(r"[^\w\s']")
ENCODINGS = ("latin-1", "cp1252")


def _bytes_of(pattern: re.Pattern, encoding: str) -> bytes:
    """The bytes whose character `pattern` matches; a byte no character encodes to is left out."""
    found = []
    for byte in range(256):
        try:
            char = bytes([byte]).decode(encoding)
        except UnicodeDecodeError:
            continue
        if pattern.fullmatch(char):
            found.append(byte)
    return bytes(found)


def _spacing(encoding: str) -> bytes:
    """A translation table: each byte of a character neither a word character nor a newline to a space."""
    spaced = _bytes_of(NON_WORD, encoding)
    return bytes.maketrans(spaced, b" " * len(spaced))


SPACED = {encoding: (_spacing(encoding),) for encoding in ENCODINGS}
"""bytes.translate's arguments, per encoding, for `spaced`."""
UNPUNCTUATED = {encoding: (None, _bytes_of(PUNCTUATION, encoding)) for encoding in ENCODINGS}
"""bytes.translate's arguments, per encoding, for `without_punctuation`: no table, the bytes to delete."""


def spaced(text: str) -> str:
    """`text` with the characters that are neither word characters nor newlines replaced by spaces."""
    found = _translated(text, SPACED)
    return NON_WORD.sub(" ", text) if found is None else found


def without_punctuation(text: str) -> str:
    """`text` without the characters that are neither word characters, whitespace nor apostrophes."""
    found = _translated(text, UNPUNCTUATED)
    return PUNCTUATION.sub("", text) if found is None else found


def _translated(text: str, arguments: dict) -> str | None:
    """`text` through bytes.translate in the first encoding that holds it, or None when none does."""
    for encoding in ENCODINGS:
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            continue
        return data.translate(*arguments[encoding]).decode(encoding)
    return None


def words(text: str) -> list[str]:
    """The runs of word characters in `text`, as re.findall(r"\\w+", text) gives them."""
    return spaced(text).split()


def word_lines(text: str) -> list[str]:
    """Each line of `text` as its words, one space apart."""
    return [" ".join(line.split()) for line in spaced(text).split("\n")]
