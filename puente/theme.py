"""Jinja templates, one environment per language with its catalog installed."""

from __future__ import annotations

import os
from dataclasses import dataclass

from markupsafe import Markup

from .cache import Learned
from .model import ERROR, Config, Diagnostic, Page, Site


@dataclass(frozen=True)
class Theme:
    """The template environments and the helpers every template gets."""

    config: Config
    envs: dict
    """lang -> jinja2.Environment."""

    def render_page(self, renderer, page: Page, fragment, cited=()) -> str:
        """Render `page` with its own template."""
        context = page_context(renderer, page, fragment, cited)
        return self.envs[page.lang].get_template(page.template).render(context)

    def render(self, lang: str, template: str, **context) -> str:
        """Render any template in `lang`, with the common helpers."""
        env = self.envs[lang]
        return env.get_template(template).render(common_context(self.config, lang), **context)

    def render_part(self, lang: str, template: str, **context):
        """Render a template in `lang` as a module: `str(part)` is its HTML, its top-level `{% set %}`s are attributes."""
        env = self.envs[lang]
        try:
            return env.get_template(template).make_module({**common_context(self.config, lang), **context})
        except Exception:
            # Unlike render(), make_module() leaves the traceback at lines of the compiled Python code;
            # rewriting it makes the error name the template's own line.
            env.handle_exception()


def load_theme(config: Config, catalogs, compiled: str | None = None) -> tuple[Theme | None, tuple[Diagnostic, ...]]:
    """Build one environment per language and compile every template, to report syntax errors up front.

    With `compiled`, a folder, compiled templates are kept there and reused while their source is the
    same (Jinja checks), so a rebuild after a page edit need not compile them again."""
    from jinja2 import (Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined, TemplateSyntaxError,
                        select_autoescape)
    from .render import template_problem
    folder = config.path("templates")
    if not os.path.isdir(folder):
        return None, (Diagnostic(ERROR, "missing-folder", "the templates/ folder is missing: it holds the page "
                                 "layouts (restore it from git: `git checkout -- templates`)", "templates"),)
    envs = {}
    for lang in config.langs:
        env = Environment(loader=FileSystemLoader(folder), autoescape=select_autoescape(default_for_string=True),
                          undefined=StrictUndefined, extensions=["jinja2.ext.i18n"],
                          trim_blocks=True, lstrip_blocks=True, auto_reload=False,
                          bytecode_cache=FileSystemBytecodeCache(compiled) if compiled else None)
        env.policies["ext.i18n.trimmed"] = True
        translations = catalogs.translations.get(lang)
        if translations is None:
            env.install_null_translations(newstyle=True)
        else:
            env.install_gettext_translations(translations, newstyle=True)
        envs[lang] = env
    problems = []
    for name in sorted(envs[config.langs[0]].list_templates(extensions=["html", "xml"])):
        try:
            envs[config.langs[0]].get_template(name)
        except TemplateSyntaxError as exc:
            problems.append(template_problem(config, exc))
    return Theme(config, envs), tuple(problems)


def common_context(config: Config, lang: str) -> dict:
    """Helpers for every template: URLs honouring the base URL, the language and its name."""
    language = config.language(lang)
    return {
        "lang": lang,
        "locale": language.locale,
        "site_title": language.title,
        "languages": config.languages,
        "language_name": language_name,
        "url": lambda path: config.base_path + path.lstrip("/"),
        "absolute_url": lambda path: config.base_url + path.lstrip("/"),
        "preview": config.preview,
    }


def language_name(code: str, in_lang: str | None = None) -> str:
    """Name language `code` in its own language, as a label ("Español"), or in `in_lang` for running text ("inglés")."""
    key = (code, in_lang or code)
    if key not in NAMES.known:
        from babel import Locale
        name = Locale.parse(code).get_display_name(key[1])
        NAMES.learn(key, name.capitalize() if key[1] == code else name)
    return NAMES.known[key]


NAMES = Learned(("language-names",))
"""(code, in_lang) -> name. Loading Babel's data costs ~40 ms a language, a twelfth of a one-page rebuild,
so the names are kept in the build cache (which a new Babel version empties)."""


def page_context(renderer, page: Page, fragment, cited=()) -> dict:
    """Everything a page template shows."""
    site, config = renderer.site, renderer.site.config
    context = common_context(config, page.lang)
    alternates = site.alternates(page)
    sources = [renderer.seeds.sources[key] for key in fragment.citations]
    context.update(
        page=page,
        content=Markup(fragment.html),
        canonical=config.base_url + page.url.lstrip("/"),
        hreflangs=[{"lang": p.lang, "href": config.base_url + p.url.lstrip("/")}
                   for p in sorted((page, *alternates), key=lambda p: config.langs.index(p.lang))],
        x_default=config.base_url,
        og_alternates=[config.language(lang).locale for lang in config.langs if lang != page.lang],
        switcher=switcher(site, page),
        nav=[{"page": p, "current": p.url == page.url} for p in site.navigation(page.lang)],
        section_pages=site.section_pages(page),
        home=site.home(page.lang),
        reviewed=format_date(page.reviewed, config.language(page.lang).locale) if page.reviewed else None,
        sources=sources,
        site_sources=[renderer.seeds.sources[key] for key in _registry_order(renderer.seeds, cited)],
        emergency=renderer.seeds.emergency_helplines(),
        helplines=renderer.seeds.helplines,
        asset=lambda logical: config.base_path + renderer.assets.published.get(logical, logical),
        structured_data=lambda about: structured_data(site, page, sources, about),
    )
    return context


def _registry_order(seeds, cited):
    wanted = set(cited)
    return [key for key in seeds.sources if key in wanted]


def switcher(site: Site, page: Page) -> list[dict]:
    """Links to the same page in each other language, or to that language's home when it is missing."""
    links = []
    for lang in site.config.langs:
        if lang == page.lang:
            continue
        counterpart = site.page(page.translation_key, lang)
        target = counterpart or site.home(lang)
        links.append({"lang": lang, "url": target.url if target else f"/{lang}/",
                      "exists": counterpart is not None})
    return links


def format_date(value, locale: str) -> str:
    from babel.dates import format_date as babel_format_date
    return babel_format_date(value, format="long", locale=locale)


def structured_data(site: Site, page: Page, sources, about: str) -> dict:
    """schema.org MedicalWebPage and BreadcrumbList for one page, as a JSON-ready dict."""
    config = site.config
    url = config.base_url + page.url.lstrip("/")
    medical = {"@type": "MedicalWebPage", "@id": url, "url": url, "name": page.title,
               "description": page.description, "inLanguage": page.lang,
               "isPartOf": {"@type": "WebSite", "name": config.language(page.lang).title,
                            "url": config.base_url + f"{page.lang}/"},
               "about": {"@type": "Drug", "name": about}}
    if page.reviewed:
        medical["lastReviewed"] = page.reviewed.isoformat()
    # The default language's page is the source the others are translated from (see translation_key).
    source = site.page(page.translation_key, config.default_lang)
    if page.lang == config.default_lang and site.alternates(page):
        medical["workTranslation"] = [{"@id": config.base_url + p.url.lstrip("/")} for p in site.alternates(page)]
    elif source is not None and source is not page:
        medical["translationOfWork"] = {"@id": config.base_url + source.url.lstrip("/")}
    if sources:
        medical["citation"] = [{"@type": "CreativeWork", "name": s.title, "url": s.url,
                                "publisher": {"@type": "Organization", "name": s.publisher}} for s in sources]
    crumbs = [p for p in (site.home(page.lang), _section_index(site, page)) if p and p.url != page.url] + [page]
    breadcrumbs = {"@type": "BreadcrumbList", "itemListElement": [
        {"@type": "ListItem", "position": i, "name": p.title, "item": config.base_url + p.url.lstrip("/")}
        for i, p in enumerate(crumbs, start=1)]}
    return {"@context": "https://schema.org", "@graph": [medical, breadcrumbs]}


def _section_index(site: Site, page: Page):
    return site.page_at(page.lang, f"{page.section}/index.md") if page.section else None
