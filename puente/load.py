"""Stage 1: read every Markdown file under content/<lang>/ into Page values."""

from __future__ import annotations

import datetime
import os
import re
from difflib import get_close_matches

import yaml

from .model import ERROR, WARNING, Config, Diagnostic, Page
from .slug import slugify

FIELDS = {
    "title": str, "description": str, "slug": str, "translation_key": str, "order": int,
    "reviewed": datetime.date, "draft": bool, "template": str, "source_hash": str,
}
TYPE_NAMES = {str: "text", int: "a whole number", bool: "true or false",
              datetime.date: "a date written YYYY-MM-DD"}
MAX_BYTES = 2 * 1024 * 1024
"""Larger files are refused: a real page is a few KB, and a huge one is almost always a mistake."""
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")


class UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """A safe loader that refuses a key written twice, which plain YAML silently overwrites.

    It uses libyaml's parser when PyYAML has it: twenty times faster than the pure-Python one.
    """

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def load_pages(config: Config, cache=None) -> tuple[tuple[Page, ...], tuple[Diagnostic, ...]]:
    """Read every page of every language; return the pages and the problems found."""
    diagnostics = list(_check_language_folders(config))
    pages = []
    for lang in config.langs:
        folder = os.path.join(config.content_dir, lang)
        for path in _markdown_files(folder):
            page, problems = _load_cached(config, lang, folder, path, cache)
            diagnostics.extend(problems)
            if page is not None and (config.include_drafts or not page.draft):
                pages.append(page)
    return tuple(pages), tuple(diagnostics)


def _load_cached(config: Config, lang: str, folder: str, path: str, cache):
    """Reuse the parse of a file whose bytes (and location) are unchanged since the last build."""
    if cache is None:
        return load_page(config, lang, folder, path)
    import dataclasses
    from .cache import digest
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return load_page(config, lang, folder, path)
    key = (config.relative(path), lang, os.path.realpath(path), digest(data))
    found = cache.get("pages", key)
    if found is not None:
        page, problems, body_length = found
        if page is None:
            return None, problems
        text = data.decode("utf-8-sig").replace("\r\n", "\n").replace("\r", "\n")
        return dataclasses.replace(page, body=text[len(text) - body_length:]), problems
    page, problems = load_page(config, lang, folder, path)
    if page is not None:
        page = dataclasses.replace(page, source_digest=key[-1])
    # The body is left out of the cache: it is in the file, which was just read anyway.
    cache.put("pages", key, (page and dataclasses.replace(page, body=""), problems,
                             len(page.body) if page else 0))
    return page, problems


def _check_language_folders(config: Config):
    if not os.path.isdir(config.content_dir):
        yield Diagnostic(ERROR, "missing-folder",
                         f"content folder {config.relative(config.content_dir)} does not exist: create "
                         f"{' and '.join(config.relative(os.path.join(config.content_dir, l)) for l in config.langs)}",
                         config.relative(config.content_dir))
        return
    for name in sorted(os.listdir(config.content_dir)):
        path = os.path.join(config.content_dir, name)
        if os.path.isdir(path) and name not in config.langs and not name.startswith("."):
            yield Diagnostic(ERROR, "unknown-language",
                             f"unknown language folder {config.relative(path)}: the languages are "
                             f"{', '.join(config.langs)}", config.relative(path))


def _markdown_files(folder: str):
    """Yield the .md files below `folder` in a stable order, whatever the file system's listing order."""
    found = []
    for here, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(os.path.join(here, f) for f in files if f.endswith(".md") and not f.startswith("."))
    return sorted(found)


def load_page(config: Config, lang: str, folder: str, path: str):
    """Read one file; return (Page or None, diagnostics)."""
    source = config.relative(path)
    rel_path = os.path.relpath(path, folder).replace(os.sep, "/")
    text, problem = read_text(config, path, source)
    if problem:
        return None, [problem]
    meta, body, body_line, problems = split_front_matter(text, source)
    if meta is None:
        return None, problems
    problems += validate_front_matter(meta, source, text)
    if any(p.level == ERROR for p in problems):
        return None, problems
    description = meta.get("description") or first_paragraph(body)
    if not meta.get("description"):
        problems.append(Diagnostic(WARNING, "missing-description",
                                   "no description in the front matter: the first paragraph is used for search "
                                   "results and link previews; add `description:`", source, 1))
    return Page(
        lang=lang, source=source, rel_path=rel_path,
        translation_key=meta.get("translation_key") or rel_path[:-3],
        url=page_url(lang, rel_path, meta.get("slug")),
        title=meta["title"].strip(), description=description, body=body, body_line=body_line,
        order=meta.get("order"), reviewed=meta.get("reviewed"), draft=meta.get("draft", False),
        template=meta.get("template", "page.html"), source_hash=meta.get("source_hash"), meta=meta,
    ), problems


def read_text(config: Config, path: str, source: str):
    """Return (text, None) or (None, diagnostic) for a file that cannot be a page."""
    real = os.path.realpath(path)
    if os.path.commonpath([real, os.path.realpath(config.content_dir)]) != os.path.realpath(config.content_dir):
        return None, Diagnostic(ERROR, "symlink-outside", "this is a symbolic link to a file outside the content "
                                "folder, which is refused: copy the file in instead", source)
    size = os.path.getsize(path)
    if size > MAX_BYTES:
        return None, Diagnostic(ERROR, "file-too-large", f"the file is {size / 1048576:.1f} MB; pages are limited "
                                f"to {MAX_BYTES // 1048576} MB: split it into several pages", source)
    with open(path, "rb") as f:
        data = f.read()
    if b"\0" in data:
        return None, Diagnostic(ERROR, "binary-file", "the file contains NUL bytes, so it is not a text file: "
                                "is it an image or document renamed to .md?", source)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        return None, Diagnostic(ERROR, "not-utf8", f"the file is not UTF-8 (byte 0x{data[exc.start]:02x}): "
                                "save it as UTF-8 in your editor", source, line)
    if not text.strip():
        return None, Diagnostic(ERROR, "empty-file", "the file is empty: add front matter with a title and some "
                                "text, or delete the file", source)
    return text.replace("\r\n", "\n").replace("\r", "\n"), None


def split_front_matter(text: str, source: str):
    """Return (meta, body, body_line, diagnostics); meta is None when the front matter is unusable."""
    if not text.startswith("---\n"):
        return None, "", 1, [Diagnostic(ERROR, "missing-front-matter", "the file must start with front matter: "
                                        "a line '---', then 'title: ...', then another '---'", source, 1)]
    end = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[4:], re.MULTILINE)
    if end is None:
        return None, "", 1, [Diagnostic(ERROR, "unterminated-front-matter", "the front matter that starts here "
                                        "is never closed: add a line '---' after the last field", source, 1)]
    raw = text[4: 4 + end.start()]
    body_start = min(len(text), 4 + end.end() + 1)
    body, body_line = text[body_start:], text[:body_start].count("\n") + 1
    try:
        meta = yaml.load(raw, Loader=UniqueKeyLoader) if raw.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        return None, body, body_line, [Diagnostic(ERROR, "front-matter-syntax", f"invalid front matter: {reason}",
                                                  source, mark.line + 2 if mark else 1)]
    except ValueError as exc:  # e.g. reviewed: 2023-13-45 matches YAML's date pattern but is no date
        return None, body, body_line, [Diagnostic(ERROR, "front-matter-type", f"invalid date in the front "
                                                  f"matter ({exc}): write dates as YYYY-MM-DD", source,
                                                  _line_of_date(raw))]
    if not isinstance(meta, dict):
        return None, body, body_line, [Diagnostic(ERROR, "front-matter-not-mapping", "the front matter must be "
                                                  "'key: value' lines, e.g. 'title: Naloxone'", source, 2)]
    return meta, body, body_line, []


def validate_front_matter(meta: dict, source: str, text: str = "") -> list[Diagnostic]:
    """Check required fields, types, slugs and unknown keys."""
    problems = []
    if not isinstance(meta.get("title"), str) or not meta.get("title", "").strip():
        problems.append(Diagnostic(ERROR, "missing-title" if "title" not in meta else "front-matter-type",
                                   "every page needs a `title:` in its front matter (text)", source, 1))
    for key, value in meta.items():
        line = _line_of_key(text, key)
        expected = FIELDS.get(key)
        if expected is None:
            hint = get_close_matches(str(key), sorted(FIELDS), n=1)
            problems.append(Diagnostic(WARNING, "unknown-key", f"unknown front matter key {key!r}"
                                       + (f"; did you mean {hint[0]!r}?" if hint else "; it is ignored"),
                                       source, line))
        elif key != "title" and not _is_type(value, expected):
            problems.append(Diagnostic(ERROR, "front-matter-type", f"{key} must be {TYPE_NAMES[expected]}, "
                                       f"not {value!r}", source, line))
    slug = meta.get("slug")
    if isinstance(slug, str) and not SLUG_PATTERN.match(slug):
        problems.append(Diagnostic(ERROR, "invalid-slug", f"slug {slug!r} may only hold lowercase letters, digits "
                                   f"and hyphens, e.g. {slugify(slug)!r}", source, _line_of_key(text, "slug")))
    return problems


def _is_type(value, expected) -> bool:
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if expected is datetime.date:
        return isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)
    return isinstance(value, expected)


def _line_of_key(text: str, key) -> int:
    """Return the line where `key:` is written in the source file (1 when it cannot be found)."""
    match = re.search(rf"^{re.escape(str(key))}[ \t]*:", text, re.MULTILINE)
    return text[: match.start()].count("\n") + 1 if match else 1


def _line_of_date(raw: str) -> int:
    for number, line in enumerate(raw.split("\n"), start=2):
        if re.search(r"\d{4}-\d{1,2}-\d{1,2}", line):
            return number
    return 1


def page_url(lang: str, rel_path: str, slug: str | None) -> str:
    """Return the pretty URL of a page: `/es/guia/naloxona/` for `guia/naloxona.md`."""
    parts = [slugify(part) for part in rel_path[:-3].split("/")]
    if parts[-1] == "index":
        parts.pop()
    elif slug:
        parts[-1] = slug
    return "/" + "/".join([lang, *parts]) + "/" if parts else f"/{lang}/"


def first_paragraph(body: str, limit: int = 160) -> str:
    """Return the first prose paragraph as plain text, cut at a word near `limit` characters."""
    for block in re.split(r"\n\s*\n", body):
        block = block.strip()
        if block and not re.match(r"^(#|!!!|[-*+] |\d+\. |\||>|```|<)", block):
            text = re.sub(r"\[@[^\]]*\]", "", block)
            text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
            text = re.sub(r"[*_`]", "", " ".join(text.split())).strip()
            return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + "…"
    return ""
