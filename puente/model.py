"""The values passed from stage to stage. Every one is frozen."""

from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

ERROR = "error"
WARNING = "warning"
NOTE = "note"


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in the input, reported as `path:line: level: message [code]`."""

    level: str
    """`error`, `warning` or `note`."""
    code: str
    """A stable, kebab-case identifier, e.g. `broken-link`."""
    message: str
    path: str
    """The file, relative to the project root and '/'-separated, e.g. `content/es/naloxona.md`."""
    line: int | None = None
    """1-based line in `path`, or None when the problem concerns the whole file."""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.level}: {self.message} [{self.code}]"

    def as_dict(self) -> dict:
        """Return the diagnostic as a JSON-ready dict."""
        return {"path": self.path, "line": self.line, "level": self.level,
                "code": self.code, "message": self.message}


def has_errors(diagnostics, strict: bool = False) -> bool:
    """Tell whether the diagnostics fail a build (warnings too under `strict`)."""
    failing = {ERROR, WARNING} if strict else {ERROR}
    return any(d.level in failing for d in diagnostics)


@dataclass(frozen=True)
class Language:
    """A language the site is published in."""

    code: str
    """The folder name and `<html lang>`, e.g. `es`."""
    locale: str
    """The full Babel/CLDR locale used for dates and Open Graph, e.g. `es_MX`."""
    title: str
    """The site title in this language."""


@dataclass(frozen=True)
class Config:
    """Validated site settings (from `site.toml` and the command line)."""

    root: str
    """Absolute path of the project folder (holding site.toml)."""
    config_path: str
    """Absolute path of the config file."""
    content_dir: str
    """Absolute path of the content folder, holding one folder per language."""
    output_dir: str
    """Absolute path of the folder the site is written to."""
    base_url: str
    """Absolute URL the site is served from, always ending in '/'."""
    languages: tuple[Language, ...]
    default_lang: str
    allow_raw_html: bool = False
    """Keep raw HTML in Markdown as written (trusted authors only)."""
    include_drafts: bool = False
    """Publish draft pages (the preview does; `build` does not)."""
    preview: bool = False
    """Render for the live preview: draft markers and links to the compare view."""
    readability: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    """Thresholds: `en_grade`, `en_emergency_grade`, `es_inflesz`, `es_emergency_inflesz`."""
    review_months: int = 12
    """A `reviewed` date older than this many months is a warning."""

    @functools.cached_property
    def langs(self) -> tuple[str, ...]:
        # Asked for by every page in every check; a frozen value can keep its own answer.
        return tuple(lang.code for lang in self.languages)

    @property
    def base_path(self) -> str:
        """The URL path prefix of every internal link, e.g. `/fentanyl/`."""
        from urllib.parse import urlsplit
        return urlsplit(self.base_url).path or "/"

    def language(self, code: str) -> Language:
        return next(lang for lang in self.languages if lang.code == code)

    def path(self, *parts: str) -> str:
        """Return an absolute path below the project root."""
        import os
        return os.path.join(self.root, *parts)

    def relative(self, path: str) -> str:
        """Return `path` relative to the project root, '/'-separated, for diagnostics."""
        import os
        prefix = self.root.rstrip(os.sep) + os.sep
        if path.startswith(prefix) and os.sep + ".." not in path:  # the common case, without relpath's cost
            rel = path[len(prefix):]
        else:  # e.g. --content outside the project: relpath once per folder, not once per file
            folder, name = os.path.split(path)
            rel = os.path.join(_relpath(folder, self.root), name)
        return rel.replace(os.sep, "/")


@functools.lru_cache(maxsize=4096)
def _relpath(path: str, start: str) -> str:
    import os
    return os.path.relpath(path, start)


@dataclass(frozen=True)
class Page:
    """One Markdown source file with its parsed front matter."""

    lang: str
    source: str
    """The file relative to the project root, '/'-separated: `content/es/naloxona.md`."""
    rel_path: str
    """The file relative to `content/<lang>/`: `guia/naloxona.md`."""
    translation_key: str
    """The language-neutral pairing key: the English rel_path without `.md`, unless overridden."""
    url: str
    """The site-relative URL path, without the base path: `/es/guia/naloxona/`."""
    title: str
    description: str
    body: str
    """The Markdown after the front matter."""
    body_line: int
    """The 1-based line of `source` where the body starts."""
    order: int | None = None
    reviewed: datetime.date | None = None
    draft: bool = False
    template: str = "page.html"
    source_hash: str | None = None
    """The stamp of the counterpart this translation was made from (see `status --mark`)."""
    meta: Mapping = field(default_factory=lambda: MappingProxyType({}))
    """The raw front matter."""
    source_digest: str = ""
    """A digest of the file's bytes (set by the loader), so later stages need not hash the body again."""

    # The two digests below are kept on the page: the preview reuses an unchanged file's Page from one
    # build to the next, and hashing every page again was a third of a rebuild on a big site.

    @property
    def output_path(self) -> str:
        """The page's file in the built site: `es/naloxona/index.html`."""
        return self.url.lstrip("/") + "index.html"

    @functools.cached_property
    def body_key(self) -> str:
        """A digest of what converting the page's Markdown reads of it."""
        from .cache import digest
        return digest(self.lang, self.rel_path, self.source, self.url, self.body_line, self.source_digest or self.body)

    @functools.cached_property
    def fields_key(self) -> str:
        """A digest of the fields of the page that its template shows."""
        from .cache import digest
        return digest(self.url, self.title, self.description, self.reviewed, self.draft, self.translation_key,
                      self.rel_path, self.lang, self.template, sorted(self.meta.items(), key=str))

    @property
    def is_home(self) -> bool:
        return self.rel_path == "index.md"

    @property
    def is_section_index(self) -> bool:
        return self.rel_path.endswith("/index.md")

    @property
    def section(self) -> str:
        """The first folder below `content/<lang>/`, or '' for top-level pages."""
        return self.rel_path.split("/")[0] if "/" in self.rel_path else ""


class Site:
    """Every page of every language, paired, with the queries templates and checks need."""

    def __init__(self, config: Config, pages):
        self.config = config
        self.pages = tuple(sorted(pages, key=lambda p: (p.lang, p.url)))
        self._by_key = MappingProxyType({(p.translation_key, p.lang): p for p in self.pages})
        self._by_source = MappingProxyType({(p.lang, p.rel_path): p for p in self.pages})
        self._by_url = MappingProxyType({p.url: p for p in self.pages})
        self._navigation = {}

    @functools.cached_property
    def listing(self) -> str:
        """A digest of what other pages show of each page (URL, title, key, order, review date)."""
        from .cache import digest
        return digest([(p.lang, p.url, p.translation_key, p.title, p.reviewed, p.rel_path, p.order) for p in self.pages])

    def page(self, translation_key: str, lang: str) -> Page | None:
        """Return the page with this key in this language, if it exists."""
        return self._by_key.get((translation_key, lang))

    def page_at(self, lang: str, rel_path: str) -> Page | None:
        """Return the page whose file is `content/<lang>/<rel_path>`."""
        return self._by_source.get((lang, rel_path))

    def page_for_url(self, url: str) -> Page | None:
        """Return the page served at this site-relative URL path."""
        return self._by_url.get(url)

    def pages_in(self, lang: str) -> tuple[Page, ...]:
        return tuple(p for p in self.pages if p.lang == lang)

    def home(self, lang: str) -> Page | None:
        return self.page_at(lang, "index.md")

    def alternates(self, page: Page) -> tuple[Page, ...]:
        """Return the translations of `page` that exist, in language order (itself excluded)."""
        found = (self.page(page.translation_key, lang) for lang in self.config.langs if lang != page.lang)
        return tuple(p for p in found if p is not None)

    def translation_keys(self) -> tuple[str, ...]:
        return tuple(sorted({p.translation_key for p in self.pages}))

    def navigation(self, lang: str) -> tuple[Page, ...]:
        """Return the top-level pages and section indexes of `lang`, ordered by `order`.

        Deeper pages are listed by their section's index, so navigation stays small on big sites.
        Every page shows it, so it is worked out once per language, not once per page.
        """
        if lang not in self._navigation:
            top = [p for p in self.pages_in(lang) if not p.is_home and
                   ("/" not in p.rel_path or p.rel_path.count("/") == 1 and p.is_section_index)]
            self._navigation[lang] = tuple(sorted(top, key=nav_sort_key))
        return self._navigation[lang]

    def section_pages(self, page: Page) -> tuple[Page, ...]:
        """Return the pages a section index lists: the other pages in its folder."""
        if not page.is_section_index:
            return ()
        folder = page.rel_path[: -len("index.md")]
        members = [p for p in self.pages_in(page.lang)
                   if p.rel_path.startswith(folder) and p is not page and p.rel_path.count("/") == folder.count("/")]
        return tuple(sorted(members, key=nav_sort_key))


def nav_sort_key(page: Page):
    """Order pages by `order` (unordered last), then by title."""
    return (page.order is None, page.order or 0, page.title.casefold(), page.url)


@dataclass(frozen=True)
class Source:
    """One entry of the source registry, `seeds/sources.yaml`."""

    id: str
    title: str
    publisher: str
    url: str
    year: str
    """The year or ISO date the source carries, as written."""
    langs: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class Helpline:
    """One helpline of `seeds/helplines.yaml`."""

    id: str
    number: str
    tel: str
    names: Mapping[str, str]
    hours: Mapping[str, str]
    languages: Mapping[str, str]
    countries: tuple[str, ...]
    emergency_box: bool


@dataclass(frozen=True)
class Link:
    """An internal link or image found in a rendered page."""

    kind: str
    """`page` (a Markdown or URL link to a page), `static` (a file from static/) or `anchor`."""
    href: str
    """The link as written."""
    target_url: str
    """The site-relative URL of the target page, or the static path."""
    fragment: str
    line: int | None


@dataclass(frozen=True)
class Rendered:
    """What rendering one page produced, besides its HTML."""

    page: Page
    html: str
    """The complete HTML document, when this process holds it; "" when `stored` names the file that does,
    or when the page failed to render."""
    content: str
    """The HTML of the Markdown body alone; "" in a build that keeps no cache (`build --no-cache`), once
    the checks have read it in the process that rendered the page."""
    heading_ids: frozenset
    headings: tuple
    """(level, text, line) for each heading in the body."""
    links: tuple[Link, ...]
    citations: tuple[str, ...]
    """The cited source ids, in order of first citation."""
    diagnostics: tuple[Diagnostic, ...]
    content_digest: str = ""
    """A digest of `content` and the citations (the fragment's), so the checks' cache keys need not hash it."""
    html_digest: str = ""
    """`cache.digest` of the encoded `html`, made where it was rendered and cached with it."""
    stored: str = ""
    """The file holding the HTML instead of `html`: the page as a worker spooled it for writing, or as the
    live site already has it. A big site's HTML is then never all in memory at once (115 MB at 10,000 pages)."""
    blocks: tuple | None = None
    """The fragment's `blocks`, while the process that converted the page checks it."""

    # Kept on the object, which the preview reuses from build to build while the page is unchanged.

    @functools.cached_property
    def check_key(self) -> str:
        """A digest of what the checks read of this page."""
        from .cache import digest
        page = self.page
        return digest(page.source, page.source_digest, page.url, page.title, page.translation_key,
                      self.content_digest or self.content)

    @functools.cached_property
    def output(self) -> "Output":
        """The page's file in the built site."""
        body = Stored(self.stored, self.html_digest) if self.stored else self.html
        return Output(self.page.output_path, body, self.html_digest)


@dataclass(frozen=True)
class Output:
    """One file of the built site."""

    path: str
    """Relative to the output folder, '/'-separated: `es/naloxona/index.html`."""
    body: "bytes | str | Stored"
    """The file's bytes, a page's HTML as the str it was rendered to (encoded only when it is written, so
    a big site's HTML is not held twice), or the file that holds it."""

    known_digest: str = ""
    """The digest of `data` when the renderer made it: a page's is cached with its HTML, so a rebuild
    need not encode and hash every page to tell which files changed."""

    @property
    def data(self) -> bytes:
        if isinstance(self.body, Stored):
            return self.body.read()
        return self.body.encode() if isinstance(self.body, str) else self.body

    @property
    def digest(self) -> str:
        from .cache import digest
        return self.known_digest or digest(self.data)


@dataclass(frozen=True)
class Stored:
    """A file holding an output's bytes, known by their digest."""

    path: str
    digest: str

    def read(self) -> bytes:
        """The bytes, checked against the digest: a live file edited during the build is not published."""
        from .cache import digest
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise ChangedDuringBuild(self.path) from None
        if digest(data) != self.digest:
            raise ChangedDuringBuild(self.path)
        return data


class ChangedDuringBuild(OSError):
    """A file the build relied on was changed by something else while it ran."""


@dataclass(frozen=True)
class LinkMap:
    """What link rewriting needs to know about the whole site, and nothing more (cheap to send to workers)."""

    base_path: str
    page_urls: dict
    """(lang, rel_path) -> site-relative URL, for links to .md files."""
    urls: frozenset
    """Every page URL."""
    static_files: frozenset
    """Every file in static/, as '/'-separated paths: `images/a.png`."""
    source_ids: frozenset
    allow_raw_html: bool = False
    unavailable: frozenset = frozenset()
    """(lang, rel_path) of pages that exist but failed to load: their own error is enough, so links to
    them are not reported as broken too."""


@dataclass(frozen=True)
class Inspected:
    """Findings made where pages were rendered (`check.Checker.inspect`), for the check stage to take
    instead of making them again."""

    findings: dict = field(default_factory=dict)
    """Check key -> findings, as the cache holds them."""
    words: dict = field(default_factory=dict)
    """The syllable counts learned while making them, for the cache."""
    covered: frozenset = frozenset()
    """The sources of the pages whose own and pair findings are all in `findings` or the cache."""


@dataclass(frozen=True)
class Fragment:
    """The HTML of a page body with what was found while converting it."""

    html: str
    heading_ids: frozenset
    headings: tuple
    links: tuple
    citations: tuple
    diagnostics: tuple
    lookups: tuple = ()
    """(kind, key, answer) for every question asked of the LinkMap: a cached fragment stays valid while
    every answer is unchanged."""
    digest: str = ""
    """A digest of `html` and `citations`, so a page's render key need not hash its HTML again."""
    blocks: tuple | None = None
    """What `checks.blocks.scan` would read in `html`, read from Markdown's tree instead; None when it
    must be read from `html`. Used by the checks where the page was rendered, and never cached."""


def answers_hold(link_map: LinkMap, lookups) -> bool:
    """Tell whether every question a cached fragment asked still gets the same answer."""
    questions = {
        "source": lambda key: key in link_map.source_ids,
        "page": lambda key: link_map.page_urls.get(key),
        "url": lambda key: key in link_map.urls,
        "static": lambda key: key in link_map.static_files,
        "unavailable": lambda key: key in link_map.unavailable,
    }
    return all(questions[kind](key) == answer for kind, key, answer in lookups)
