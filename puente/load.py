"""Stage 1: read every Markdown file under content/<lang>/ into Page values."""

from __future__ import annotations

import dataclasses
import datetime
import functools
import os
import re
import stat
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


class FrontMatterError(yaml.constructor.ConstructorError):
    """A front matter value YAML can read but a page cannot use; `code` is the diagnostic's."""

    def __init__(self, code: str, message: str, mark):
        super().__init__(None, None, message, mark)
        self.code = code


class UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """A safe loader that refuses a key written twice, which plain YAML silently overwrites.

    It uses libyaml's parser when PyYAML has it: twenty times faster than the pure-Python one.
    Line numbers in its errors count from the first line after the opening '---'.
    """

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                hash(key)
            except TypeError:
                raise FrontMatterError("front-matter-syntax", "a field name must be a plain word such as title",
                                       key_node.start_mark) from None
            if key in seen:
                raise FrontMatterError("front-matter-duplicate", f"{key!r} is written twice (first on line "
                                       f"{seen[key] + 2}): keep one of them", key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)

    def construct_yaml_timestamp(self, node):
        # 2023-13-45 has the shape of a date, so YAML builds one and Python raises a bare ValueError.
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise FrontMatterError("front-matter-type", f"{node.value!r} is not a real date ({exc}): write dates "
                                   "as YYYY-MM-DD, e.g. 2023-10-06", node.start_mark) from None


UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", UniqueKeyLoader.construct_yaml_timestamp)


def load_pages(config: Config, cache=None, changed=None) -> tuple[tuple[Page, ...], tuple[Diagnostic, ...]]:
    """Read every page of every language; return the pages and the problems found.

    `changed` is None, or every path that changed since the last build with this cache (the
    preview's watcher knows): files outside it are then taken from the cache's memory unlooked-at.
    """
    import time
    diagnostics = list(_check_language_folders(config))
    pages = []
    memory = cache.memory.setdefault("files", {}) if cache is not None and cache.memory is not None else None
    now = time.time_ns()
    listing, trusted = _content_listing(config, cache.memory if cache is not None else None, changed)
    for lang, folder, files, links in listing:
        diagnostics.extend(_folder_link_problem(config, link) for link in links)
        for path in files:
            remembered = memory.get(path) if trusted and path not in changed else None
            page, problems = remembered[1] if remembered else _load_file(config, lang, folder, path, cache,
                                                                        memory, now)
            # Checked on every build, not cached with the file: adding the template fixes the page.
            page, problems = _check_template(config, page, problems)
            diagnostics.extend(problems)
            if page is not None and (config.include_drafts or not page.draft):
                pages.append(page)
    return tuple(pages), tuple(diagnostics)


def _load_file(config: Config, lang: str, folder: str, path: str, cache, memory: dict | None, now: int):
    """Return (Page or None, problems) for one file.

    A file whose size, modification time and inode are those seen last time is not read again: on
    a big site that reading was most of a rebuild. A process that builds again and again (the
    preview) keeps each file's stat and what it gave in `memory`; a build run once finds them in the
    cache's `files` table, which the previous build saved.
    """
    if cache is None:
        problem = file_problem(config, path, config.relative(path))
        return (None, (problem,)) if problem else load_page(config, lang, folder, path)
    identity = _plain_file_identity(path, now)
    found = _unchanged(config, folder, path, identity, cache, memory)
    if found is not None:
        return found
    problem = file_problem(config, path, config.relative(path))
    if problem:
        (page, problems), key = (None, (problem,)), None
    else:
        (page, problems), key = _load_cached(config, lang, folder, path, cache)
    found = (page, tuple(problems))
    if identity is None:  # too recent to trust its stat next time (see RACY_NS), or not a plain file
        if memory is not None:
            memory.pop(path, None)
    elif memory is not None:
        memory[path] = (identity, found)  # the stat taken before reading: a save during it shows next time
    elif key is not None:
        cache.put("files", (config.root, folder, path), (identity, key))
    return found


def _unchanged(config: Config, folder: str, path: str, identity, cache, memory: dict | None):
    """What the file gave last time, if its stat is the same: (Page or None, problems), else None."""
    if identity is None:
        return None
    if memory is not None:
        known = memory.get(path)
        return known[1] if known is not None and known[0] == identity else None
    known = cache.get("files", (config.root, folder, path))
    return cache.get("pages", known[1]) if known is not None and known[0] == identity else None


RACY_NS = 100_000_000
"""A file modified this recently may be written again within the same clock tick, keeping its size and
mtime; it is read again next time (as git does with "racily clean" files)."""


def _plain_file_identity(path: str, now: int):
    """(size, mtime, inode) of a regular file that is not a symbolic link, else None (always read again)."""
    try:
        status = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(status.st_mode) or now - status.st_mtime_ns < RACY_NS:
        return None
    return status.st_size, status.st_mtime_ns, status.st_ino


def _load_cached(config: Config, lang: str, folder: str, path: str, cache):
    """Return ((Page or None, problems), pages-table key), reusing the parse of a file whose bytes (and
    location) are unchanged since the last build; the key is None when the file could not be read.

    The page is kept whole, body included: taking it from the cache costs less than decoding the file."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return load_page(config, lang, folder, path), None
    from .cache import digest
    # Where a symbolic link leads is part of what was checked; a plain file needs no realpath (many lstats).
    target = os.path.realpath(path) if os.path.islink(path) else path
    key = (config.relative(path), lang, target, digest(data))
    found = cache.get("pages", key)
    if found is not None:
        return found, key
    page, problems = load_page(config, lang, folder, path)
    if page is not None:
        page = dataclasses.replace(page, source_digest=key[-1])
    found = (page, tuple(problems))
    cache.put("pages", key, found)
    return found, key


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


def _content_listing(config: Config, memory: dict | None, changed) -> tuple[list[tuple], bool]:
    """Return ([(lang, folder, .md files, linked folders)], whether the last listing still holds).

    It holds when the caller names what changed and none of it adds, removes or moves a content
    file: each changed path is outside the content folder, or a file listed last time that is still
    a plain file. Anything else (a new page, a deleted one, a folder) is listed afresh.
    """
    key = (config.content_dir, config.langs)
    last = memory.get("listing") if memory is not None else None
    if changed is not None and last is not None and last[0] == key and all(
            path in last[2] and os.path.isfile(path) and not os.path.islink(path)
            or not _is_within(os.path.abspath(path), os.path.abspath(config.content_dir)) for path in changed):
        return last[1], True
    listing = []
    for lang in config.langs:
        folder = os.path.join(config.content_dir, lang)
        listing.append((lang, folder, *_markdown_files(folder)))
    if memory is not None:
        memory["listing"] = (key, listing, {path for *_, files, _ in listing for path in files})
    return listing, False


def _markdown_files(folder: str) -> tuple[list[str], list[str]]:
    """Return the .md files below `folder` and the linked folders not followed, in a stable order."""
    found, links = [], []
    for here, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        links.extend(os.path.join(here, d) for d in dirs if os.path.islink(os.path.join(here, d)))
        found.extend(os.path.join(here, f) for f in files if f.endswith(".md") and not f.startswith("."))
    return sorted(found), sorted(links)


def _folder_link_problem(config: Config, path: str) -> Diagnostic:
    source = config.relative(path)
    if not _is_within(os.path.realpath(path), os.path.realpath(config.content_dir)):
        return Diagnostic(ERROR, "symlink-outside", "this is a symbolic link to a folder outside the content "
                          "folder, which is refused: copy the folder in instead", source)
    return Diagnostic(WARNING, "symlink-folder", "this symbolic link to another content folder is not followed, "
                      "so the pages in it are not published here: move or copy the folder instead", source)


def _is_within(path: str, folder: str) -> bool:
    """Tell whether `path` is `folder` or inside it; both absolute and normalized (abspath, realpath).

    A prefix test is commonpath's answer for such paths at a tenth of its cost, which every page paid."""
    path, folder = os.path.normcase(path), os.path.normcase(folder)
    return path == folder or path.startswith(folder if folder.endswith(os.sep) else folder + os.sep)


def _check_template(config: Config, page: Page | None, problems):
    """Report a `template:` that names no file in templates/, at its front matter line."""
    if page is None or page.template == "page.html" or _template_exists(config, page.template):
        return page, problems
    folder = config.path("templates")
    layouts = sorted(n for n in os.listdir(folder) if n.endswith(".html") and not n.startswith("_")
                     and not n.endswith("_part.html")) if os.path.isdir(folder) else []
    hint = get_close_matches(page.template, layouts, n=1)
    text, _ = read_text(config, config.path(*page.source.split("/")), page.source)
    problem = Diagnostic(ERROR, "unknown-template", f"template {page.template!r} is not in templates/"
                         + (f"; did you mean {hint[0]!r}?" if hint else ": leave `template:` out to use page.html"),
                         page.source, _line_of_key(text or "", "template"))
    # The page stays, with the usual layout, so links to it are not reported as broken as well.
    return dataclasses.replace(page, template="page.html"), [*problems, problem]


def _template_exists(config: Config, name: str) -> bool:
    folder = os.path.realpath(config.path("templates"))
    path = os.path.realpath(os.path.join(folder, name))
    return _is_within(path, folder) and os.path.isfile(path)


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
    problems += _name_problems(rel_path, meta.get("slug"), source)
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


def file_problem(config: Config, path: str, source: str) -> Diagnostic | None:
    """Say why a file cannot be read as a page without opening it, or return None."""
    # The content walk never enters a linked folder, so only a file that is itself a link can lead outside.
    if os.path.islink(path):
        real = os.path.realpath(path)
        inside = _is_within(real, _real_folder(config.content_dir))
    else:
        real = path
        inside = _is_within(os.path.abspath(path), os.path.abspath(config.content_dir))
    if not inside:
        return Diagnostic(ERROR, "symlink-outside", "this file is a symbolic link to a file outside the content "
                          "folder, which is refused: copy the file in instead", source)
    try:
        status = os.stat(path)
    except FileNotFoundError:
        return Diagnostic(ERROR, "broken-symlink", f"this symbolic link points to {config.relative(real)}, which "
                          "does not exist: fix the link or delete it", source)
    except OSError as exc:
        return Diagnostic(ERROR, "unreadable-file", f"the file cannot be read ({exc.strerror})", source)
    if not stat.S_ISREG(status.st_mode):  # a pipe or device would block the build or never end
        return Diagnostic(ERROR, "not-a-file", "this is not a regular file: delete it or rename it so it does not "
                          "end in .md", source)
    if status.st_size > MAX_BYTES:
        return Diagnostic(ERROR, "file-too-large", f"the file is {status.st_size / 1048576:.1f} MB; pages are "
                          f"limited to {MAX_BYTES // 1048576} MB: split it into several pages", source)
    return None


@functools.lru_cache(maxsize=16)
def _real_folder(folder: str) -> str:
    return os.path.realpath(folder)


def read_text(config: Config, path: str, source: str):
    """Return (text, None) or (None, diagnostic) for a file that cannot be a page."""
    problem = file_problem(config, path, source)
    if problem:
        return None, problem
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        return None, Diagnostic(ERROR, "unreadable-file", f"the file cannot be read ({exc.strerror})", source)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, Diagnostic(ERROR, "not-utf8", "the file is saved as UTF-16 (\"Unicode\" in some editors): "
                                "save it as UTF-8 instead", source)
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
    opening = re.match(r"---[ \t]*\n", text)
    if opening is None:
        return None, "", 1, [Diagnostic(ERROR, "missing-front-matter", "the file must start with front matter: "
                                        "a line '---', then 'title: ...', then another '---'", source, 1)]
    end = re.search(r"^(?:---|\.\.\.)[ \t]*$", text[opening.end():], re.MULTILINE)
    if end is None:
        return None, "", 1, [Diagnostic(ERROR, "unterminated-front-matter", "the front matter that starts here "
                                        "is never closed: add a line '---' after the last field", source, 1)]
    raw = text[opening.end(): opening.end() + end.start()]
    body_start = min(len(text), opening.end() + end.end() + 1)
    body, body_line = text[body_start:], text[:body_start].count("\n") + 1
    # YAML also breaks lines at these, which would shift every line number after them.
    raw = raw.translate({0x85: " ", 0x2028: " ", 0x2029: " "})
    try:
        meta = yaml.load(raw, Loader=UniqueKeyLoader) if raw.strip() else {}
    except yaml.YAMLError as exc:
        return None, body, body_line, [_yaml_problem(exc, raw, source)]
    except (ValueError, RecursionError) as exc:  # e.g. a number too long for Python to convert
        return None, body, body_line, [Diagnostic(ERROR, "front-matter-syntax", f"invalid front matter: {exc}",
                                                  source, 1)]
    if not isinstance(meta, dict):
        return None, body, body_line, [Diagnostic(ERROR, "front-matter-not-mapping", "the front matter must be "
                                                  "'key: value' lines, e.g. 'title: Naloxone'", source, 2)]
    return meta, body, body_line, []


YAML_HINTS = (
    ("mapping values are not allowed", "a value that contains ': ' must be put in quotes, e.g. "
     "title: \"Naloxone: how to use it\", and every field must start at the beginning of its line"),
    ("could not find expected ':'", "write each field as 'key: value' on its own line; if this is the page's "
     "text, add the closing '---' line before it"),
    ("tab", "indent with spaces, not tabs"),
    ("cannot start any token", "a value that starts with @ or ` must be put in quotes"),
    ("undefined alias", "a value that starts with * or & must be put in quotes"),
    ("constructor for the tag", "a value that starts with ! must be put in quotes"),
    ("expected ',' or ']'", "a value that starts with [ is read as a list: put the whole value in quotes"),
    ("expected ',' or '}'", "a value that starts with { is read as a group of fields: put the whole value in quotes"),
    ("end of stream", "a quote is opened but never closed"),
    ("unknown escape", "inside double quotes a backslash starts an escape: write \\\\ for a backslash, "
     "or use single quotes"),
)


def _yaml_problem(exc, raw: str, source: str) -> Diagnostic:
    """Say where the front matter stops being YAML, in words a communicator can act on."""
    if isinstance(exc, FrontMatterError):
        return Diagnostic(ERROR, exc.code, exc.problem, source, exc.problem_mark.line + 2)
    if isinstance(exc, yaml.reader.ReaderError):
        return Diagnostic(ERROR, "front-matter-syntax", f"the front matter holds an invisible control character "
                          f"(U+{exc.character:04X}), often pasted from another program: delete it", source,
                          raw[: exc.position].count("\n") + 2)
    reason = getattr(exc, "problem", None) or str(exc)
    hint = next((h for needle, h in YAML_HINTS if needle in reason), "check the quotes, colons and indentation")
    # Where a list, a quote or a key was opened says more than where the parser gave up.
    context, mark = getattr(exc, "context", None) or "", getattr(exc, "problem_mark", None)
    if re.search(r"simple key|quoted scalar|flow", context) and getattr(exc, "context_mark", None):
        mark = exc.context_mark
    return Diagnostic(ERROR, "front-matter-syntax", f"invalid front matter: {reason}: {hint}", source,
                      mark.line + 2 if mark else 1)


def validate_front_matter(meta: dict, source: str, text: str = "") -> list[Diagnostic]:
    """Check required fields, types, slugs and unknown keys."""
    problems = []
    if "title" not in meta:
        problems.append(Diagnostic(ERROR, "missing-title", "every page needs a title: add a line 'title: ...' "
                                   "to the front matter", source, 1))
    for key, value in meta.items():
        expected = FIELDS.get(key)
        if expected is None:
            problems.append(Diagnostic(WARNING, "unknown-key", f"unknown front matter key {key!r}"
                                       + _key_hint(str(key)), source, _line_of_key(text, key)))
        elif value is None or value == "" or key == "title" and isinstance(value, str) and not value.strip():
            problems.append(Diagnostic(ERROR, "front-matter-type", f"{key} is empty: write its value after "
                                       f"'{key}:', or delete the line", source, _line_of_key(text, key)))
        elif not _is_type(value, expected):
            line = _line_of_key(text, key)  # searched for only when there is something to report there
            problems.append(Diagnostic(ERROR, "front-matter-type", _type_message(key, value, expected, text, line),
                                       source, line))
    slug = meta.get("slug")
    if isinstance(slug, str) and slug and not SLUG_PATTERN.match(slug):
        problems.append(Diagnostic(ERROR, "invalid-slug", f"slug {slug!r} may only hold lowercase letters, digits "
                                   f"and hyphens, e.g. {slugify(slug)!r}", source, _line_of_key(text, "slug")))
    return problems


@functools.lru_cache(maxsize=256)
def _key_hint(key: str) -> str:
    """The likeliest meant key; remembered, because an imported site repeats the same unknown keys on every page."""
    hint = get_close_matches(key, sorted(FIELDS), n=1)
    return f"; did you mean {hint[0]!r}?" if hint else "; it is ignored"


EXAMPLES = {int: "3", bool: "true", datetime.date: "2023-10-06"}


def _type_message(key, value, expected, text: str, line: int) -> str:
    written = (text.split("\n")[line - 1].partition(":")[2].strip() if text else "") or repr(value)
    if expected is str:
        quote = "'" if '"' in written else '"'
        return (f"{key} must be text, but YAML reads {written} as {_kind(value)}: put the whole value in quotes, "
                f"e.g. {key}: {quote}{written}{quote}")
    return f"{key} must be {TYPE_NAMES[expected]}, not {written}, e.g. {key}: {EXAMPLES[expected]}"


def _kind(value) -> str:
    """Name what YAML made of a value, for people who never heard of YAML types."""
    kinds = ((bool, "true or false"), (datetime.datetime, "a date and time"), (datetime.date, "a date"),
             ((int, float), "a number"), (list, "a list"), (dict, "a group of fields"))
    return next((name for kind, name in kinds if isinstance(value, kind)), "something other than text")


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


def _name_problems(rel_path: str, slug, source: str) -> list[Diagnostic]:
    """Refuse file and folder names with nothing to make a URL from ('¿¡.md', '日本.md')."""
    parts = rel_path[:-3].split("/")
    for number, part in enumerate(parts, start=1):
        is_file = number == len(parts)
        if slugify(part) or is_file and isinstance(slug, str) and slug:
            continue
        what = "file" if is_file else "folder"
        return [Diagnostic(ERROR, "unusable-file-name", f"the {what} name {part!r} has no Latin letter or digit "
                           f"to make a web address from: rename the {what}, e.g. 'japanese'"
                           + (", or set `slug:` in the front matter" if is_file else ""), source, 1)]
    return []


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
