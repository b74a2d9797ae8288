"""The status report as an HTML page, for communicators who would rather look at a page than a terminal."""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from html import escape

from babel import Locale

from .checks.translation import MISSING, OUTDATED


def report_page(config, report: dict, stylesheet: str) -> str:
    """Return a complete, accessible HTML document for a `collect_status` report."""
    title = "Translation status"
    site = escape(config.language(config.default_lang).title) if config.langs else ""
    body = [
        '<a class="skip-link" href="#main">Skip to the report</a>',
        f'<header class="site-header"><div class="bar"><p class="site-title">{site}</p></div></header>',
        '<main id="main" class="bar" tabindex="-1">',
        f"<h1>{title}</h1>",
        _summary(report),
        *_pages(config, report),
        *_changes(config, report),
        *_ui_strings(report),
        *_stale(report),
        "</main>",
        '<footer class="site-footer"><div class="bar"><p>Made by <code>python build.py status</code>. Stamp a '
        "translation as up to date with <code>python build.py status --mark content/es/page.md</code>.</p></div>"
        "</footer>",
    ]
    return "\n".join([
        "<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title} | {site}</title>", f'<link rel="stylesheet" href="{escape(stylesheet)}">',
        "</head>", "<body>", *body, "</body>", "</html>", ""])


def _name(lang: str) -> str:
    return Locale.parse(lang).get_display_name("en")


def _summary(report: dict) -> str:
    summary = report["summary"]
    return (f"<p>{summary['translation_keys']} pages in {', '.join(_name(l) for l in report['languages'])}: "
            f"<strong>{summary[OUTDATED]} outdated</strong>, <strong>{summary[MISSING]} missing</strong>. "
            f"Content folder: <code>{escape(report['content'])}/</code>.</p>")


def _pages(config, report: dict):
    langs = report["languages"]
    yield '<h2 id="pages">Pages</h2>'
    yield '<table tabindex="0">'
    yield "<caption>Each page in each language: present, missing, or outdated (its source changed).</caption>"
    yield "<thead><tr><th scope=\"col\">Page</th>" + "".join(
        f'<th scope="col">{_name(lang)}</th>' for lang in langs) + "</tr></thead>"
    yield "<tbody>"
    for entry in report["pages"]:
        cells = "".join(_page_cell(lang, entry["languages"][lang]) for lang in langs)
        yield f'<tr><th scope="row"><code>{escape(entry["translation_key"])}</code></th>{cells}</tr>'
    yield "</tbody></table>"


def _page_cell(lang: str, state: dict) -> str:
    if state["state"] == MISSING:
        return "<td><strong>missing</strong></td>"
    label = f'<strong>outdated</strong>' if state["state"] == OUTDATED else "present"
    title = f'<span lang="{escape(lang)}">{escape(state["title"])}</span>'
    extra = f'<br><a href="#changes-{escape(lang)}-{_anchor(state["path"])}">what changed</a>' \
        if state["state"] == OUTDATED else ""
    stamp = f"<br>translated from <code>{escape(state['source'])}</code>" if state.get("source") else ""
    problem = f"<br>{escape(state['problem'])}" if state.get("problem") else ""
    return f"<td>{label}: {title}<br><code>{escape(state['path'])}</code>{stamp}{problem}{extra}</td>"


def _anchor(path: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in path)


def _changes(config, report: dict):
    outdated = [(lang, state) for entry in report["pages"] for lang, state in entry["languages"].items()
                if state["state"] == OUTDATED]
    if not outdated:
        return
    yield '<h2 id="changes">What changed in the sources</h2>'
    for lang, state in outdated:
        source_lang = state["source"].split("/")[1] if state["source"].count("/") >= 2 else "en"
        yield f'<h3 id="changes-{escape(lang)}-{_anchor(state["path"])}"><code>{escape(state["path"])}</code></h3>'
        yield (f"<p><code>{escape(state['source'])}</code> changed after this translation was stamped "
               f"({escape(state['diff_note'])}). Update the translation, then run "
               f"<code>python build.py status --mark {escape(state['path'])}</code>.</p>")
        if state["diff"]:
            yield "<p>Struck-through words were removed, underlined words were added:</p>"
            for before, after in changed_passages(state["diff"]):
                yield f'<p lang="{escape(source_lang)}">{word_diff(before, after)}</p>'
            yield (f'<details><summary>The whole diff</summary><pre lang="{escape(source_lang)}" tabindex="0">'
                   f'{escape(state["diff"])}</pre></details>')


def _ui_strings(report: dict):
    yield '<h2 id="ui-strings">Interface strings</h2>'
    yield '<table tabindex="0">'
    yield "<caption>Translated, fuzzy (to be checked), untranslated and obsolete entries per catalog.</caption>"
    yield ("<thead><tr><th scope=\"col\">Language</th><th scope=\"col\">Strings</th><th scope=\"col\">Translated"
           "</th><th scope=\"col\">Fuzzy</th><th scope=\"col\">Untranslated</th><th scope=\"col\">Obsolete</th>"
           "</tr></thead><tbody>")
    for catalog in report["ui_strings"]:
        name = f'<th scope="row">{_name(catalog["lang"])}<br><code>{escape(catalog["path"])}</code></th>'
        if "problem" in catalog:
            yield f'<tr>{name}<td colspan="5">{escape(catalog["problem"])}</td></tr>'
            continue
        counts = "".join(f"<td>{catalog[k]['count']} ({catalog[k]['percent']:g}%)</td>"
                         for k in ("translated", "fuzzy", "untranslated", "obsolete"))
        yield f"<tr>{name}<td>{catalog['total']}</td>{counts}</tr>"
    yield "</tbody></table>"
    for catalog in report["ui_strings"]:
        for key, what in (("fuzzy_ids", "to be checked"), ("untranslated_ids", "not translated yet")):
            if catalog.get(key):
                yield f"<p>{_name(catalog['lang'])}, {what}:</p>"
                yield "<ul>" + "".join(f"<li>{escape(msgid)}</li>" for msgid in catalog[key]) + "</ul>"


def _stale(report: dict):
    stale = report["stale_extraction"]
    yield '<h2 id="extraction">Strings missing from the template catalog</h2>'
    if not stale["missing"]:
        yield f"<p>None: <code>{escape(stale['pot'])}</code> holds every string the templates use.</p>"
        return
    yield (f"<p>The templates use these strings, but <code>{escape(stale['pot'])}</code> does not have them yet. "
           "Extract them again (README, “Translating the interface”):</p>")
    yield "<ul>" + "".join(f"<li>{escape(m['msgid'])} <code>{escape(', '.join(m['locations']))}</code></li>"
                           for m in stale["missing"]) + "</ul>"


def changed_passages(diff: str):
    """Yield (removed text, added text) for each run of changed lines in a unified diff."""
    removed, added = [], []
    for line in [*diff.split("\n"), " "]:
        if line.startswith(("---", "+++", "@@")):
            continue
        if line.startswith("-"):
            removed.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
        elif removed or added:
            yield " ".join(removed).strip(), " ".join(added).strip()
            removed, added = [], []


def word_diff(before: str, after: str) -> str:
    """Mark the words removed (<del>) and added (<ins>) between two passages, as escaped HTML."""
    old, new = re.split(r"(\s+)", before), re.split(r"(\s+)", after)
    out = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape("".join(old[i1:i2])))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(''.join(old[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(''.join(new[j1:j2]))}</ins>")
    return "".join(out)
