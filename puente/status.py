"""`python build.py status`: which pages are translated, missing or outdated, and how far the UI strings are.

A translation is *outdated* when the page it was made from changed after it was stamped with
`status --mark FILE` (see puente.checks.translation). Where git history is available, the report
shows what changed in the source since the stamped version.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .checks.translation import MISSING, OUTDATED, PRESENT, content_hash, parse_stamp, stamp, translation_of

GIT_HISTORY_LIMIT = 200
"""How many commits of a source file are searched for the stamped version."""


def main(argv) -> int:
    """Run `status` with its own options; return the exit status."""
    from .cli import EXIT_CONTENT, EXIT_OK, EXIT_USAGE, load
    args = parser().parse_args(argv)
    config = load(args)
    if config is None:
        return EXIT_CONTENT
    if args.mark:
        return EXIT_OK if mark(config, args.mark) else EXIT_CONTENT
    report = collect_status(config)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(format_table(report))
    if args.html:
        problem = write_html(config, args.html)
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return EXIT_USAGE
        print(f"wrote {os.path.join(args.html, 'index.html')}", file=sys.stderr)
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    status = argparse.ArgumentParser(prog="build.py status",
                                     description="Show the translation status of every page and of the UI strings.")
    status.add_argument("--content", metavar="DIR", help="the content folder (default: content/)")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.add_argument("--html", metavar="DIR", help="also write the report as DIR/index.html")
    status.add_argument("--mark", metavar="FILE", help="stamp FILE as up to date with the page it translates")
    return status


# Collecting the status.

def load_site(config):
    """Load and pair the pages; return (site, diagnostics)."""
    from .load import load_pages
    from .pair import pair_translations
    pages, problems = load_pages(config)
    site, more = pair_translations(config, pages)
    return site, (*problems, *more)


def collect_status(config) -> dict:
    """Return the whole status as a JSON-ready dict: pages, UI strings and stale extraction."""
    site, problems = load_site(config)
    pages = [page_status(site, key) for key in site.translation_keys()]
    counted = {state: sum(1 for p in pages for entry in p["languages"].values() if entry["state"] == state)
               for state in (PRESENT, MISSING, OUTDATED)}
    return {
        "content": config.relative(config.content_dir),
        "languages": list(config.langs),
        "summary": {"translation_keys": len(pages), **counted},
        "pages": pages,
        "ui_strings": [catalog_status(config, lang) for lang in config.langs if lang != "en"],
        "stale_extraction": stale_extraction(config),
        "diagnostics": [d.as_dict() for d in problems if d.level == "error"],
    }


def page_status(site, key: str) -> dict:
    """Return one translation key's state in every language."""
    languages = {}
    for lang in site.config.langs:
        page = site.page(key, lang)
        if page is None:
            languages[lang] = {"state": MISSING, "path": None}
            continue
        translation = translation_of(site, page)
        entry = {"state": translation.state, "path": page.source, "title": page.title,
                 "stamp": page.source_hash, "source": translation.source.source if translation.source else None}
        if translation.problem:
            entry["problem"] = translation.problem
        if translation.state == OUTDATED:
            entry["current_stamp"] = stamp(translation.source)
            entry["diff"], entry["diff_note"] = source_diff(site.config, translation.source, page.source_hash)
        languages[lang] = entry
    return {"translation_key": key, "languages": languages}


def catalog_status(config, lang: str) -> dict:
    """Count the translated, fuzzy, untranslated and obsolete entries of one language's catalog."""
    from .i18n import catalog_path, read_catalog
    catalog, problems = read_catalog(config, lang)
    path = config.relative(catalog_path(config, lang))
    if catalog is None:
        return {"lang": lang, "path": path, "problem": "; ".join(d.message for d in problems if d.level == "error")
                or "no catalog"}
    messages = [m for m in catalog if m.id]
    fuzzy = [m for m in messages if m.fuzzy]
    untranslated = [m for m in messages if not m.fuzzy and not _is_translated(m)]
    total, obsolete = len(messages), len(catalog.obsolete)

    def share(count, whole):
        return {"count": count, "percent": round(100 * count / whole, 1) if whole else 0.0}
    return {"lang": lang, "path": path, "total": total,
            "translated": share(total - len(fuzzy) - len(untranslated), total),
            "fuzzy": share(len(fuzzy), total), "untranslated": share(len(untranslated), total),
            "obsolete": share(obsolete, total + obsolete),
            "fuzzy_ids": [_msgid(m) for m in fuzzy], "untranslated_ids": [_msgid(m) for m in untranslated],
            "obsolete_ids": [_msgid(m) for m in catalog.obsolete.values()]}


def _is_translated(message) -> bool:
    strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    return all(strings)


def _msgid(message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def stale_extraction(config) -> dict:
    """Compare the msgids the templates use now with locales/messages.pot (extracted in memory)."""
    from babel.messages.pofile import read_po
    pot = config.path("locales", "messages.pot")
    used = template_messages(config)
    if not os.path.isfile(pot):
        return {"pot": config.relative(pot), "missing": [{"msgid": k, "locations": v} for k, v in used.items()],
                "unused": [], "problem": "there is no messages.pot"}
    with open(pot, "rb") as f:
        known = {_msgid(m) for m in read_po(f) if m.id}
    return {"pot": config.relative(pot),
            "missing": [{"msgid": msgid, "locations": where} for msgid, where in used.items() if msgid not in known],
            "unused": sorted(known - set(used))}


def template_messages(config) -> dict:
    """Return {msgid: ["templates/x.html:12", ...]} extracted from the templates as babel.cfg says."""
    from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
    from babel.util import pathmatch
    found = {}
    for pattern, method, options in _extraction_mapping(config):
        base = pattern.split("*", 1)[0].rsplit("/", 1)[0] if "/" in pattern.split("*", 1)[0] else ""
        for here, dirs, files in os.walk(config.path(base) if base else config.root):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(here, name)
                rel = config.relative(path)
                if not pathmatch(pattern, rel):
                    continue
                for line, message, _, _ in extract_from_file(method, path, DEFAULT_KEYWORDS,
                                                             comment_tags=("Translators:",), options=options):
                    msgid = message if isinstance(message, str) else message[0]
                    found.setdefault(msgid, []).append(f"{rel}:{line}")
    return found


def _extraction_mapping(config):
    """Return [(pattern, method, options)] from babel.cfg, or the templates with Jinja when it is missing."""
    from babel.messages.frontend import parse_mapping_cfg
    path = config.path("babel.cfg")
    if not os.path.isfile(path):
        return [("templates/**.html", "jinja2", {"extensions": "jinja2.ext.i18n", "trimmed": "true"})]
    with open(path, encoding="utf-8") as f:
        methods, options = parse_mapping_cfg(f, path)
    return [(pattern, method, options.get(pattern, {})) for pattern, method in methods]


# What changed in a source since its translation was stamped.

def source_diff(config, source, stamp_value: str) -> tuple[str | None, str]:
    """Return (unified diff or None, note) between the stamped version of `source` in git and now."""
    import difflib
    _, digest = parse_stamp(stamp_value)
    history = git_versions(config, source)
    if history is None:
        return None, "no git history here: the diff cannot be shown, only that the source changed"
    for commit, text in history:
        old = _page_text(text, source.source)
        if old is not None and content_hash(*old) == digest:
            before = [f"title: {old[0]}", "", *old[1].split("\n")]
            after = [f"title: {source.title}", "", *source.body.split("\n")]
            diff = difflib.unified_diff(before, after, f"{source.source} (stamped, commit {commit[:10]})",
                                        f"{source.source} (now)", lineterm="")
            return "\n".join(diff), f"changes since commit {commit[:10]}"
    return None, ("the stamped version is not in the git history of the source (it was stamped from "
                  "text that was never committed)")


def git_versions(config, source):
    """Return [(commit, text)] of `source` through its git history, newest first; None without git."""
    import subprocess
    path = config.path(source.source)
    try:
        top = subprocess.run(["git", "-C", os.path.dirname(path), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True).stdout.strip()
        log = subprocess.run(["git", "-C", top, "log", "--follow", f"-n{GIT_HISTORY_LIMIT}", "--format=%x00%H",
                              "--name-only", "--", os.path.relpath(path, top)],
                             capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    wanted = []
    for record in log.split("\0")[1:]:
        lines = [line for line in record.split("\n") if line.strip()]
        if len(lines) >= 2:
            wanted.append((lines[0], lines[-1]))
    if not wanted:
        return []
    batch = subprocess.run(["git", "-C", top, "cat-file", "--batch"], capture_output=True, check=True,
                           input="".join(f"{commit}:{name}\n" for commit, name in wanted).encode())
    return list(zip((commit for commit, _ in wanted), _batch_objects(batch.stdout)))


def _batch_objects(data: bytes):
    """Yield each object's text from `git cat-file --batch` output (None for a missing one)."""
    at = 0
    while at < len(data):
        end = data.index(b"\n", at)
        header = data[at:end].split()
        if len(header) < 3:
            at = end + 1
            yield None
            continue
        size = int(header[2])
        yield data[end + 1: end + 1 + size].decode("utf-8-sig", "replace").replace("\r\n", "\n")
        at = end + 1 + size + 1


def _page_text(text, source: str):
    from .load import split_front_matter
    if text is None:
        return None
    meta, body, _, _ = split_front_matter(text, source)
    if not meta or not isinstance(meta.get("title"), str):
        return None
    return meta["title"].strip(), body


# Stamping a translation.

def mark(config, file: str) -> bool:
    """Stamp FILE with the hash of the page it translates; print what was done or why not."""
    site, _ = load_site(config)
    rel = config.relative(os.path.abspath(file))
    page = next((p for p in site.pages if p.source == rel), None)
    if page is None:
        print(f"error: {rel} is not a page of the site (pages are content/<lang>/*.md, and a page with errors "
              "is skipped: run `python build.py check`)", file=sys.stderr)
        return False
    source, problem = _source_of(site, page)
    if source is None:
        print(f"error: {rel}: {problem}", file=sys.stderr)
        return False
    value = stamp(source)
    if page.source_hash == value:
        print(f"{rel} is already stamped as up to date with {source.source} ({value})")
        return True
    path = config.path(rel)
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(set_front_matter_value(data, "source_hash", value))
    print(f"stamped {rel}: source_hash: {value} (translated from {source.source})")
    return True


def _source_of(site, page):
    """Return (the page `page` translates, None) or (None, why it cannot be told)."""
    named, _ = parse_stamp(page.source_hash) if page.source_hash else (None, "")
    if named and named != page.lang:
        found = site.page(page.translation_key, named)
        return (found, None) if found else (None, f"its source_hash names {named}, but there is no {named} page "
                                                  f"with translation_key {page.translation_key!r}")
    others = site.alternates(page)
    if len(others) == 1:
        return others[0], None
    if not others:
        return None, (f"there is no page in another language with translation_key {page.translation_key!r} "
                      "to stamp it against")
    return None, (f"it has translations in {', '.join(p.lang for p in others)}: say which one it was translated "
                  f"from by writing `source_hash: <lang>:` in its front matter, then mark it again")


def set_front_matter_value(data: bytes, key: str, value: str) -> bytes:
    """Set `key: value` in a page's front matter, leaving every other byte of the file as it was."""
    bom = b"\xef\xbb\xbf" if data.startswith(b"\xef\xbb\xbf") else b""
    lines = data[len(bom):].split(b"\n")
    newline = b"\r\n" if lines and lines[0].endswith(b"\r") else b"\n"
    line = f"{key}: {value}".encode() + (b"\r" if newline == b"\r\n" else b"")
    closing = next(i for i, text in enumerate(lines[1:], 1) if text.rstrip(b"\r").rstrip() in (b"---", b"..."))
    for number in range(1, closing):
        if lines[number].split(b":", 1)[0].strip() == key.encode() and not lines[number][:1].isspace():
            lines[number] = line
            break
    else:
        lines.insert(closing, line)
    return bom + b"\n".join(lines)


# Output.

def format_table(report: dict) -> str:
    """Format the status as plain-text tables for the terminal."""
    langs = report["languages"]
    rows = [["page", *langs]]
    for entry in report["pages"]:
        rows.append([entry["translation_key"], *(_cell(entry["languages"][lang], f"{report['content']}/{lang}/")
                                                 for lang in langs)])
    out = [f"Translation status of {report['content']}/", "", *_columns(rows)]
    summary = report["summary"]
    out += ["", f"{summary['translation_keys']} pages: {summary[OUTDATED]} outdated, {summary[MISSING]} missing"]
    for entry in report["pages"]:
        for lang, state in entry["languages"].items():
            if state["state"] == OUTDATED:
                out += ["", f"{state['path']} is outdated: {state['source']} changed since it was stamped "
                        f"({state['stamp']}, now {state['current_stamp']}); after updating it, run "
                        f"`python build.py status --mark {state['path']}`", f"  {state['diff_note']}"]
                out += [f"  {line}" for line in (state["diff"] or "").split("\n") if state["diff"]]
    out += ["", "UI strings"]
    catalogs = [["lang", "total", "translated", "fuzzy", "untranslated", "obsolete"]]
    for catalog in report["ui_strings"]:
        if "problem" in catalog:
            catalogs.append([catalog["lang"], catalog["problem"]])
            continue
        catalogs.append([catalog["lang"], str(catalog["total"]),
                         *(f"{catalog[k]['count']} ({catalog[k]['percent']:g}%)"
                           for k in ("translated", "fuzzy", "untranslated", "obsolete"))])
    out += _columns(catalogs)
    stale = report["stale_extraction"]
    if stale["missing"]:
        out += ["", f"The templates use {len(stale['missing'])} strings that are not in {stale['pot']} "
                "(extract them again, see README, 'Translating the interface'):"]
        out += [f"  {m['msgid']!r} ({', '.join(m['locations'])})" for m in stale["missing"]]
    else:
        out += ["", f"{stale['pot']} holds every string the templates use."]
    return "\n".join(out)


def _cell(state: dict, folder: str) -> str:
    if state["state"] == MISSING:
        return "missing"
    name = state["path"][len(folder):] if state["path"].startswith(folder) else state["path"]
    return f"{state['state'].upper() if state['state'] == OUTDATED else state['state']} ({name})"


def _columns(rows) -> list[str]:
    widths = [max(len(row[i]) for row in rows if i < len(row)) for i in range(max(map(len, rows)))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def write_html(config, folder: str) -> str | None:
    """Write the report to FOLDER/index.html with a copy of the site's stylesheet; return a problem or None."""
    import shutil
    target = os.path.abspath(folder)
    protected = [config.root, config.content_dir, *(config.path(name) for name in ("templates", "static", "locales",
                                                                                  "seeds"))]
    if target in protected or any(target.startswith(p + os.sep) for p in protected[1:]):
        return f"refusing to write the report to {folder}: it holds the site's sources; choose another folder"
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "index.html"), "w", encoding="utf-8") as f:
        f.write(render_report_html(config, stylesheet="style.css"))
    stylesheet = config.path("static", "style.css")
    if os.path.isfile(stylesheet):
        shutil.copyfile(stylesheet, os.path.join(target, "style.css"))
    return None


def render_report_html(config, stylesheet: str | None = None) -> str:
    """Return the status report as a complete HTML page (the preview serves it at /_status/).

    The page links the site's stylesheet (by default the fingerprinted one under the base path, as the
    preview serves it) and holds no script or inline style, so the site's Content-Security-Policy holds.
    """
    from .status_html import report_page
    if stylesheet is None:
        from .render import collect_assets
        published = collect_assets(config)[0].published.get("style.css", "style.css")
        stylesheet = config.base_path + published
    return report_page(config, collect_status(config), stylesheet)
