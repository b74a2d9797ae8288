"""Python-Markdown sped up (inline patterns skipped, block-level tags in a set) gives exactly its own output."""

from __future__ import annotations

import pathlib

import markdown
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown.extensions import Extension

from puente.convert import EXTENSIONS
from puente.inline import TRIGGERS, speed_up

ROOT = pathlib.Path(__file__).resolve().parent.parent

PIECES = ["*", "**", "***", "_", "__", "`", "``", "\\", "[", "]", "(", ")", "![", "[^1]", "[^1]: note", "<", ">",
          "&", "&amp;", "&#35;", "&copy;", "  \n", "\n", "\n\n", " ", "word", "palabra ñandú", "<b>", "</b>",
          "<https://example.org/>", "<a@example.org>", "[x](y.md)", "[x][r]", "[r]: /r/", "![alt](/i.png)",
          "*[HTML]: Hyper", "{: .c }", "{#id}", "1. ", "- ", "> ", "# ", "| a | b |\n|---|---|\n", "~~", "@"]


EACH_PATTERN = {
    "backtick": "a `code` b and \\\\`x`", "escape": "not \\*em\\*", "reference": "[text][r]\n\n[r]: /r/",
    "link": "a [link](page.md) b", "image_link": "an ![image](/i.png) b",
    "image_reference": "![alt][i]\n\n[i]: /i.png", "short_reference": "[r]\n\n[r]: /r/",
    "short_image_ref": "![i]\n\n[i]: /i.png", "autolink": "see <https://example.org/>",
    "automail": "write <a@example.org>", "linebreak": "one  \ntwo", "html": "a <b>bold</b> word",
    "entity": "a &copy; b &#35; c", "em_strong": "*em* **strong** _em_ __strong__ ***both***",
    "footnote": "text[^1]\n\n[^1]: the note",
}
"""One text per pattern, each of which that pattern changes."""


class Skipping(Extension):
    def extendMarkdown(self, md):
        speed_up(md)


def convert_both(text: str) -> tuple[str, str]:
    stock = markdown.Markdown(extensions=[*EXTENSIONS], output_format="html")
    skipping = markdown.Markdown(extensions=[*EXTENSIONS, Skipping()], output_format="html")
    return stock.convert(text), skipping.convert(text)


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=3), max_size=40).map("".join))
def test_generated_markdown_converts_exactly_as_python_markdown_does(text):
    stock, skipping = convert_both(text)
    assert skipping == stock


@pytest.mark.parametrize("name", sorted(EACH_PATTERN))
def test_each_pattern_still_applies(name):
    skipping = markdown.Markdown(extensions=[*EXTENSIONS, Skipping()], output_format="html")
    pattern, fired = skipping.inlinePatterns[name], []
    handle = pattern.handleMatch
    pattern.handleMatch = lambda m, data: fired.append(handle(m, data)) or fired[-1]
    assert skipping.convert(EACH_PATTERN[name]) == convert_both(EACH_PATTERN[name])[0]
    assert any(node is not None for node, _, _ in fired), f"{name} never matched its sample"


def test_every_page_of_the_project_converts_exactly_as_python_markdown_does():
    pages = sorted((ROOT / "content").rglob("*.md"))
    assert len(pages) >= 20
    for path in pages:
        stock, skipping = convert_both(path.read_text(encoding="utf-8"))
        assert skipping == stock, path


def test_every_standard_pattern_is_known_so_it_can_be_skipped():
    """A Markdown upgrade that renames or replaces a pattern would silently lose the skip: say so instead."""
    md = markdown.Markdown(extensions=[*EXTENSIONS, Skipping()])
    names = [item.name for item in md.inlinePatterns._priority]
    assert set(names) == set(TRIGGERS) == set(EACH_PATTERN)
    for name in names:
        assert isinstance(md.inlinePatterns[name], TRIGGERS[name][0]), name
