"""Generated front matter and Markdown: the build never raises, and what it makes is valid UTF-8 and safe.

It also holds the checks' fast HTML reader to HTMLParser on every generated page.

The pipeline is called in-process on one scratch project whose generated page is rewritten for every
example; the examples are fixed (derandomize) so CI sees the same ones every run.
"""

from __future__ import annotations

import datetime
from html.parser import HTMLParser

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import BILINGUAL, Scratch

from puente.checks.blocks import scan
from puente.config import load_config
from puente.convert import Converter
from puente.model import LinkMap
from puente.pipeline import build

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
"""Any character a UTF-8 file can hold: accents, emoji, RTL marks, NUL, control and line-separator characters."""

YAML_ODDITIES = [
    "title: yes", "title: 'unclosed", 'title: "bad \\q escape"', "title: [a, b", "title: {a: 1", "? [a, b]\n: c",
    "title: &anchor x", "description: *missing", "title: !!python/object/apply:os.system [ls]", "title: !custom x",
    "title: |\n  block\n  text", "title: >\n  folded", "<<: {title: merged}", "reviewed: 2023-02-30",
    "reviewed: 2023-13-45", "reviewed: 2023-10-06 12:30:00", "order: 0x1F", "order: 1e400", "order: .nan",
    "order: " + "9" * 5000, "order: -99999999999999999999999", "title:\tx", "\ttitle: x", "- a list", "...",
    "%YAML 1.1", "title: ~", "title: ''", "draft: maybe", "slug: Año Nuevo", "slug: ../../etc", "template: ../x.html",
    "translation_key: ../../x", "title: x\ntitle: y", "title: a: b", "title: @at", "title: `tick`", "title: #",
    "nested:\n  deep:\n    deeper: [1, [2, [3]]]", "title: \u2028x", "title: x\x85y", "title: a\x01b",
]
SCALARS = (TEXT | st.integers(-(10 ** 30), 10 ** 30) | st.floats() | st.booleans() | st.none()
           | st.dates(min_value=datetime.date(1900, 1, 1)) | st.datetimes(min_value=datetime.datetime(1900, 1, 1)))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                      max_leaves=6)
KEYS = st.sampled_from(["title", "description", "slug", "translation_key", "order", "reviewed", "draft",
                        "template", "source_hash"]) | TEXT


@st.composite
def front_matter(draw) -> str:
    """Front matter text: usable, a dumped mapping of any values (often wrong types), or lines that may not be YAML."""
    kind = draw(st.sampled_from(["usable", "usable", "any values", "odd lines"]))
    if kind == "usable":  # gets the page through loading, so its body is converted, sanitized and templated
        meta = {"title": "T" + draw(TEXT), "description": draw(TEXT.map(lambda t: "D" + t))}
        meta.update(draw(st.fixed_dictionaries({}, optional={"order": st.integers(), "draft": st.just(False),
                                                            "reviewed": st.dates(), "unknown key": VALUES})))
        return yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    if kind == "any values":
        meta = {"title": draw(TEXT | VALUES)} if draw(st.booleans()) else {}
        meta.update(draw(st.dictionaries(KEYS, VALUES, max_size=4)))
        return yaml.safe_dump(meta, allow_unicode=True, sort_keys=False)
    lines = draw(st.lists(st.sampled_from(YAML_ODDITIES) | TEXT.map(lambda t: f"title: {t}") | TEXT, max_size=5))
    return "\n".join(lines) + "\n"


LINK_TARGETS = ["index.md", "naloxone.md", "missing.md", "../x.md", "/en/", "/nowhere/", "#how-to-use-it", "#nope",
                "https://example.org/", "//evil.example/", "javascript:alert(1)", " JaVaScRiPt:alert(1)",
                "data:text/html,<script>alert(1)</script>", "mailto:a@example.org", "tel:911", "", "/favicon.svg"]
RAW_HTML = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<iframe src='https://evil'></iframe>",
            "<a href='javascript:alert(1)' target='_blank'>x</a>", "<a href=https://x target=_blank rel=nofollow>y</a>",
            "<svg onload=alert(1)><script>1</script></svg>", "<div style='color:red' onclick='x'>d</div>",
            "<object data=x></object>", "<style>body{display:none}</style>", "<base href='https://evil/'>",
            "<meta http-equiv=refresh content='0;url=https://evil'>", "<form action=x><input></form>", "<!-- c -->",
            "<details open ontoggle=alert(1)><summary>s</summary></details>", "<p>unclosed <b>bold", "</div></div>"]


@st.composite
def block(draw) -> str:
    kind = draw(st.sampled_from(["text", "heading", "list", "link", "image", "cite", "html", "code", "table",
                                 "admonition", "attr"]))
    text, target = draw(TEXT), draw(st.sampled_from(LINK_TARGETS) | TEXT)
    if kind == "heading":
        return "#" * draw(st.integers(1, 7)) + " " + text
    if kind == "list":
        depth = draw(st.integers(1, 6))
        return "\n".join("    " * level + draw(st.sampled_from(["-", "*", "1."])) + " " + text for level in range(depth))
    if kind == "link":
        return f"[{text}]({target})"
    if kind == "image":
        return f"![{text}]({target})"
    if kind == "cite":
        return f"{text} [@{draw(st.sampled_from(['cdc-naloxone', 'unknown', '']))}]"
    if kind == "html":
        return draw(st.sampled_from(RAW_HTML))
    if kind == "code":
        return f"```\n{text}\n```"
    if kind == "table":
        return f"| a | b |\n|---|---|\n| {text} | [x]({target}) |"
    if kind == "admonition":
        return f"!!! note\n    {text}"
    if kind == "attr":
        return f"[{text}](https://example.org/){{{draw(st.sampled_from(['target=_blank', 'onclick=alert(1)', '#main', '.emergency']))}}}"
    return text


@st.composite
def page_file(draw) -> bytes:
    """One Markdown file as bytes: sometimes with a BOM, CRLF line endings or bytes that are not UTF-8."""
    body = "\n\n".join(draw(st.lists(block(), max_size=6)))
    text = f"---\n{draw(front_matter())}---\n\n{body}\n" if draw(st.integers(0, 9)) else body
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    data = ("\ufeff" if draw(st.booleans()) else "").encode() + text.encode("utf-8")
    return data + draw(st.binary(max_size=4)) if not draw(st.integers(0, 9)) else data


class Danger(HTMLParser):
    """Collect anything in a page that could run script."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and attributes.get("type") != "application/ld+json" or tag in ("iframe", "object", "embed"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name in ("href", "src") and (value or "").strip().lower().startswith(("javascript:", "data:text")):
                self.found.append(f"{tag} {name}={value}")
        if tag == "a" and attributes.get("target", "_self").lower() not in ("_self", "_parent", "_top", ""):
            if "noopener" not in (attributes.get("rel") or "").split():
                self.found.append(f"a target={attributes['target']} without rel=noopener")


TEXT_FILES = (".html", ".xml", ".txt", ".css", ".svg", ".json", "_headers")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("property") / "site"
    Scratch(root, BILINGUAL)
    return root


@settings(max_examples=100, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(english=page_file(), spanish=st.none() | page_file())
def test_build_never_raises_and_every_output_is_valid_safe_utf8(project, english, spanish):
    (project / "content/en/generated.md").write_bytes(english)
    translated = project / "content/es/generated.md"
    translated.unlink(missing_ok=True)
    if spanish is not None:
        translated.write_bytes(spanish)
    result = build(load_config(str(project)), write=False)
    event("the generated page was published" if result.site and result.site.page_at("en", "generated.md")
          else "the generated page was refused")
    for output in result.outputs:
        if not output.path.endswith(TEXT_FILES):
            continue  # an image or icon copied from static/ as it is
        text = output.data.decode("utf-8")  # raises on anything that is not UTF-8
        if output.path.endswith(".html"):
            danger = Danger()
            danger.feed(text)
            assert not danger.found, (output.path, danger.found)
    for rendered in result.rendered:  # the checks' fast HTML reader sees the blocks HTMLParser sees
        assert scan(rendered.content) == scan(rendered.content, fast=False), rendered.page.source
    for allow_raw_html in (False, True):  # and blocks read from Markdown's tree are those of its HTML
        converter = Converter(LinkMap("/", {}, frozenset(), frozenset(), frozenset(["cdc-naloxone"]), allow_raw_html))
        for page in result.site.pages if result.site else ():
            fragment = converter.convert(page)
            if fragment.blocks is not None:
                event("blocks read from the tree")
                assert list(fragment.blocks) == scan(fragment.html, fast=False), page.source
