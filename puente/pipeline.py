"""The build, read top to bottom: load -> pair -> render -> check -> write."""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass

from . import memo
from .cache import generator_version, open_cache
from .check import Checker, run_checks
from .config import Config
from .i18n import load_catalogs
from .load import load_pages
from .model import ERROR, ChangedDuringBuild, Diagnostic, Output, Rendered, Site, has_errors
from .pair import pair_translations
from .render import Delivery, Renderer, ThemeLoader, collect_assets, render_pages
from .seeds import load_seeds
from .write import look_at_output, manifest, output_problems, recover, spool_folder, write_outputs


@dataclass(frozen=True)
class BuildResult:
    """What a build did: its diagnostics, and the site when it got that far."""

    diagnostics: tuple[Diagnostic, ...]
    site: Site | None = None
    rendered: tuple[Rendered, ...] = ()
    outputs: tuple[Output, ...] = ()
    seconds: float = 0.0
    cache: object = None
    """The cache this build used; `cache.successor()` lets the next build in this process reuse it in memory."""
    written: bool = False
    changed: int = 0
    """How many output files were (re)written; unchanged files are left as they were."""
    counts: tuple[tuple[str, int], ...] = ()
    """(language, pages published) for each language."""
    recalled: bool = False
    """Whether no source had changed, so the last build's memo answered (see memo.py)."""

    def failed(self, strict: bool = False) -> bool:
        return has_errors(self.diagnostics, strict)


def build(config: Config, *, strict: bool = False, write: bool = True, processes: int | None = None,
          cache_dir: str | None = None, cache=None, changed: frozenset | None = None,
          outputs: bool = True) -> BuildResult:
    """Build the whole site; write it only when nothing failed.

    The cache is read from and saved to `cache_dir`, or given in memory as `cache` (the preview
    passes the previous build's `result.cache.successor()`); with neither, the build is cold.
    `changed` may name every path changed since the build that made `cache` (the preview's watcher
    knows them), so unchanged content files need not even be looked at. A build that does not write
    and is not asked for `outputs` (`check`) does not make again the HTML of pages whose findings it has.
    """
    started = time.perf_counter()
    if write:
        recover(config)  # a build killed mid-swap must not leave the site missing, even if this one fails
    unsafe = output_problems(config) if write else []
    # Digesting the generator reads every module; a cache passed in (the preview's) already holds it.
    version = cache.version if cache is not None else generator_version()
    sources = memo.look_at_sources(config, version) if write and cache is None and cache_dir else None
    recalled = sources and not unsafe and memo.recall(config, cache_dir, sources)
    if recalled:
        diagnostics = recalled.diagnostics
        return BuildResult(diagnostics, seconds=time.perf_counter() - started, counts=recalled.counts,
                           written=not has_errors(diagnostics, strict), recalled=True)
    # A written build without a cache folder is the command line's --no-cache: nothing will build from it.
    cache, diagnostics = (cache, ()) if cache is not None else open_cache(config, cache_dir, version,
                                                                          keeps=not write or cache_dir is not None)
    diagnostics = [*diagnostics, *unsafe]
    pages, found = load_pages(config, cache, changed)
    diagnostics += found
    site, found = pair_translations(config, pages, unavailable_pages(config, pages, diagnostics), cache.memory)
    diagnostics += found
    seeds, found = load_seeds(config)
    diagnostics += found
    catalogs, found = load_catalogs(config, cache)
    diagnostics += found
    assets, found = collect_assets(config)
    diagnostics += found
    theme = ThemeLoader(lambda: _load_theme(config, catalogs, renderer.templates, cache))
    delivery = (Delivery(spool_folder(config), look_at_output(config, cache), content=cache.keeps)
                if write and not unsafe else Delivery(wanted=outputs))
    renderer = Renderer(site, seeds, theme, assets, catalogs, unavailable_pages(config, site.pages, diagnostics),
                        cache.memory, delivery)
    try:
        done = _render_check_write(config, renderer, cache, diagnostics, strict, write, processes, started)
    finally:
        if delivery.spool:  # written, the spool is the live folder now; failed, it must not be left behind
            shutil.rmtree(delivery.spool, ignore_errors=True)
    cache.save()
    if sources and done.written:  # saved after the cache, whose file the memo's key names
        memo.remember(config, cache_dir, sources, done.diagnostics, done.counts,
                      manifest(cache, os.path.realpath(config.output_dir)))
    elif sources:
        memo.forget(cache_dir)
    return done


def _render_check_write(config, renderer, cache, diagnostics, strict, write, processes, started) -> BuildResult:
    site, seeds, theme = renderer.site, renderer.seeds, renderer.theme_loader
    # Each translation group is checked where it was rendered; run_checks makes only what that left out.
    rendered, inspected = render_pages(renderer, cache, processes, Checker(site, seeds, cache).inspect)
    diagnostics += [d for r in rendered for d in r.diagnostics]
    diagnostics += run_checks(site, rendered, seeds, cache, processes=processes, known=inspected)
    outputs, found = site_outputs(renderer, rendered, cache)
    diagnostics += found
    if theme.was_loaded:
        diagnostics += theme.loaded[1]
    diagnostics = list(dict.fromkeys(diagnostics))  # a broken template or glossary is reported once, not per page
    counts = tuple((lang, len(site.pages_in(lang))) for lang in config.langs)
    done = BuildResult(tuple(diagnostics), site, rendered, tuple(outputs), time.perf_counter() - started, cache,
                       counts=counts)
    if write and not done.failed(strict):
        try:
            changed, _ = write_outputs(config, outputs, cache, renderer.delivery.live)
        except ChangedDuringBuild as exc:
            problem = Diagnostic(ERROR, "output-changed", f"{config.relative(exc.args[0])} was changed by something else "
                                 "while the site was being built, so nothing was written; build again",
                                 config.relative(config.output_dir))
            return BuildResult((*done.diagnostics, problem), site, rendered, done.outputs,
                               time.perf_counter() - started, cache, counts=counts)
        done = BuildResult(done.diagnostics, site, rendered, done.outputs, time.perf_counter() - started, cache,
                           True, changed, counts)
    return done


def unavailable_pages(config, pages, diagnostics) -> set:
    """(lang, rel_path) of the page files that an error kept out of the site."""
    failed = [d for d in diagnostics if d.level == "error" and d.path.endswith(".md")]
    published = {p.source for p in pages} if failed else set()
    found = set()
    for d in failed:
        if d.path not in published:
            rel = os.path.relpath(os.path.join(config.root, d.path), config.content_dir).replace(os.sep, "/")
            if "/" in rel and not rel.startswith("../"):
                found.add(tuple(rel.split("/", 1)))
    return found


def _load_theme(config, catalogs, templates: dict, cache):
    """Compile the templates, or reuse those a previous build in this process compiled from the same files."""
    from .theme import load_theme
    memory = cache.memory if cache is not None else None
    key = (repr(config), sorted(templates.items()), sorted(catalogs.digests.items()))
    if memory is not None and memory.get("theme", (None,))[0] == key:
        return memory["theme"][1]
    loaded = load_theme(config, catalogs, cache.folder("templates") if cache is not None else None)
    if memory is not None:
        memory["theme"] = (key, loaded)
    return loaded


def site_outputs(renderer: Renderer, rendered, cache) -> tuple[list[Output], list[Diagnostic]]:
    """Collect every file of the finished site, in path order."""
    outputs = [r.output for r in rendered if r.html or r.stored]
    files, problems = site_files(renderer, cache)
    return sorted([*outputs, *files, *renderer.assets.outputs()], key=lambda o: o.path), problems


def site_files(renderer: Renderer, cache) -> tuple[list[Output], list[Diagnostic]]:
    """The landing page, 404, sitemap, robots.txt and _headers, reused while nothing they show changed."""
    from .cache import digest
    from .render import template_problem
    site = renderer.site
    key = digest("site-files", [renderer.signature(lang) for lang in site.config.langs], renderer.templates,
                 site.listing, renderer.seeds.helplines, site.config.base_url)
    found = cache.get("values", key) if cache else None
    if found is not None:
        return found, []
    theme, _ = renderer.theme_loader.loaded
    if theme is None:
        return [], []
    try:
        from .sitefiles import render_site_files
        files = render_site_files(site, theme, renderer.assets, renderer.seeds)
    except Exception as exc:  # a broken landing or 404 template is the user's to fix, reported like any other
        return [], [template_problem(site.config, exc)]
    if cache:
        cache.put("values", key, files)
    return files, []
