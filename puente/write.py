"""Stage 5: write the outputs atomically, so a failed or killed build never touches the live site."""

from __future__ import annotations

import functools
import os
import shutil
from dataclasses import dataclass

from .model import ERROR, Config, Diagnostic, Stored

MARKER = ".puente-output"
"""Written into every output folder, so a rebuild only ever replaces a folder this tool made."""
TEMP_PREFIX = ".puente-tmp-"
OLD_PREFIX = ".puente-old-"


def output_problems(config: Config) -> list[Diagnostic]:
    """Refuse an output folder that would overwrite the project or its sources."""
    out = os.path.realpath(config.output_dir)
    if os.path.exists(out) and not os.path.isdir(out):
        return [Diagnostic(ERROR, "unsafe-output", f"refusing to write the site to {config.output_dir}: it is a "
                           "file, not a folder; choose a folder such as public/", "--output")]
    guarded = [config.root, config.content_dir, *(config.path(d) for d in ("templates", "locales", "static", "seeds"))]
    for folder in guarded:
        real = os.path.realpath(folder)
        if out == real or _is_inside(real, out) or _is_inside(out, real) and folder != config.root:
            return [Diagnostic(ERROR, "unsafe-output", f"refusing to write the site to {config.output_dir}: it "
                               f"{'is' if out == real else 'overlaps'} {config.relative(folder) or '.'}, which "
                               "holds your sources; choose another folder such as public/", "--output")]
    if os.path.isdir(out) and os.listdir(out) and not os.path.exists(os.path.join(out, MARKER)):
        return [Diagnostic(ERROR, "unsafe-output", f"refusing to replace {config.output_dir}: it is not empty and "
                           "was not made by this tool; choose an empty or new folder", "--output")]
    return []


def _is_inside(path: str, folder: str) -> bool:
    """Tell whether `path` lies strictly inside `folder`."""
    return path != folder and os.path.commonpath([path, folder]) == folder


@dataclass(frozen=True)
class LiveSite:
    """The output folder as the last build with this cache left it, looked at before rendering: a cached
    page whose HTML the live folder already holds is taken from there, not kept in memory or the cache."""

    out: str
    """The real path of the output folder."""
    manifest: dict
    """{path: (digest, size, mtime_ns, inode)} of what the last build wrote there."""
    intact: bool
    """Whether the folder holds exactly those files, none edited since."""

    @functools.cached_property
    def digests(self) -> dict:
        """Path -> digest of each file the folder is known to hold (none when it is not intact)."""
        return {path: entry[0] for path, entry in self.manifest.items()} if self.intact else {}

    def file(self, path: str) -> str:
        return os.path.join(self.out, *path.split("/"))


def look_at_output(config: Config, cache) -> LiveSite:
    out = os.path.realpath(config.output_dir)
    previous = manifest(cache, out)
    return LiveSite(out, previous, bool(previous) and is_intact(out, previous))


def spool_folder(config: Config) -> str:
    """Where this build's pages are written as they are rendered: the temp folder that the write stage
    then swaps in or patches from. A failed build removes it; a killed one's is removed by the next."""
    out = os.path.realpath(config.output_dir)
    return os.path.join(os.path.dirname(out), f"{TEMP_PREFIX}{os.path.basename(out)}-{os.getpid()}")


def write_outputs(config: Config, outputs, cache=None, live: LiveSite | None = None) -> tuple[int, int]:
    """Write the outputs and return (written, unchanged).

    When the folder is exactly as the last build left it and no output changed, nothing is touched;
    when a few changed (an edit), only they are replaced, each atomically; otherwise every output
    goes into the temp folder (where rendering spooled the pages) that is then swapped in.
    """
    live = live or look_at_output(config, cache)
    out, temp = live.out, spool_folder(config)
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    digests = {o.path: o.digest for o in outputs}
    previous = live.manifest
    # Looked at again: the folder may have been touched while the site was rendering.
    intact = live.intact and is_intact(out, previous)
    changed = [o for o in outputs if previous.get(o.path, (None,))[0] != digests[o.path]]
    removed = sorted(set(previous) - set(digests))
    if intact and not changed and not removed:
        shutil.rmtree(temp, ignore_errors=True)  # pages rendering spooled, all as the live folder has them
        return 0, len(digests)
    patching = intact and 4 * (len(changed) + len(removed)) <= len(digests)
    try:
        if patching:
            written, unchanged = _patch(temp, out, outputs, changed, removed), len(digests) - len(changed)
        else:
            written, unchanged = _fill(temp, out, outputs, previous)
            _swap(temp, out, parent)
    except OSError:
        shutil.rmtree(temp, ignore_errors=True)  # never leave half a site beside the live one
        raise
    if cache is not None:
        # A patch leaves the other files as they were, so only the replaced ones need a stat.
        stat_again = {o.path for o in changed} if patching else digests
        _keep_manifest(cache, out, previous, {path: (digests[path], *_identity(os.path.join(out, *path.split("/"))))
                                              if path in stat_again else previous[path] for path in digests})
    return written, unchanged


def _spooled(output, target: str) -> bool:
    """Tell whether rendering already wrote this output where the write stage would put it."""
    return isinstance(output.body, Stored) and output.body.path == target


def manifest(cache, out: str) -> dict:
    """What the last build with `cache` left in the folder `out`: {path: (digest, size, mtime_ns, inode)}.

    It is kept one entry a file, with the list of paths beside them, so that a build which changed one
    file adds one entry to the cache's journal, not all of them."""
    paths = cache.get("manifests", out) if cache is not None else None
    found = {path: cache.get("manifests", (out, path)) for path in paths or ()}
    return {} if None in found.values() else found


def _keep_manifest(cache, out: str, previous: dict, current: dict):
    if list(current) != list(previous):
        cache.put("manifests", out, tuple(current))
    for path, entry in current.items():
        if previous.get(path) != entry:
            cache.put("manifests", (out, path), entry)


PLAN = ".puente-plan"
"""In a patch's temp folder: the files to remove, written last; once it exists the patch is rolled forward."""


def _patch(temp: str, out: str, outputs, changed, removed) -> int:
    """Replace just the changed files of an intact live folder, and remove the ones no longer built.

    The new files are written into the temp folder first; the plan file commits them. A build killed
    before the plan leaves the live folder untouched; one killed after it is finished by the next.
    """
    changed_paths = {o.path for o in changed}
    for output in outputs:  # pages rendered again to the same bytes stay as the live folder has them
        target = os.path.join(temp, *output.path.split("/"))
        if output.path not in changed_paths and _spooled(output, target):
            os.remove(target)
    for output in changed:
        target = os.path.join(temp, *output.path.split("/"))
        if not _spooled(output, target):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as f:
                f.write(output.data)
    with open(os.path.join(temp, PLAN + ".new"), "w", encoding="utf-8") as f:
        f.write("".join(f"{path}\n" for path in removed))
    os.rename(os.path.join(temp, PLAN + ".new"), os.path.join(temp, PLAN))
    _roll_forward(temp, out)
    return len(changed)


def _roll_forward(temp: str, out: str):
    """Move a committed patch's files into the live folder, remove what it names, and drop the temp folder."""
    with open(os.path.join(temp, PLAN), encoding="utf-8") as f:
        removed = f.read().splitlines()
    for here, _, names in os.walk(temp):
        folder = os.path.join(out, os.path.relpath(here, temp))
        for name in names:
            if name != PLAN:
                os.makedirs(folder, exist_ok=True)
                os.replace(os.path.join(here, name), os.path.join(folder, name))
    for path in removed:
        target = os.path.join(out, *path.split("/"))
        if os.path.exists(target):
            os.remove(target)
        _remove_empty_folders(os.path.dirname(target), out)
    shutil.rmtree(temp)


def _remove_empty_folders(folder: str, out: str):
    """Remove the folders a removed page leaves empty, as a full build would not make them."""
    while folder != out and folder.startswith(out + os.sep):
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = os.path.dirname(folder)


def _fill(temp: str, out: str, outputs, previous: dict) -> tuple[int, int]:
    """Put every output into the temp folder, hard-linking those the live folder already has."""
    written = unchanged = 0
    for output in outputs:
        target = os.path.join(temp, *output.path.split("/"))
        old = os.path.join(out, *output.path.split("/"))
        spooled = _spooled(output, target)
        if not spooled:
            os.makedirs(os.path.dirname(target), exist_ok=True)
        if _same_as_live(old, output, previous.get(output.path)) and _link(old, target, spooled):
            unchanged += 1
            continue
        if not spooled:
            with open(target, "wb") as f:
                f.write(output.data)
        written += 1
    with open(os.path.join(temp, MARKER), "w") as f:
        f.write("This folder is written by `python build.py`; it is replaced on every build.\n")
    return written, unchanged


def _identity(path: str) -> tuple:
    """What tells a file apart from a replaced or edited one without reading it."""
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns, stat.st_ino


def is_intact(out: str, manifest: dict) -> bool:
    """Tell whether the folder holds exactly the files of the manifest, none edited since."""
    count = 0
    try:
        for path, status in _files_and_stats(out):
            if path == MARKER:
                continue
            entry = manifest.get(path)
            if entry is None or (status.st_size, status.st_mtime_ns, status.st_ino) != tuple(entry[1:]):
                return False
            count += 1
    except OSError:
        return False
    return count == len(manifest)


def _files_and_stats(folder: str, prefix: str = ""):
    """('/'-separated path, os.stat) of every file below `folder`, in one pass (a site has a folder a page)."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from _files_and_stats(entry.path, f"{prefix}{entry.name}/")
            else:  # on Windows a directory entry's stat has no inode number
                yield prefix + entry.name, os.stat(entry.path) if os.name == "nt" else entry.stat()


def _same_as_live(old: str, output, entry) -> bool:
    """Tell whether the live file already holds the output's bytes, so it is kept rather than rewritten.

    The manifest of the last build answers without reading the file; without one, compare the bytes."""
    try:
        if entry is not None and entry[0] == output.digest and _identity(old) == tuple(entry[1:]):
            return True
        size = os.path.getsize(old)
    except OSError:
        return False
    data = output.data  # a Stored one that changed under the build raises here, on purpose
    if size != len(data):
        return False
    try:
        with open(old, "rb") as f:
            return f.read() == data
    except OSError:
        return False


def _link(old: str, target: str, replace: bool) -> bool:
    """Hard-link the live file into the temp folder (in place of the spooled copy); False where links fail."""
    try:
        if replace:
            os.link(old, target + ".link")
            os.replace(target + ".link", target)
        else:
            os.link(old, target)
        return True
    except OSError:
        return False


def _swap(temp: str, out: str, parent: str):
    old = os.path.join(parent, f"{OLD_PREFIX}{os.path.basename(out)}-{os.getpid()}")
    if os.path.exists(out):
        os.rename(out, old)
    os.rename(temp, out)
    shutil.rmtree(old, ignore_errors=True)


def clean_leftovers(parent: str, name: str):
    """Remove temp folders that a killed build left behind, first finishing a committed patch or restoring the
    live folder if the swap was cut short.

    A folder whose build is still running (a preview and a build at once) is left alone.
    """
    if not os.path.isdir(parent):
        return
    entries = [e for e in sorted(os.listdir(parent))
               if e.startswith((f"{TEMP_PREFIX}{name}-", f"{OLD_PREFIX}{name}-")) and not _is_running(e)]
    live = os.path.join(parent, name)
    for entry in [e for e in entries if os.path.exists(os.path.join(parent, e, PLAN))]:
        if os.path.exists(os.path.join(live, MARKER)):  # a committed patch is finished, unless its site is gone
            _roll_forward(os.path.join(parent, entry), live)
            entries.remove(entry)
    olds = [e for e in entries if e.startswith(f"{OLD_PREFIX}{name}-")]
    if olds and not os.path.exists(os.path.join(parent, name)):
        os.rename(os.path.join(parent, olds[0]), os.path.join(parent, name))
        entries.remove(olds[0])
    for entry in entries:
        shutil.rmtree(os.path.join(parent, entry), ignore_errors=True)


def _is_running(entry: str) -> bool:
    """Tell whether the process that named this temp folder (its '-<pid>' suffix) is another live one."""
    pid = entry.rsplit("-", 1)[-1]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def recover(config: Config):
    """Undo what a killed build left beside the output folder, before anything else reads it."""
    out = os.path.realpath(config.output_dir)
    clean_leftovers(os.path.dirname(out), os.path.basename(out))
