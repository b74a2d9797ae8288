"""Stage 3b: pages and site-wide files -> complete HTML documents."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import traceback
from dataclasses import dataclass, replace

from .cache import digest
from .workers import parallel_map
from .model import (ERROR, Config, Diagnostic, Fragment, Inspected, LinkMap, Output, Page, Rendered, Site,
                    answers_hold, has_errors)

SITE_WIDE_TEMPLATES = {"sources.html"}
"""Templates that list what every other page cites, so they are rendered last."""


@dataclass(frozen=True)
class Assets:
    """The files of static/, with CSS names fingerprinted so every deploy busts caches."""

    published: dict
    """Path in static/ -> path in the output: `style.css` -> `style.3f2a9c1d.css`."""
    files: dict
    """Path in static/ -> absolute source path."""

    def outputs(self):
        for logical, published in sorted(self.published.items()):
            with open(self.files[logical], "rb") as f:
                yield Output(published, f.read())


def collect_assets(config: Config) -> tuple[Assets, list[Diagnostic]]:
    """List static/ and fingerprint its stylesheets; report what cannot be published."""
    root = config.path("static")
    if not os.path.isdir(root):
        return Assets({}, {}), [Diagnostic(ERROR, "missing-folder", "the static/ folder is missing: it holds the "
                                           "stylesheet and icons every page needs (restore it from git: "
                                           "`git checkout -- static`)", "static")]
    files, problems = {}, []
    for here, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(here, name)
            if not os.path.isfile(path):
                problems.append(Diagnostic(ERROR, "broken-symlink", "this symbolic link points to nothing: fix "
                                           "the link or delete it", config.relative(path)))
                continue
            files[os.path.relpath(path, root).replace(os.sep, "/")] = path
    published = {logical: _fingerprinted(logical, path) for logical, path in files.items()}
    return Assets(published, files), problems


def _fingerprinted(logical: str, path: str) -> str:
    if not logical.endswith(".css"):
        return logical
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:10]
    return f"{logical[:-4]}.{digest}.css"


def template_problem(config: Config, exc: Exception) -> Diagnostic:
    """Turn a Jinja error into `templates/x.html:line` with the reason."""
    from jinja2 import TemplateSyntaxError, UndefinedError
    templates = config.path("templates")
    if isinstance(exc, TemplateSyntaxError):
        name = exc.filename or (os.path.join(templates, exc.name) if exc.name else templates)
        return Diagnostic(ERROR, "template-syntax", exc.message or str(exc), config.relative(name), exc.lineno)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(templates)]
    where = frames[-1] if frames else None
    code = "template-undefined" if isinstance(exc, UndefinedError) else "template-error"
    return Diagnostic(ERROR, code, f"{type(exc).__name__}: {exc}",
                      config.relative(where.filename) if where else "templates", where.lineno if where else None)


@dataclass(frozen=True)
class Delivery:
    """Where pages' HTML goes once rendered, and where a cached page's comes from.

    A build that writes spools each page it renders into the write stage's temp folder, and takes a
    cached page from the live folder that already holds it, so no process holds the whole site's HTML
    (the cache keeps only its digest). A build in memory (the preview, tests) keeps the HTML of every
    page; `check` needs none."""

    spool: str | None = None
    """The folder rendered pages are written to, by output path; None keeps them in memory."""
    live: object = None
    """The intact output folder (write.LiveSite) whose files a cached page may be taken from, or None."""
    wanted: bool = True
    """Whether the HTML of a cached page is needed at all: `check` only wants the findings."""
    content: bool = True
    """Whether a page's body HTML is wanted once the checks read it (by the cache, the preview)."""


class Renderer:
    """Everything needed to render any page; built once and shared with worker processes by fork."""

    def __init__(self, site: Site, seeds, theme_loader, assets: Assets, catalogs, unavailable=frozenset(),
                 memory: dict | None = None, delivery: Delivery = Delivery()):
        self.site, self.seeds, self.assets, self.catalogs = site, seeds, assets, catalogs
        self.delivery = delivery
        self.memory = memory
        """The cache's in-process memory (the preview's), where the Markdown converter is kept between builds."""
        self.theme_loader = theme_loader
        config = site.config
        self.link_map = LinkMap(
            base_path=config.base_path,
            page_urls={(p.lang, p.rel_path): p.url for p in site.pages},
            urls=frozenset(p.url for p in site.pages),
            static_files=frozenset(assets.files),
            source_ids=frozenset(seeds.sources),
            allow_raw_html=config.allow_raw_html,
            unavailable=frozenset(unavailable),
        )
        self.templates = template_digests(config.path("templates"))
        self._converter = None
        self._signatures = {}

    @property
    def converter(self):
        if self._converter is None:
            from .convert import Converter  # Markdown is imported only when a page must be converted
            kept = self.memory.get("converter") if self.memory is not None else None
            self._converter = kept.using(self.link_map) if kept else Converter(self.link_map)
            if self.memory is not None:
                self.memory["converter"] = self._converter
        return self._converter

    def fragment_key(self, page: Page) -> str:
        """What a page's Markdown conversion depends on, besides the answers recorded in its lookups."""
        config = self.site.config
        return digest(page.body_key, config.base_path, config.allow_raw_html)

    def html_key(self, page: Page, fragment: Fragment, cited=()) -> str:
        """Everything a page's finished HTML depends on: change any of it and the page is re-rendered."""
        site = self.site
        switcher = [(p.lang, p.url, p.title) for p in site.alternates(page)]
        homes = [(lang, h.url if h else None) for lang in site.config.langs for h in [site.home(lang)]]
        section = [(p.url, p.title) for p in site.section_pages(page)]
        sources = [self.source_digests.get(k) for k in (*fragment.citations, *cited)]
        return digest(self.signature(page.lang), self.templates.get(page.template, "missing"), page.fields_key,
                      switcher, homes, section, fragment.digest or fragment.html, tuple(cited), sources)

    @functools.cached_property
    def site_digest(self) -> str:
        """A digest of everything rendering a page reads from the rest of the site: the links it may
        resolve, the templates, the sources, each language's signature and what pages show of each other.
        While it is unchanged, a page's fragment and HTML keys change only with the page itself."""
        links = self.link_map  # its page URLs are in the listing
        return digest(links.base_path, sorted(links.static_files), sorted(links.unavailable), links.allow_raw_html,
                      self.templates, sorted(self.source_digests.items()),
                      [self.signature(lang) for lang in self.site.config.langs], self.site.listing)

    @functools.cached_property
    def source_digests(self) -> dict:
        """Source id -> digest of its registry entry, which a page citing it shows."""
        return {key: digest(source) for key, source in self.seeds.sources.items()}

    def signature(self, lang: str) -> str:
        """What every page of `lang` shows: settings, navigation, catalog, helplines and asset names."""
        if lang not in self._signatures:
            site, config = self.site, self.site.config
            nav = [(p.url, p.title, p.order) for p in site.navigation(lang)]
            home = site.home(lang)
            self._signatures[lang] = digest(config.base_url, config.languages, config.default_lang,
                                            config.preview, nav, (home.url, home.title) if home else None,
                                            self.catalogs.digests.get(lang), self.seeds.helplines,
                                            sorted(self.assets.published.items()))
        return self._signatures[lang]

    def render_page(self, page: Page, cited=(), fragment: Fragment | None = None) -> tuple[Rendered, Fragment]:
        """Convert (unless given the fragment) and template one page; errors become diagnostics."""
        if fragment is None:
            fragment = self.converter.convert(page)
        theme, _ = self.theme_loader.loaded  # its own problems are reported once, by the pipeline
        if theme is None:
            return rendered_from(page, "", fragment, fragment.diagnostics), fragment
        try:
            html = theme.render_page(self, page, fragment, cited)
        except Exception as exc:  # a template bug must be reported, not crash the build
            problem = template_problem(self.site.config, exc)
            return rendered_from(page, "", fragment, (*fragment.diagnostics, problem)), fragment
        # Digested here, in the worker that rendered it: writing compares every page's digest with the manifest's.
        data = html.encode()
        if self.delivery.spool is None:
            return rendered_from(page, html, fragment, fragment.diagnostics, digest(data)), fragment
        return rendered_from(page, "", fragment, fragment.diagnostics, digest(data), self._spool(page, data)), fragment

    def _spool(self, page: Page, data: bytes) -> str:
        path = os.path.join(self.delivery.spool, *page.output_path.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def cached(self, page: Page, fragment: Fragment, html_digest: str):
        """A page whose HTML is cached by its digest: Rendered from the live file that holds it, or
        without HTML when none is wanted; else the fragment, for the HTML to be made again from it."""
        path, live = page.output_path, self.delivery.live
        if live is not None and live.digests.get(path) == html_digest:
            return rendered_from(page, "", fragment, fragment.diagnostics, html_digest, live.file(path))
        if not self.delivery.wanted:
            return rendered_from(page, "", fragment, fragment.diagnostics, html_digest)
        return fragment


def rendered_from(page: Page, html: str, fragment: Fragment, diagnostics, html_digest: str = "",
                  stored: str = "") -> Rendered:
    return Rendered(page, html, fragment.html, fragment.heading_ids, fragment.headings,
                    fragment.links, fragment.citations, tuple(diagnostics), fragment.digest, html_digest, stored,
                    fragment.blocks)


class ThemeLoader:
    """Loads the templates on first use: a build whose every page is cached never imports Jinja."""

    def __init__(self, load):
        self._load = load

    @functools.cached_property
    def loaded(self):
        """(Theme or None, diagnostics)."""
        return self._load()

    @property
    def was_loaded(self) -> bool:
        return "loaded" in self.__dict__


TEMPLATE_REFERENCE = re.compile(r"""{%-?\s*(?:extends|include|import|from)\s+(["'])(.+?)\1""")


def template_digests(folder: str) -> dict:
    """Template name -> digest of it and every template it extends, includes or imports."""
    sources, references = {}, {}
    for here, dirs, names in os.walk(folder):
        dirs.sort()
        for name in sorted(names):
            path = os.path.join(here, name)
            rel = os.path.relpath(path, folder).replace(os.sep, "/")
            with open(path, "rb") as f:
                sources[rel] = f.read()
            text = sources[rel].decode("utf-8", "replace")
            found = {m.group(2) for m in TEMPLATE_REFERENCE.finditer(text)}
            # A reference Jinja resolves at run time (a variable) could be any template.
            dynamic = re.search(r"{%-?\s*(?:extends|include|import|from)\s+[^\"'\s]", text)
            references[rel] = {"*"} if dynamic else found
    everything = sorted(sources)
    def closure(name, seen):
        if name in seen:
            return
        seen.add(name)
        for ref in (everything if "*" in references.get(name, ()) else references.get(name, ())):
            closure(ref, seen)
    result = {}
    for name in everything:
        seen = set()
        closure(name, seen)
        result[name] = digest(*[(n, sources.get(n, b"")) for n in sorted(seen)])
    return result


def render_pages(renderer: Renderer, cache=None, processes: int | None = None,
                 inspect=None) -> tuple[tuple[Rendered, ...], Inspected]:
    """Render every page that changed, across processes when there is enough work.

    Pages are rendered a translation group at a time, and `inspect` (`Checker.inspect`) runs on each
    group in the process that rendered it, while its HTML is at hand: a big site's body HTML then never
    crosses to the parent, and the checks need no second pool. The output is byte-identical whether
    pages come from the cache, one process or several.
    """
    from .theme import NAMES
    site = renderer.site
    kept = NAMES.recall(cache)
    regular = [i for i, p in enumerate(site.pages) if p.template not in SITE_WIDE_TEMPLATES]
    done, groups = {}, {}
    recent = _RecentRenders(renderer, cache)
    for index in regular:
        ready = recent.get(site.pages[index]) or _from_cache(renderer, cache, site.pages[index])
        if isinstance(ready, Rendered):
            done[index] = ready
        else:
            groups.setdefault(site.pages[index].translation_key, []).append((index, ready))
    tasks = list(groups.values())
    findings, words = {}, {}
    for task, (results, inspected) in zip(tasks, _run(renderer, tasks, processes, inspect, done)):
        for (index, _), (rendered, fragment) in zip(task, results):
            done[index] = rendered
            _remember(renderer, cache, rendered, fragment)
        findings.update(inspected.findings)
        words.update(inspected.words)
    recent.keep(done[i] for i in regular)
    cited = sorted({key for r in done.values() for key in r.citations})
    for index, page in enumerate(site.pages):
        if page.template in SITE_WIDE_TEMPLATES:
            ready = _from_cache(renderer, cache, page, cited)
            if not isinstance(ready, Rendered):
                ready, fragment = renderer.render_page(page, cited, ready)
                _remember(renderer, cache, ready, fragment, cited)
            done[index] = ready
    NAMES.keep(cache, kept, NAMES.take())  # a worker's are lost with it; a build rendering here (an edit) keeps them
    rendered = tuple(done[i] for i in sorted(done, key=lambda i: (site.pages[i].lang, site.pages[i].url)))
    return rendered, Inspected(findings, words)


def _from_cache(renderer: Renderer, cache, page: Page, cited=()):
    """Return the cached Rendered, else the cached Fragment still valid (or None) for rendering."""
    if cache is None or not cache.holds("fragments"):  # a cold build: no key is worth computing
        return None
    known = cache.get("renders", _renders_key(renderer, page)) if not cited else None
    if known is not None:
        fragment, found = cache.get("fragments", known[0]), cache.get("html", known[1])
        if fragment is not None and found is not None:
            return renderer.cached(page, fragment, found)
    fragment_key = renderer.fragment_key(page)
    fragment = cache.get("fragments", fragment_key)
    if fragment is None or not answers_hold(renderer.link_map, fragment.lookups):
        return None
    html_key = renderer.html_key(page, fragment, cited)
    found = cache.get("html", html_key)
    if found is None:
        return fragment
    if not cited:
        cache.put("renders", _renders_key(renderer, page), (fragment_key, html_key))
    return renderer.cached(page, fragment, found)


def _renders_key(renderer: Renderer, page: Page) -> tuple:
    """What a regular page's fragment and HTML keys are a function of, in the `renders` table: asking it
    spares computing both keys and checking the fragment's lookups for every page of a big site."""
    return renderer.site_digest, page.body_key, page.fields_key


class _RecentRenders:
    """In a process that builds again and again (the preview), each page's last Rendered, by Page object.

    The loader hands back the same Page object for a file that did not change; while nothing the
    page shows from the rest of the site changed either (`site_digest`), its Rendered is still right,
    and recomputing 2,000 render keys was a third of a one-page rebuild.
    """

    def __init__(self, renderer: Renderer, cache):
        self.cache, self.memory = cache, cache.memory if cache is not None else None
        if self.memory is not None:
            self.site_digest = renderer.site_digest
            self.renderer = renderer
            self.last = self.memory.get("rendered", {})

    def get(self, page: Page) -> Rendered | None:
        if self.memory is None:
            return None
        found = self.last.get(page.source)
        if found is None or found[0] is not page or found[1] != self.site_digest:
            return None
        for table, key in found[3]:
            self.cache.get(table, key)  # carried to the next build, as a lookup would
        return found[2]

    def keep(self, rendered):
        if self.memory is None:
            return
        kept = {}
        for r in rendered:
            found = self.last.get(r.page.source)
            if found is not None and found[0] is r.page and found[2] is r and found[1] == self.site_digest:
                kept[r.page.source] = found
            elif not has_errors(r.diagnostics) and r.html:  # not a spooled file, gone once it is written
                fragment = self.cache.get("fragments", self.renderer.fragment_key(r.page))
                if fragment is not None:
                    keys = (("fragments", self.renderer.fragment_key(r.page)),
                            ("html", self.renderer.html_key(r.page, fragment)))
                    kept[r.page.source] = (r.page, self.site_digest, r, keys)
        self.memory["rendered"] = kept


def _remember(renderer: Renderer, cache, rendered: Rendered, fragment: Fragment, cited=()):
    """Keep what can be reused: never a page with errors, whose messages may depend on the whole site."""
    if cache is None or not cache.keeps or has_errors(rendered.diagnostics):
        return  # a cache that keeps nothing (--no-cache) would drop the entries whose keys cost 1% of a build
    fragment_key, html_key = renderer.fragment_key(rendered.page), renderer.html_key(rendered.page, fragment, cited)
    cache.put("fragments", fragment_key, replace(fragment, blocks=None) if fragment.blocks is not None else fragment)
    cache.put("html", html_key, rendered.html_digest)  # the HTML itself is in the output folder
    if not cited:
        cache.put("renders", _renders_key(renderer, rendered.page), (fragment_key, html_key))


def _run(renderer: Renderer, tasks, processes, inspect, done: dict):
    """Render and inspect each task (a translation group's pages), in worker processes when there are
    enough to pay for starting them; return ([(Rendered, Fragment) per page], Inspected) for each."""
    if not tasks:
        return []
    renderer.theme_loader.loaded  # load templates once, before forking, not once per worker
    pages = renderer.site.pages
    others = {r.page.source: r for r in done.values()}  # a group's cached pages, for its pair checks

    def render(task):
        results = [renderer.render_page(pages[index], fragment=fragment) for index, fragment in task]
        inspected = inspect([r for r, _ in results], others) if inspect else Inspected()
        # Not the page, which the parent has: its body would cross twice. Nor, when nothing keeps it, the
        # body HTML, once the checks have read it: it was a sixth of a big site's memory in the parent.
        lean = not renderer.delivery.content
        return [(r.html, r.html_digest, r.stored, r.diagnostics,
                 replace(fragment, html="", lookups=(), blocks=None) if lean and r.page.source in inspected.covered
                 else replace(fragment, blocks=None))
                for r, fragment in results], inspected

    return [([(rendered_from(pages[index], html, fragment, diagnostics, html_digest, stored), fragment)
              for (index, _), (html, html_digest, stored, diagnostics, fragment) in zip(task, results)], inspected)
            for task, (results, inspected) in zip(tasks, parallel_map(render, tasks, processes))]
