"""The evidence base in seeds/: the source registry and the helplines."""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from types import MappingProxyType

import yaml

from .model import ERROR, Config, Diagnostic, Helpline, Source

SOURCES = "seeds/sources.yaml"
HELPLINES = "seeds/helplines.yaml"
SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9._:-]*$")


@dataclass(frozen=True)
class Seeds:
    """The registry of citable sources and the helplines, as read from seeds/."""

    sources: MappingProxyType
    """id -> Source, in registry order."""
    helplines: tuple[Helpline, ...]

    def emergency_helplines(self) -> tuple[Helpline, ...]:
        return tuple(h for h in self.helplines if h.emergency_box)


def load_seeds(config: Config) -> tuple[Seeds, tuple[Diagnostic, ...]]:
    """Read seeds/sources.yaml and seeds/helplines.yaml (both optional)."""
    diagnostics = []
    sources = _read_list(config, SOURCES, diagnostics)
    helplines = _read_list(config, HELPLINES, diagnostics)
    registry = {}
    for entry, line in sources:
        source = _source(entry, line, diagnostics)
        if source is None:
            continue
        if source.id in registry:
            diagnostics.append(Diagnostic(ERROR, "duplicate-source", f"source id {source.id!r} is already used on "
                                          f"line {registry[source.id].line}", SOURCES, line))
            continue
        registry[source.id] = source
    lines = tuple(h for h in (_helpline(e, line, diagnostics) for e, line in helplines) if h is not None)
    return Seeds(MappingProxyType(registry), lines), tuple(diagnostics)


def _read_list(config: Config, rel: str, diagnostics) -> list:
    """Return [(entry, line)] from a YAML list file; report what makes it unusable."""
    path = config.path(*rel.split("/"))
    if not os.path.isfile(path):
        return []
    with open(path, "rb") as f:
        entries, problems = _parse_list(f.read(), rel)
    diagnostics.extend(problems)
    return list(entries)


@functools.lru_cache(maxsize=8)
def _parse_list(data: bytes, rel: str) -> tuple[tuple, tuple[Diagnostic, ...]]:
    """Parse a seed file once per content: the preview rebuilds on every save, mostly of other files."""
    diagnostics = []
    try:
        node = yaml.compose(data.decode("utf-8-sig"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        data = yaml.SafeLoader("").construct_document(node) if node is not None else []
    except (yaml.YAMLError, ValueError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        if re.search(r"simple key|quoted scalar|flow", getattr(exc, "context", None) or ""):
            mark = exc.context_mark  # where the list or quote was opened, not the end of the file
        diagnostics.append(Diagnostic(ERROR, "seed-syntax", f"invalid YAML: {getattr(exc, 'problem', None) or exc}",
                                      rel, mark.line + 1 if mark else None))
        return (), tuple(diagnostics)
    if not isinstance(data, list):
        diagnostics.append(Diagnostic(ERROR, "seed-syntax", "the file must be a YAML list of entries ('- id: ...')",
                                      rel, 1))
        return (), tuple(diagnostics)
    return tuple((entry, item.start_mark.line + 1) for entry, item in zip(data, node.value)), ()


def _source(entry, line: int, diagnostics) -> Source | None:
    missing = [k for k in ("id", "title", "publisher", "url") if not isinstance(entry, dict) or not entry.get(k)]
    if missing or not (entry.get("year") or entry.get("date")):
        missing += [] if isinstance(entry, dict) and (entry.get("year") or entry.get("date")) else ["year or date"]
        diagnostics.append(Diagnostic(ERROR, "invalid-source", f"a source needs {', '.join(missing)}", SOURCES, line))
        return None
    if not SOURCE_ID.match(str(entry["id"])):
        diagnostics.append(Diagnostic(ERROR, "invalid-source", f"source id {entry['id']!r} may only hold lowercase "
                                      "letters, digits and - . _ :", SOURCES, line))
        return None
    langs = entry.get("lang", ["en"])
    return Source(id=str(entry["id"]), title=str(entry["title"]), publisher=str(entry["publisher"]),
                  url=str(entry["url"]), year=str(entry.get("date") or entry.get("year")),
                  langs=tuple(langs if isinstance(langs, list) else [langs]), line=line)


def _helpline(entry, line: int, diagnostics) -> Helpline | None:
    if not isinstance(entry, dict) or not all(entry.get(k) for k in ("id", "number", "tel", "name")):
        diagnostics.append(Diagnostic(ERROR, "invalid-helpline", "a helpline needs id, number, tel and name",
                                      HELPLINES, line))
        return None
    def text(key):
        value = entry.get(key) or {}
        return MappingProxyType(dict(value) if isinstance(value, dict) else {})
    return Helpline(id=str(entry["id"]), number=str(entry["number"]), tel=str(entry["tel"]),
                    names=text("name"), hours=text("hours"), languages=text("languages"),
                    countries=tuple(entry.get("countries") or ()), emergency_box=bool(entry.get("emergency_box")))
