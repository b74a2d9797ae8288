"""The last build's answer, for a rebuild in which no source changed.

Without it a no-change rebuild still opens the whole cache (tens of megabytes for a big site), reads
and hashes every page and looks up every render, only to find that nothing changed. The memo is
keyed the way git's index trusts a work tree: by each source file's size, modification time and
inode, plus the generator's code, the settings, the cache file and today's date (review dates
depend on it). It is used only when, in addition, no source was modified shortly before the memo
was made (a later edit within the clock's granularity could keep the same time) and the output
folder holds exactly the files the last build wrote.
"""

from __future__ import annotations

import os
import pickle
import time
from dataclasses import dataclass

from .cache import digest, today
from .config import SOURCE_FOLDERS
from .model import Config, Diagnostic
from .write import is_intact

FILE_NAME = "last-build.pickle"
RACY_NS = 2_000_000_000
"""Sources modified this shortly before the memo was made are not trusted to be unchanged: two
seconds covers the coarsest clocks in use (FAT); ext4, APFS and NTFS need far less."""


@dataclass(frozen=True)
class Sources:
    """What a build's sources looked like when it started."""

    key: str
    newest_ns: int
    """The latest modification time among the sources."""
    seen_ns: int
    """When they were looked at."""


@dataclass(frozen=True)
class Memo:
    key: str
    seen_ns: int
    diagnostic_fields: tuple[tuple, ...]
    """The diagnostics' fields as plain tuples: pickling thousands of dataclasses cost ~25 ms a build."""
    counts: tuple[tuple[str, int], ...]
    manifest: dict
    """The output folder's manifest as the build left it: {path: (digest, size, mtime_ns, inode)}."""

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return tuple(Diagnostic(*fields) for fields in self.diagnostic_fields)


def look_at_sources(config: Config, version: str) -> Sources | None:
    """Stat every source file; None when a linked folder makes the set of sources uncertain."""
    seen_ns = time.time_ns()
    stats, newest = [], 0
    try:
        for top in (config.content_dir, *(config.path(name) for name in SOURCE_FOLDERS), config.config_path):
            for path in _files(top):
                status = os.stat(path)
                stats.append((path, status.st_size, status.st_mtime_ns, status.st_ino))
                newest = max(newest, status.st_mtime_ns)
    except (OSError, _LinkedFolder):
        return None
    return Sources(digest(version, repr(config), today(), stats), newest, seen_ns)


def recall(config: Config, folder: str, sources: Sources) -> Memo | None:
    """The last build's memo, if it answers for exactly these sources and the output is as it left it."""
    try:
        with open(os.path.join(folder, FILE_NAME), "rb") as f:
            memo = pickle.load(f)
    except Exception:  # missing, truncated or from another version: the full build decides
        return None
    if not isinstance(memo, Memo) or memo.key != _with_cache(sources.key, folder):
        return None
    if sources.newest_ns >= memo.seen_ns - RACY_NS:
        return None
    if not is_intact(os.path.realpath(config.output_dir), memo.manifest):
        return None
    return memo


def remember(config: Config, folder: str, sources: Sources, diagnostics, counts, manifest: dict):
    """Save the memo of a build that wrote the site; a failure to save only costs speed next time."""
    try:
        kept = tuple((d.level, d.code, d.message, d.path, d.line) for d in diagnostics
                     if d.code != "cache-discarded")  # about that build's cache, not the site
        memo = Memo(_with_cache(sources.key, folder), sources.seen_ns, kept, tuple(counts), manifest)
        temp = os.path.join(folder, f"{FILE_NAME}.{os.getpid()}.tmp")
        with open(temp, "wb") as f:
            pickle.dump(memo, f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, os.path.join(folder, FILE_NAME))
    except OSError:
        forget(folder)


def forget(folder: str):
    try:
        os.remove(os.path.join(folder, FILE_NAME))
    except OSError:
        pass


def _with_cache(key: str, folder: str) -> str:
    """The key, tied to the cache file as it is now: a damaged or replaced cache is not vouched for."""
    from .cache import FILE_NAME as CACHE, JOURNAL
    return digest(key, [_stat_or_empty(os.path.join(folder, name)) for name in (CACHE, CACHE + JOURNAL)])


class _LinkedFolder(Exception):
    """A folder that is a link: what lies behind it may change without any file here changing."""


def _files(top: str):
    if os.path.isfile(top):
        yield top
        return
    for here, dirs, names in os.walk(top):
        if any(os.path.islink(os.path.join(here, d)) for d in dirs):
            raise _LinkedFolder(here)
        dirs.sort()
        for name in sorted(names):
            yield os.path.join(here, name)


def _stat_or_empty(path: str) -> tuple:
    try:
        status = os.stat(path)
    except OSError:
        return ()
    return status.st_size, status.st_mtime_ns, status.st_ino

