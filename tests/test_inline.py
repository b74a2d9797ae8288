"""Python-Markdown sped up (inline patterns skipped, prose read in one pass, block-level tags in a set)
gives exactly its own output."""

from __future__ import annotations

import contextlib
import pathlib

import markdown
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from markdown.extensions import Extension
import xml.etree.ElementTree as etree
from markdown.treeprocessors import InlineProcessor, Treeprocessor

from puente.convert import EXTENSIONS, Converter
from puente.inline import TRIGGERS, ProseReader, speed_up
from puente.model import LinkMap, Page

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


PROSE = ["*", "**", "***", "`", "`code`", "`a*b`", "``x`y``", "[", "]", "(", ")", "[@a]", "[@a; @b]", "[@zz]",
         "[x](y.md)", "[**x**](y.md)", "[*x* y](https://example.org/)", "[x](<a b.md>)", "[x] (y.md)",
         "[@a](y.md)", ".", ",", ";", ":", "!", "?", "¿", "¡", '"', "'", "-", "—", "_", "&", "<", "\\", "![",
         "  \n", "\n", "\t", " ", " ", " ", "word", "más", "a1"]
"""What prose is made of, and the characters around it that make the prose reader give up."""
CORE = ["*", "**", "***", " ", " ", "word", "b", ".", "(", ")", "¿", "`c`", "[@a]", "[x](y.md)", "\n"]
"""Few enough pieces that short texts try every way delimiters can meet words, spaces and punctuation."""
BLOCKS = ["{}", "- {}", "1. {}", "## {}", "> {}", "| {} | b |\n|---|---|\n| c | {} |", "!!! note \"{}\"\n    {}",
          "Term\n:   {}"]
"""Where prose is found: paragraphs, list items, headings, quotes, table cells, admonitions, definitions."""


def converters() -> tuple[Converter, Converter]:
    """The site's converter, and the same with Python-Markdown's own inline stage in place of ours."""
    links = LinkMap("/", {}, frozenset(), frozenset(), frozenset(["a", "b"]))
    ours, stock = Converter(links), Converter(links)
    stock.md.treeprocessors.register(InlineProcessor(stock.md), "inline", 20)
    return ours, stock


def page(body: str) -> Page:
    return Page("en", "content/en/p.md", "p.md", "p", "/en/p/", "T", "D", body, 5)


OURS, STOCK = converters()


@settings(max_examples=1500, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(CORE), max_size=10).map("".join) | st.lists(st.sampled_from(PROSE), max_size=30).map("".join),
       st.sampled_from(BLOCKS))
def test_prose_read_in_one_pass_converts_exactly_as_python_markdown_does(text, block):
    body = block.replace("{}", text)
    with reads() as read:
        ours = OURS.convert(page(body))
    stock = STOCK.convert(page(body))
    event("some text read as prose" if any(made is not None for made in read) else "no text read as prose")
    assert (ours.html, ours.citations, ours.diagnostics) == (stock.html, stock.citations, stock.diagnostics)


@contextlib.contextmanager
def reads():
    """What ProseReader.read gives, each time it is asked, while in the block."""
    read, original = [], ProseReader.read
    ProseReader.read = lambda self, data: read.append(original(self, data)) or read[-1]
    try:
        yield read
    finally:
        ProseReader.read = original


def test_the_prose_reader_reads_prose_and_gives_way_on_anything_else():
    with reads() as read:
        OURS.convert(page("Call **now**, then *wait* for `help` [@a] at [the page](y.md).\n\n"
                          "A hard  \nbreak, an &amp; entity, an a*b."))
    # The third text is the citation's "[1]", which the inline stage reads again, as Python-Markdown does.
    assert [made is not None for made in read] == [True, False, False]


class TailMaker(Treeprocessor):
    """Another extension's tree stage, run before the inline one: each paragraph's text becomes the tail of a
    <span> it puts first, so the inline stage reads that text as a tail."""

    def run(self, root):
        for paragraph in root.iter("p"):
            span = etree.Element("span")
            span.text, span.tail, paragraph.text = "x", paragraph.text, "lead "
            paragraph.insert(0, span)


def test_prose_left_as_a_tail_by_an_earlier_tree_stage_converts_as_python_markdown_does():
    ours, stock = converters()
    for converter in (ours, stock):
        converter.md.treeprocessors.register(TailMaker(converter.md), "tail_maker", 25)
    body = "Call **now**, then *wait* for `help` [@a] at [the page](y.md).\n\n*Only* emphasis, then text."
    with reads() as read:
        html = ours.convert(page(body)).html
    assert any(made is not None and not isinstance(made, str) for made in read)
    assert html == stock.convert(page(body)).html
    assert html.startswith("<p>lead <span>x</span>Call <strong>now</strong>, then <em>wait</em>")


def test_the_prose_reader_stands_in_only_for_the_patterns_it_knows():
    """Another extension's inline pattern could match prose: with one registered, every text takes the
    patterns' way."""
    assert OURS.md.treeprocessors["inline"].prose is not None
    extra = Converter(LinkMap("/", {}, frozenset(), frozenset(), frozenset()))
    extra.md.inlinePatterns.register(markdown.inlinepatterns.SimpleTagInlineProcessor(r"(~~)(.+?)~~", "del"),
                                     "del", 65)
    extra.convert(page("a ~~b~~ c"))
    assert extra.md.treeprocessors["inline"].prose is None
