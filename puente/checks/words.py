"""Word characters, as Python's regular expressions mean `\\w`, found at the speed of bytes.translate.

The checks cut every page into words several times (to locate blocks in the source, to search the
glossary), and a regular expression over a page's text, replacing or finding ~1,000 runs of
punctuation and space, was a tenth of the checks' time. Text that cp1252 encodes (English and
Spanish, curly quotes, dashes and ellipses included) is classified one byte per character through a
table made from that same `\\w`; other text still takes the regular expression.
"""

from __future__ import annotations

import re

NON_WORD = re.compile(r"[^\w\n]+")
PUNCTUATION = re.compile(r"[^\w\s']")
ENCODING = "cp1252"


def _bytes_of(pattern: re.Pattern) -> bytes:
    """The bytes whose character (in ENCODING) `pattern` matches; a byte no character encodes to is left out."""
    found = []
    for byte in range(256):
        try:
            char = bytes([byte]).decode(ENCODING)
        except UnicodeDecodeError:
            continue
        if pattern.fullmatch(char):
            found.append(byte)
    return bytes(found)


SPACED = bytes.maketrans(_bytes_of(NON_WORD), b" " * len(_bytes_of(NON_WORD)))
"""Each byte of a character that is neither a word character nor a newline to a space."""
PUNCTUATION_BYTES = _bytes_of(PUNCTUATION)


def spaced(text: str) -> str:
    """`text` with the characters that are neither word characters nor newlines replaced by spaces."""
    try:
        data = text.encode(ENCODING)
    except UnicodeEncodeError:
        return NON_WORD.sub(" ", text)
    return data.translate(SPACED).decode(ENCODING)


def without_punctuation(text: str) -> str:
    """`text` without the characters that are neither word characters, whitespace nor apostrophes."""
    try:
        data = text.encode(ENCODING)
    except UnicodeEncodeError:
        return PUNCTUATION.sub("", text)
    return data.translate(None, PUNCTUATION_BYTES).decode(ENCODING)


def words(text: str) -> list[str]:
    """The runs of word characters in `text`, as re.findall(r"\\w+", text) gives them."""
    return spaced(text).split()


def word_lines(text: str) -> list[str]:
    """Each line of `text` as its words, one space apart."""
    return [" ".join(line.split()) for line in spaced(text).split("\n")]
