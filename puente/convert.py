"""Stage 3a: Markdown body -> HTML fragment, with site links rewritten and citations numbered."""

from __future__ import annotations

from html import unescape
import posixpath
import re
from difflib import get_close_matches
from urllib.parse import unquote, urlsplit, urlunsplit

import markdown
from markdown.extensions import Extension
from markdown.extensions.extra import extensions as EXTRA
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor

from .inline import speed_up
from .model import ERROR, WARNING, Diagnostic, Fragment, Link, LinkMap, Page
from .slug import slugify

EXTENSIONS = (*EXTRA, "admonition", "sane_lists")
"""`extra` spelled out as the extensions it stands for. Heading ids come from HeadingIds below, not the
`toc` extension: it also builds a table of contents for every page, which no page shows, and that cost
a sixth of each conversion."""
CITATION = r"\[(@[\w.:-]+(?:\s*;\s*@[\w.:-]+)*)\]"
ALIGN = re.compile(r"text-align:\s*(left|right|center)")
PLAIN_CODE = re.compile(r'<pre><code(?: class="language-[\w#.+-]+")?>[^<]*</code></pre>')
"""A fenced code block as Python-Markdown stashes it when the author gave it no attributes: its code is
escaped, and its one attribute is the language the sanitizer would keep."""
DECORATIVE = "decorative"
"""The class that declares an image purely decorative: `![](/images/line.png){.decorative}`."""


def markdown_fingerprint() -> str:
    """Describe the Markdown configuration, for cache keys: a change re-renders every page."""
    return f"markdown={markdown.__version__};ext={','.join(EXTENSIONS)};ids=toc-compatible;slugify=es-ny;cite=1"


class Converter:
    """A reusable Markdown instance (building one costs ~30 ms; reset() costs nothing)."""

    def __init__(self, link_map: LinkMap):
        self.link_map = link_map
        self.site = SiteExtension(link_map)
        self.md = markdown.Markdown(extensions=[*_instances(), self.site], output_format="html")

    def using(self, link_map: LinkMap) -> "Converter":
        """This converter for another build's links: building a Markdown instance costs tens of milliseconds,
        a preview rebuild often little more. Which processors run depends on allow_raw_html alone."""
        if link_map.allow_raw_html != self.link_map.allow_raw_html:
            return Converter(link_map)
        self.link_map = self.site.link_map = link_map
        return self

    def convert(self, page: Page) -> Fragment:
        """Convert one page body."""
        self.md.reset()
        self.site.begin(page)
        html = self.md.convert(page.body)
        state = self.site.state
        stash = self.md.htmlStash.rawHtmlBlocks
        raw_html = [block for block in stash if isinstance(block, str)]
        state.diagnostics.extend(_raw_html_problems(page, raw_html))
        # What Markdown itself made was scrubbed in the tree; only raw HTML needs the (costlier) sanitizer.
        # A fenced code block is stashed as HTML too, but one without attributes holds only escaped text.
        if not self.link_map.allow_raw_html and any(not isinstance(b, str) or "<" in b and not PLAIN_CODE.fullmatch(b)
                                                    for b in stash):
            html = sanitize(html)
        html = add_noopener(html)
        from .cache import digest
        return Fragment(html, frozenset(state.heading_ids), tuple(state.headings), tuple(state.links),
                        tuple(state.citations), tuple(state.diagnostics), tuple(state.lookups),
                        digest(html, state.citations), state.blocks)


def _instances() -> list[Extension]:
    """The extensions, built here: Markdown resolves a name by scanning every installed package's entry
    points, which cost a tenth of a second in each build that converts anything."""
    from importlib import import_module
    return [import_module(f"markdown.extensions.{name}").makeExtension() for name in EXTENSIONS]


class PageState:
    """What the extension collects while converting one page."""

    def __init__(self, page: Page | None):
        self.page = page
        self.lines = page.body.split("\n") if page else []
        self.heading_ids, self.headings, self.links, self.citations, self.diagnostics = set(), [], [], [], []
        self.lookups = []
        self.blocks = None

    def ask(self, kind: str, key, answer):
        """Record a question about the rest of the site, so the cache can tell when its answer changes."""
        self.lookups.append((kind, key, answer))
        return answer

    def line_of(self, needle: str) -> int | None:
        """Return the source line of the first body line containing `needle`."""
        for number, text in enumerate(self.lines):
            if needle in text:
                return self.page.body_line + number
        return self.page.body_line if self.page else None

    def problem(self, level: str, code: str, message: str, needle: str):
        self.diagnostics.append(Diagnostic(level, code, message, self.page.source, self.line_of(needle)))


class SiteExtension(Extension):
    def __init__(self, link_map: LinkMap):
        super().__init__()
        self.link_map = link_map
        self.state = PageState(None)

    def begin(self, page: Page):
        self.state = PageState(page)

    def extendMarkdown(self, md):
        md.registerExtension(self)
        md.inlinePatterns.register(CitationPattern(CITATION, self), "citation", 175)
        # Links exist only after 'inline' (20); attr_list (8) sets the ids an author writes, {#like-this}.
        md.treeprocessors.register(LinkProcessor(md, self), "site_links", 15)
        md.treeprocessors.register(HeadingIds(md), "site_heading_ids", 5)
        md.treeprocessors.register(HeadingProcessor(md, self), "site_headings", 4)
        if not self.link_map.allow_raw_html:  # last, after attr_list (8) has added what the author wrote
            md.treeprocessors.register(ScrubProcessor(md), "site_scrub", 3)
        md.treeprocessors.register(BlockReader(md, self), "site_blocks", -1)  # after 'unescape' (0)
        speed_up(md)  # the last extension registered: every other one has added its patterns and tags


class CitationPattern(InlineProcessor):
    """`[@id]` and `[@a; @b]` become numbered links to the page's source list."""

    triggers = ("[@",)
    """Text without these cannot hold a citation, so the inline stage need not search it."""

    def __init__(self, pattern, extension):
        super().__init__(pattern)
        self.extension = extension

    def handleMatch(self, m, data):
        import xml.etree.ElementTree as etree
        state = self.extension.state
        sup = etree.Element("sup", {"class": "cite"})
        for key in (k.strip()[1:] for k in m.group(1).split(";")):
            if not state.ask("source", key, key in self.extension.link_map.source_ids):
                hint = get_close_matches(key, sorted(self.extension.link_map.source_ids), n=1)
                state.problem(ERROR, "unknown-source", f"citation [@{key}] is not in seeds/sources.yaml"
                              + (f"; did you mean {hint[0]!r}?" if hint else ": add it there first"), "@" + key)
                continue
            if key not in state.citations:
                state.citations.append(key)
            number = state.citations.index(key) + 1
            link = etree.SubElement(sup, "a", {"href": f"#source-{number}", "class": "cite-ref"})
            link.text = f"[{number}]"
        return sup, m.start(0), m.end(0)


class LinkProcessor(Treeprocessor):
    def __init__(self, md, extension):
        super().__init__(md)
        self.extension = extension

    def run(self, root):
        state, links = self.extension.state, self.extension.link_map
        for element in root.iter():
            if element.tag == "a" and element.get("href") is not None:
                element.set("href", resolve(state, links, element.get("href"), "a"))
            elif element.tag == "img":
                element.set("src", resolve(state, links, element.get("src", ""), "img"))
                check_alt(state, element)
            style = element.get("style")
            if style and ALIGN.search(style):  # inline styles would break a strict CSP
                del element.attrib["style"]
                element.set("class", f"align-{ALIGN.search(style).group(1)}")


class ScrubProcessor(Treeprocessor):
    def run(self, root):
        for element in root.iter():
            scrub(element)


def scrub(element):
    """Apply the sanitizer's allowlist to an element Markdown made (attr_list can add any attribute)."""
    allowed = ATTRIBUTES["*"] | ATTRIBUTES.get(element.tag, set())
    for name in list(element.attrib):
        if name not in allowed and not name.startswith("aria-"):
            del element.attrib[name]
        elif name in ("href", "src") and urlsplit(element.get(name)).scheme.lower() not in SAFE_SCHEMES:
            del element.attrib[name]


HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
MARKED_UP = re.compile(r"[&<>\x02\x03]")
"""What serializing a heading's text would escape, or a placeholder for stashed HTML or an escape."""


class HeadingIds(Treeprocessor):
    """Give each heading without an id one made from its text, exactly as the `toc` extension does."""

    def run(self, root):
        from markdown.extensions.toc import remove_fnrefs, render_inner_html, strip_tags, unique
        used = {element.get("id") for element in root.iter() if "id" in element.attrib}
        counters = {}
        for element in root.iter():
            if element.tag in HEADINGS:
                element.attrib.pop("data-toc-label", None)
                if "id" not in element.attrib:
                    name = _plain_text(element)
                    if name is None:
                        name = strip_tags(render_inner_html(remove_fnrefs(element), self.md))
                    element.set("id", unique(slugify(unescape(name), "-"), used, counters))


def _plain_text(element) -> str | None:
    """A heading's text when it is plain (no children, nothing to escape or restore), else None.

    For plain text, toc's serialize-unescape-strip-tags round trip gives the text back with its
    whitespace collapsed; most headings are plain, and the round trip was 3% of a cold build."""
    text = element.text or ""
    return None if len(element) or MARKED_UP.search(text) else " ".join(text.split())


class BlockReader(Treeprocessor):
    """Read the text blocks the checks need from the finished tree, while it is at hand: reading them
    from the HTML again cost a seventh of a cold build. A page with raw HTML is read from its HTML."""

    def __init__(self, md, extension):
        super().__init__(md)
        self.extension = extension

    def run(self, root):
        from .checks.blocks import tree_blocks
        self.extension.state.blocks = tree_blocks(root, self.md.htmlStash.rawHtmlBlocks)


class HeadingProcessor(Treeprocessor):
    def __init__(self, md, extension):
        super().__init__(md)
        self.extension = extension

    def run(self, root):
        state = self.extension.state
        for element in root.iter():
            if element.get("id"):
                state.heading_ids.add(element.get("id"))
            if element.tag in HEADINGS:
                text = "".join(element.itertext()).strip()
                state.headings.append((int(element.tag[1]), text, state.line_of(text)))


def resolve(state: PageState, links: LinkMap, href: str, tag: str) -> str:
    """Check one link or image source and return the href to publish."""
    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not href:
        return href
    page = state.page
    if not parts.path:
        state.links.append(Link("anchor", href, page.url, unquote(parts.fragment), state.line_of(href)))
        return href
    path = unquote(parts.path)
    if path.endswith(".md"):
        target = _md_target(page, path)
        url = state.ask("page", (page.lang, target), links.page_urls.get((page.lang, target)))
        if url is None and state.ask("unavailable", (page.lang, target), (page.lang, target) in links.unavailable):
            return href
        if url is None:
            candidates = [p for lang, p in links.page_urls if lang == page.lang]
            hint = get_close_matches(target, candidates, n=1)
            state.problem(ERROR, "broken-link", f"link to {href!r}: there is no page content/{page.lang}/{target}"
                          + (f"; did you mean {_relative_hint(page, hint[0])!r}?" if hint else ""), href)
            return href
        return _publish(state, links, "page", href, url, parts)
    return _resolve_path(state, links, href, path, parts, tag)


def _resolve_path(state, links, href, path, parts, tag) -> str:
    base = links.base_path
    site_path = "/" + path[len(base):] if path.startswith(base) and base != "/" else path
    if site_path.startswith("/"):
        for url in (site_path, site_path.rstrip("/") + "/"):
            if state.ask("url", url, url in links.urls):
                return _publish(state, links, "page", href, url, parts)
        static = site_path.lstrip("/")
    else:
        static = posixpath.normpath(path)
    if state.ask("static", static, static in links.static_files):
        return _publish(state, links, "static", href, "/" + static, parts)
    what = "image" if tag == "img" else "link"
    state.problem(ERROR, "missing-image" if tag == "img" else "broken-link",
                  f"{what} {href!r} points to nothing: link pages as their .md file (naloxona.md) or their URL "
                  f"(/es/naloxona/), and files as their path in static/ (/images/photo.png)", href)
    return href


def _publish(state, links, kind, href, url, parts) -> str:
    state.links.append(Link(kind, href, url, unquote(parts.fragment), state.line_of(href)))
    return urlunsplit(("", "", links.base_path + url.lstrip("/"), parts.query, parts.fragment))


def _md_target(page: Page, path: str) -> str:
    if path.startswith("/"):
        path = path.lstrip("/")
        return path[len(page.lang) + 1:] if path.startswith(page.lang + "/") else path
    return posixpath.normpath(posixpath.join(posixpath.dirname(page.rel_path), path))


def _relative_hint(page: Page, target: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(page.rel_path) or ".")


def check_alt(state: PageState, img):
    if (img.get("alt") or "").strip():
        return
    if DECORATIVE in (img.get("class") or "").split():
        img.set("alt", "")
        return
    state.problem(ERROR, "missing-alt", f"image {img.get('src')!r} has no alt text: describe it in the brackets, "
                  "![Naloxone nasal spray box](...), or mark a purely decorative image with {.decorative}",
                  img.get("src") or "![")


def _raw_html_problems(page: Page, blocks):
    for block in blocks:
        if re.search(r"<(a|img)\b", block, re.IGNORECASE):
            line = next((page.body_line + i for i, text in enumerate(page.body.split("\n"))
                         if block.strip().split("\n")[0][:40] in text), page.body_line)
            yield Diagnostic(WARNING, "raw-html-link", "a link or image is written as raw HTML, so it is neither "
                             "rewritten nor checked: write it in Markdown, [text](page.md) or ![alt](/images/x.png)",
                             page.source, line)


TAGS = {"a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt",
        "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li",
        "mark", "ol", "p", "pre", "q", "s", "small", "span", "strong", "sub", "summary", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "h1"}
ATTRIBUTES = {"*": {"id", "class", "title", "lang", "dir"}, "a": {"href", "hreflang", "rel", "target"},
              "img": {"src", "alt", "width", "height", "loading"}, "td": {"colspan", "rowspan"},
              "th": {"colspan", "rowspan", "scope"}, "ol": {"start", "type"}, "abbr": set()}


SAFE_SCHEMES = {"", "http", "https", "mailto", "tel"}


def sanitize(html: str) -> str:
    """Keep an allowlist of tags and attributes: no script, no on* handlers, no javascript: URLs."""
    import nh3
    return nh3.clean(html, tags=TAGS, attributes=ATTRIBUTES, link_rel=None,
                     url_schemes=SAFE_SCHEMES - {""}, generic_attribute_prefixes={"aria-"},
                     clean_content_tags={"script", "style", "iframe", "object", "embed", "template"})


A_TAG = re.compile(r"""<a\b(?:[^>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
ATTRIBUTE = re.compile(r"""(?<=[\s"'])([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
SAME_TAB = {"", "_self", "_parent", "_top"}


def add_noopener(html: str) -> str:
    """Give every link that opens a new tab rel="noopener", so the new page cannot reach this one."""
    return A_TAG.sub(_with_noopener, html)


def _with_noopener(match) -> str:
    tag = match.group(0)
    attributes = {m.group(1).lower(): m for m in ATTRIBUTE.finditer(tag)}
    target = attributes.get("target")
    if target is None or _value(target).strip().lower() in SAME_TAB:
        return tag
    rel = attributes.get("rel")
    tokens = _value(rel).split() if rel else []
    if "noopener" in (t.lower() for t in tokens):
        return tag
    if rel:  # rewritten whole, whichever quotes the author used
        tag = tag[: rel.start()] + tag[rel.end():]
    end = len(tag) - (2 if tag.endswith("/>") else 1)
    return f'{tag[:end].rstrip()} rel="{" ".join([*tokens, "noopener"])}"{tag[end:]}'


def _value(attribute) -> str:
    return next((v for v in attribute.groups()[1:] if v is not None), "")
