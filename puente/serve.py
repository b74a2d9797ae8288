"""The live preview, `python build.py serve`: livereload in front of an in-memory build.

Every save rebuilds the site with `pipeline.build(write=False)` and reloads every open tab. The
preview serves the last good build from memory, so it never touches `public/`; while the latest
build has errors, pages show those errors instead, and the next good save brings them back.
"""

from __future__ import annotations

import argparse
import importlib.util
import ipaddress
import mimetypes
import os
import queue
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Callable, Mapping
from urllib.parse import quote, urlsplit

from livereload import Server
from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler
from livereload.server import LiveScriptContainer
from livereload.watcher import Watcher
from tornado import web

from .config import CONFIG_NAME, SOURCE_FOLDERS, ConfigError, find_project_root, load_config
from .model import ERROR, WARNING, Config, Diagnostic

EXIT_OK, EXIT_USAGE = 0, 2
DEFAULT_PORT = 8000
"""Watched besides the content folder and site.toml."""
STEP_MS = 10
"""A save is built once the files have been quiet this long: an editor's writes of one save (truncate
and write, or write a temp file and rename it) come within a millisecond or two of each other."""
LOOPBACK_NAMES = frozenset({"localhost"})
BUILD_META = '<meta name="puente-build" content="{}">'
# livereload's own loader (from Server.application), then a check that closes the gap between a
# reload and the new page's socket: a build finished in that gap would otherwise never reach the tab.
LIVE_SCRIPT = (
    '<script>(function(){var s=document.createElement("script");'
    'var port=(window.location.port||(window.location.protocol=="https:"?443:80));'
    's.src="//"+window.location.hostname+":"+port+"/livereload.js?port="+port;'
    'document.head.appendChild(s);'
    'document.addEventListener("LiveReloadConnect",function(){'
    'var mine=document.querySelector(\'meta[name="puente-build"]\');'
    'fetch("/_preview/build",{cache:"no-store"}).then(function(r){return r.text()})'
    '.then(function(id){if(mine&&id!==mine.content)location.reload()})});'
    '})();</script>'
)


# The command line


def main(argv=None) -> int:
    """Run the preview until Ctrl-C or SIGTERM; return the exit status."""
    try:
        args = parser().parse_args(sys.argv[1:] if argv is None else list(argv))
    except SystemExit as exc:  # argparse has printed the usage and why
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    root = find_project_root(os.getcwd())
    problem = usage_problem(root, args)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        sockets = bind(args.host, args.port)
    except OSError as exc:
        print(f"error: {listen_problem(args.host, args.port, exc)}", file=sys.stderr)
        return EXIT_USAGE
    port = sockets[0].getsockname()[1]
    if not is_loopback(args.host):
        print(f"warning: --host {args.host} is reachable from other computers: anyone who can reach this one "
              f"on port {port} can read the preview, drafts included", file=sys.stderr)
    previous = signal.signal(signal.SIGTERM, interrupt_handler(os.getpid()))
    try:
        with temporary_folder() as scratch:
            preview = Preview(Settings(root, args.content, site_url(args.host, port), scratch))
            serve(preview, sockets, HostPolicy.for_address(args.host, port), args.open)
    except KeyboardInterrupt:  # stopped during the first build, before livereload took over
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        for sock in sockets:
            sock.close()
    print("preview stopped", flush=True)
    return EXIT_OK


def parser() -> argparse.ArgumentParser:
    """Describe `build.py serve`'s options."""
    cli = argparse.ArgumentParser(prog="build.py serve", description="Preview the site in your browser while "
                                  "you edit: every save rebuilds it and reloads the open pages.")
    cli.add_argument("--content", metavar="DIR", help="the content folder (default: content/)")
    cli.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1, "
                     "which only this computer can reach)")
    cli.add_argument("--port", type=port_number, default=DEFAULT_PORT,
                     help=f"the port to listen on (default: {DEFAULT_PORT}; 0 picks a free one)")
    cli.add_argument("--open", action="store_true", help="open the preview in your web browser")
    return cli


def port_number(text: str) -> int:
    """Parse --port: a whole number from 0 to 65535."""
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number: use a number such as 8000")
    return int(text)


def usage_problem(root: str, args) -> str | None:
    """Say what makes the command line unusable, before anything is started."""
    if not os.path.isfile(os.path.join(root, CONFIG_NAME)):
        return f"no {CONFIG_NAME} here or above {os.getcwd()}: run the preview in the project folder"
    if args.content and not os.path.isdir(args.content):
        return f"--content {args.content}: no such folder"
    return None


def bind(host: str, port: int) -> list:
    """Listen on host:port now, so a busy port is reported before the first build."""
    from tornado.netutil import bind_sockets
    return bind_sockets(port, address=host)


def listen_problem(host: str, port: int, exc: OSError) -> str:
    """Say in one line why the preview cannot listen, and what to do."""
    import errno
    import socket
    if isinstance(exc, socket.gaierror):
        return f"--host {host}: no such address or host name"
    if exc.errno == errno.EADDRINUSE:
        return (f"port {port} is already in use (is another preview running?): stop it, or choose another "
                f"port with --port {port + 1 if port < 65535 else 8001}")
    if exc.errno == errno.EACCES:
        return f"not allowed to listen on port {port}: choose a port above 1023, e.g. --port 8000"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host}: this computer has no such address; leave --host out to use 127.0.0.1"
    return f"cannot listen on {host}:{port}: {exc.strerror or exc}"


def is_loopback(host: str) -> bool:
    """Tell whether only this computer can reach `host`."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def site_url(host: str, port: int) -> str:
    """Return the base URL the preview builds with, so every link points back at the preview."""
    return f"http://{_netloc(host.strip('[]'), port)}/"


def browse_host(host: str) -> str:
    """Return the host to open in a browser, ready for a URL: 127.0.0.1 for an unspecified 0.0.0.0 or ::."""
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return host
    if address.is_unspecified:
        return "127.0.0.1"
    return f"[{address}]" if address.version == 6 else str(address)


def browse_url(host: str, port: int) -> str:
    """Return the URL to open in a browser."""
    return f"http://{browse_host(host)}:{port}/"


class temporary_folder:
    """A private folder for the build cache, removed however the preview stops."""

    def __enter__(self) -> str:
        self.path = tempfile.mkdtemp(prefix="puente-preview-")
        return self.path

    def __exit__(self, *exc_info):
        shutil.rmtree(self.path, ignore_errors=True)


# Building


@dataclass(frozen=True)
class Settings:
    """What every rebuild needs: where the project is and the URL the preview serves it at."""

    root: str
    content: str | None
    base_url: str
    cache_dir: str | None = None
    """A private folder for the build cache, when the pipeline keeps one."""
    memory: dict = field(default_factory=dict, compare=False)
    """The last build's cache, kept in memory so a rebuild need not unpickle and pickle it."""

    def load(self) -> Config:
        """Read site.toml again (it may have changed); raise ConfigError."""
        return load_config(self.root, content=self.content, base_url=self.base_url, preview=True)


@dataclass(frozen=True)
class Snapshot:
    """What the preview serves until the next build finishes."""

    root: str
    """The project folder, whose templates/_preview/ holds the preview's own pages."""
    build_id: str
    """Changes with every build; a page whose id is not the current one reloads."""
    outputs: Mapping[str, bytes]
    """The last good site: output path ('/'-separated) -> bytes."""
    rendered: Mapping
    """(translation_key, lang) -> Rendered, from the last good build, for the compare view."""
    config: Config | None = None
    errors: tuple[Diagnostic, ...] = ()
    """The errors of the latest build: while there are any, pages show them instead."""
    warnings: int = 0
    refused: tuple[Diagnostic, ...] = ()
    """Files of static/ the preview will not serve, and why."""

    @property
    def failed(self) -> bool:
        """Tell whether the latest build failed (its site is then the previous one)."""
        return bool(self.errors)


def build_snapshot(settings: Settings, previous: Snapshot, build_id: str, changed=None) -> Snapshot:
    """Build the site in memory; on errors keep the previous site and carry the errors instead.

    `changed` is what the watcher saw change since the last build, or None when unknown.
    """
    try:
        config = settings.load()
    except ConfigError as exc:
        settings.memory.pop("cache", None)  # the next build cannot know what changed since the last one
        return replace(previous, build_id=build_id, errors=exc.diagnostics)
    try:
        result = run_build(config, settings, changed)
    except Exception as exc:  # a bug in the build must show in the browser, not stop the preview
        settings.memory.pop("cache", None)
        traceback.print_exc()
        return replace(previous, build_id=build_id, config=config, errors=(crash_diagnostic(config, exc),))
    errors = tuple(d for d in result.diagnostics if d.level == ERROR)
    warnings = sum(1 for d in result.diagnostics if d.level == WARNING)
    if errors:
        return replace(previous, build_id=build_id, config=config, errors=errors, warnings=warnings)
    refused = outside_links(config)
    outputs = {o.path: o.data for o in result.outputs if o.path not in refused}
    rendered = {(r.page.translation_key, r.page.lang): r for r in result.rendered}
    return Snapshot(settings.root, build_id, MappingProxyType(outputs), MappingProxyType(rendered), config,
                    warnings=warnings, refused=tuple(refused.values()))


def run_build(config: Config, settings: Settings, changed=None):
    """Build in memory, reusing the previous build's cache from memory (or, first, from the cache folder)."""
    from .pipeline import build
    cache = settings.memory.get("cache")
    result = build(config, write=False, cache=cache, cache_dir=settings.cache_dir,
                   changed=frozenset(changed) if cache is not None and changed is not None else None)
    if result.cache is not None:
        settings.memory["cache"] = result.cache.successor()
    return result


def crash_diagnostic(config: Config, exc: Exception) -> Diagnostic:
    """Describe an exception from the build as an error at the line of puente that raised it."""
    frames = traceback.extract_tb(exc.__traceback__)
    frame = frames[-1] if frames else None
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    where = os.path.relpath(frame.filename, package).replace(os.sep, "/") if frame else "puente"
    return Diagnostic(ERROR, "internal-error", f"the build stopped with {type(exc).__name__}: {exc} (a bug in "
                      "puente, not in your files; the terminal shows the details)", where,
                      frame.lineno if frame else None)


def outside_links(config: Config) -> dict[str, Diagnostic]:
    """Map each output copied from a symbolic link that leads out of static/ to a warning: never served."""
    from .render import collect_assets
    folder = os.path.realpath(config.path("static"))
    assets, _ = collect_assets(config)
    return {assets.published[logical]: Diagnostic(
                WARNING, "preview-symlink-outside", "this is a symbolic link to a file outside static/, so the "
                "preview does not serve it (and `build` would publish that file): copy the file in instead",
                config.relative(path))
            for logical, path in assets.files.items()
            if os.path.commonpath([os.path.realpath(path), folder]) != folder}


def changed_files(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> int:
    """Count the output files added, removed or changed."""
    return len(old.keys() ^ new.keys()) + sum(1 for path in old.keys() & new.keys() if old[path] != new[path])


def describe_changes(paths, root: str) -> str:
    """Name what changed, relative to the project: `content/es/naloxona.md and 2 other files`."""
    names = sorted({os.path.relpath(p, root) if _is_inside(p, root) else p for p in paths})
    names = [name.replace(os.sep, "/") for name in names]
    if len(names) == 1:
        return names[0]
    others = len(names) - 1
    return f"{names[0]} and {others} other file{'s' * (others != 1)}"


def _is_inside(path: str, folder: str) -> bool:
    return os.path.commonpath([os.path.abspath(path), folder]) == folder


def rebuild_line(old: Snapshot, new: Snapshot, paths, root: str, seconds: float) -> str:
    """Write the one log line of a build: what changed, how many files it rebuilt and how long it took."""
    after = f" after {describe_changes(paths, root)} changed" if paths else ""
    if new.failed:
        count = len(new.errors)
        return (f"build failed{after} in {seconds:.2f} s: {count} error{'s' * (count != 1)}, shown in the "
                "browser in place of the pages")
    verb = "rebuilt" if paths else "built"
    fixed = "; the errors are fixed" if old.failed else ""
    count = changed_files(old.outputs, new.outputs)
    return f"{verb} {count} file{'s' * (count != 1)}{after} in {seconds:.2f} s{fixed}"


class Preview:
    """The preview's one piece of changing state: the snapshot being served, replaced whole by each build."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.snapshot = Snapshot(settings.root, "", MappingProxyType({}), MappingProxyType({}))
        self._token = f"{os.getpid():x}{int(time.time() * 1000):x}"
        self._builds = 0

    def rebuild(self, paths) -> Snapshot:
        """Build now, swap the new snapshot in, and log one line (and the errors, on failure)."""
        started = time.perf_counter()
        self._builds += 1
        old = self.snapshot
        new = build_snapshot(self.settings, old, f"{self._token}-{self._builds}", paths)
        self.snapshot = new
        print(rebuild_line(old, new, paths, self.settings.root, time.perf_counter() - started), flush=True)
        for shown, before in ((new.errors, old.errors), (new.refused, old.refused)):
            if shown != before:
                for diagnostic in shown:
                    print(diagnostic, file=sys.stderr, flush=True)
        return new


# Watching


class InotifyWatcher(Watcher):
    """A livereload watcher woken by the kernel (watchfiles) instead of livereload's 800 ms polling.

    livereload runs the tasks inside `examine()`, on the server's thread. Here they run on a thread
    of their own, so pages stay served during a long build; `examine()` only hands over the result.
    """

    def __init__(self, step_ms: int = STEP_MS):
        super().__init__()
        self.step_ms = step_ms
        self._incoming = queue.Queue()
        self._finished = queue.Queue()
        self._stop = threading.Event()
        self._restart = threading.Event()
        self._ready = [threading.Event(), threading.Event()]
        self._threads = []
        self._default_filter = None

    def watch(self, path, func=None, delay=None, ignore=None):
        super().watch(os.path.abspath(path), func, delay, ignore)

    def begin(self, timeout: float = 5.0) -> bool:
        """Start watching and wait until the kernel watches are in place, so no save after this is missed."""
        self._spawn(self._watch_folders, self._ready[0])
        self._spawn(self._watch_parents, self._ready[1])
        return all(ready.wait(timeout) for ready in self._ready)

    def start(self, callback) -> bool:
        """Called by livereload once serving: run the tasks for the changes seen since begin()."""
        from tornado.ioloop import IOLoop
        loop = IOLoop.current()
        self._spawn(self._run_tasks, lambda: loop.add_callback(callback))
        # One examine() at once takes livereload's start-up marker, which would otherwise delay the
        # first build's reload by two seconds (its tabs have no socket yet, so nothing is lost).
        loop.add_callback(callback)
        return True  # livereload then never starts its polling timer

    def _spawn(self, target, argument):
        thread = threading.Thread(target=target, args=(argument,), daemon=True, name=f"preview{target.__name__}")
        thread.start()
        self._threads.append(thread)

    def examine(self):
        """Return ('*', None) once per finished build: '*' reloads every page; None means at once."""
        if self._changes:  # livereload's own marker, queued at start to reload tabs of an earlier run
            return self._changes.pop()
        try:
            self._finished.get_nowait()
        except queue.Empty:
            return None, None
        self.filepath = "*"
        return self.filepath, None

    def stop(self, timeout: float = 2.0):
        """Stop watching; a build still running is abandoned when the process exits."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _watch_folders(self, ready: threading.Event):
        restarted = False
        while not self._stop.is_set():
            self._restart.clear()
            folders = [path for path in self._tasks if os.path.isdir(path)]
            if not folders:
                ready.set()
                self._restart.wait(0.5)
                restarted = True
                continue
            try:
                # A save while the watches were being replaced went unseen: the folders themselves, as a
                # change, make the next build look at every file again.
                for paths in self._changes_in(folders, self._keep, ready, _Either(self._stop, self._restart),
                                              announce=restarted):
                    self._incoming.put(paths)
                restarted = True
            except FileNotFoundError:  # a folder went between listing and watching: list them again
                self._restart.wait(0.2)
                restarted = True

    def _watch_parents(self, ready: threading.Event):
        """Watch the folders holding the tasks: site.toml is often replaced, not written, by editors."""
        parents = sorted({os.path.dirname(path) for path in self._tasks if os.path.isdir(os.path.dirname(path))})
        wanted = lambda change, path: path in self._tasks  # noqa: E731
        for paths in self._changes_in(parents, wanted, ready, self._stop, recursive=False):
            if any(not os.path.isfile(path) for path in paths):
                self._restart.set()  # a watched folder came or went: watch the folders anew
            self._incoming.put(paths)

    def _changes_in(self, folders, keep, ready: threading.Event, stop, recursive: bool = True,
                    announce: bool = False):
        """Yield each batch of changed paths; set `ready` once the watches are in place.

        With `announce`, the first batch is the folders themselves, once they are watched.
        """
        import watchfiles
        # watchfiles yields an empty batch after each quiet rust_timeout: the first one means it is watching
        for changes in watchfiles.watch(*folders, watch_filter=keep, step=self.step_ms, stop_event=stop,
                                        rust_timeout=100, yield_on_timeout=True, recursive=recursive):
            ready.set()
            if announce:
                announce = False
                yield set(folders)
            if changes:
                yield {path for _, path in changes}

    def _keep(self, change, path: str) -> bool:
        from watchfiles import DefaultFilter
        if self._default_filter is None:
            self._default_filter = DefaultFilter()
        if os.path.basename(path) == "4913":  # vim writes and deletes this to test the folder
            return False
        task = self._task_for(path)
        return (task is not None and self._default_filter(change, path)
                and not (task["ignore"] and task["ignore"](path)))

    def _task_for(self, path: str):
        for watched, task in self._tasks.items():
            if path == watched or path.startswith(watched.rstrip(os.sep) + os.sep):
                return task
        return None

    def _run_tasks(self, notify: Callable[[], None]):
        """Run the tasks for each batch of changes, one build at a time, and tell livereload."""
        last_build = None
        while not self._stop.is_set():
            try:
                paths = self._incoming.get(timeout=0.2)
            except queue.Empty:
                if last_build is not None and time.monotonic() - last_build > QUIET_BEFORE_COLLECTING:
                    collect_garbage()  # while the communicator reads, not while a save waits
                    last_build = None
                continue
            while not self._incoming.empty():  # saves that came during the last build are built together
                paths |= self._incoming.get_nowait()
            for func, changed in self._grouped(paths).items():
                try:
                    func(sorted(changed))
                except Exception:  # report it and keep watching: the next save may well work
                    traceback.print_exc()
            freeze_heap()
            self._finished.put(sorted(paths))
            notify()
            last_build = time.monotonic()

    def _grouped(self, paths) -> dict:
        grouped = {}
        for path in paths:
            task = self._task_for(path)
            if task and task["func"]:
                grouped.setdefault(task["func"], set()).add(path)
        return grouped


QUIET_BEFORE_COLLECTING = 2.0
"""Seconds without a save before the garbage of the last builds is collected."""


def freeze_heap():
    """Leave the objects alive now out of garbage collections until the preview is next quiet.

    The cache and the last site are millions of long-lived objects. Each of Python's full
    collections walked them all, often in the middle of the next build, adding tens of
    milliseconds to a one-page save. Frozen objects are still freed as soon as nothing refers to
    them; only garbage in reference cycles waits for `collect_garbage()`.
    """
    import gc
    gc.freeze()


def collect_garbage():
    """Free what the frozen heap holds in reference cycles (old template environments, tracebacks)."""
    import gc
    gc.unfreeze()
    gc.collect()
    gc.freeze()


class _Either:
    """A stop event for watchfiles that is set when either of two events is."""

    def __init__(self, first: threading.Event, second: threading.Event):
        self.first, self.second = first, second

    def is_set(self) -> bool:
        return self.first.is_set() or self.second.is_set()


# Serving


@dataclass(frozen=True)
class Response:
    """One HTTP answer, as the WSGI app hands it to livereload."""

    status: str
    """`200 OK`."""
    headers: tuple
    body: bytes


def request_path(path_info: str) -> str | None:
    """Turn WSGI's PATH_INFO (already percent-decoded) into a path below the site, or None if it leaves it."""
    try:
        path = path_info.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return None
    if not path.startswith("/"):
        return None
    segments = path[1:].split("/")
    if any(s in (".", "..") or "\\" in s or "\0" in s for s in segments):
        return None
    if any(s == "" for s in segments[:-1]):  # `//`: no file of the site has an empty folder name
        return None
    return path[1:]


def respond(snapshot: Snapshot, method: str, path_info: str) -> Response:
    """Answer one request from the snapshot alone: a pure function of what is being served."""
    if method not in ("GET", "HEAD"):
        return plain("405 Method Not Allowed", "The preview only serves pages.", ("Allow", "GET, HEAD"))
    path = request_path(path_info)
    if path is None:
        return plain("404 Not Found", "No such page in the preview.")
    if path == "_preview/build":
        return plain("200 OK", snapshot.build_id)
    if path == "_status/" and _has_status_report():
        return _status_page(snapshot)
    if snapshot.failed and not _is_asset(snapshot, path):
        return error_page(snapshot)
    if path == "_compare" or path.startswith("_compare/"):
        return compare_page(snapshot, path[len("_compare/"):].strip("/"))
    return site_file(snapshot, path)


def _is_asset(snapshot: Snapshot, path: str) -> bool:
    return path in snapshot.outputs and not path.endswith(".html")


def site_file(snapshot: Snapshot, path: str) -> Response:
    """Serve an output file, `folder/` as its index.html, and the site's own 404 page for the rest."""
    outputs = snapshot.outputs
    key = path + "index.html" if path == "" or path.endswith("/") else path
    if key in outputs:
        return file_response("200 OK", key, outputs[key], snapshot.build_id)
    if f"{path}/index.html" in outputs:
        return Response("301 Moved Permanently", (("Location", "/" + quote(path) + "/"),) + NO_STORE, b"")
    if "404.html" in outputs:
        return file_response("404 Not Found", "404.html", outputs["404.html"], snapshot.build_id)
    return plain("404 Not Found", "No such page in the preview.")


NO_STORE = (("Cache-Control", "no-store"), ("X-Content-Type-Options", "nosniff"))


def file_response(status: str, path: str, data: bytes, build_id: str) -> Response:
    """Answer with a file's bytes, typed by its name, never cached; HTML pages get their build id."""
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if kind == "text/html":
        data = with_build_id(data, build_id)
    if kind.startswith("text/") or kind in ("application/javascript", "application/json", "image/svg+xml"):
        kind += "; charset=utf-8"
    return Response(status, (("Content-Type", kind),) + NO_STORE, data)


def with_build_id(html: bytes, build_id: str) -> bytes:
    """Mark a page with the build it shows, so a tab that missed a reload notices (see LIVE_SCRIPT)."""
    return html.replace(b"</head>", BUILD_META.format(build_id).encode() + b"</head>", 1)


def plain(status: str, text: str, *headers) -> Response:
    """Answer with plain text."""
    return Response(status, (("Content-Type", "text/plain; charset=utf-8"), *NO_STORE, *headers), text.encode())


def html_page(status: str, html: str, build_id: str) -> Response:
    """Answer with one of the preview's own pages."""
    return file_response(status, "page.html", html.encode(), build_id)


def _has_status_report() -> bool:
    """Tell whether `python build.py status` can render its report as a page yet."""
    if importlib.util.find_spec("puente.status") is None:
        return False
    from . import status
    return hasattr(status, "render_report_html")


def _status_page(snapshot: Snapshot) -> Response:
    from . import status
    if snapshot.config is None:
        return error_page(snapshot)
    return html_page("200 OK", status.render_report_html(snapshot.config), snapshot.build_id)


# The preview's own pages (English only: they are tools for the people editing)


def preview_template(snapshot: Snapshot, name: str, **context) -> str:
    """Render templates/_preview/<name>.html.jinja, autoescaped and strict about undefined variables."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined
    # Not .html: the theme compiles every templates/**.html on each build, and these are not the site's.
    env = Environment(loader=FileSystemLoader(os.path.join(snapshot.root, "templates")), undefined=StrictUndefined,
                      autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return env.get_template(f"_preview/{name}.html.jinja").render(status_report=_has_status_report(), **context)


def error_page(snapshot: Snapshot) -> Response:
    """Show the latest build's errors as `file:line: message`, in place of every page until a good save."""
    lines = [{"where": f"{d.path}:{d.line}" if d.line else d.path, "message": d.message, "code": d.code}
             for d in snapshot.errors]
    try:
        html = preview_template(snapshot, "error", errors=lines, warnings=snapshot.warnings)
    except Exception as exc:  # the error page itself may be what is broken: fall back to plain HTML
        html = fallback_error_page(lines, exc)
    return html_page("500 Internal Server Error", html, snapshot.build_id)


def fallback_error_page(lines, exc: Exception) -> str:
    """List the errors in plain HTML, for when templates/_preview/error.html.jinja cannot be shown."""
    from html import escape
    items = "".join(f"<li><code>{escape(line['where'])}</code>: {escape(line['message'])} "
                    f"[{escape(line['code'])}]</li>" for line in lines)
    return ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Build failed</title></head>'
            f'<body><h1>The site could not be built</h1><ol>{items}</ol><p>(templates/_preview/error.html.jinja '
            f'could not be shown either: {escape(type(exc).__name__)}: {escape(str(exc))})</p></body></html>')


def compare_page(snapshot: Snapshot, key: str) -> Response:
    """Show a page's versions side by side, or list every page when no key is given."""
    config = snapshot.config
    if config is None:
        return error_page(snapshot)
    stylesheets = site_stylesheets(snapshot)
    if not key:
        html = preview_template(snapshot, "compare_index", rows=compare_rows(snapshot), langs=config.langs,
                                stylesheets=stylesheets)
        return html_page("200 OK", html, snapshot.build_id)
    columns = [compare_column(snapshot, key, lang) for lang in config.langs]
    if not any(column["page"] for column in columns):
        html = preview_template(snapshot, "compare_index", rows=compare_rows(snapshot), langs=config.langs,
                                stylesheets=stylesheets, missing=key)
        return html_page("404 Not Found", html, snapshot.build_id)
    html = preview_template(snapshot, "compare", key=key, columns=columns, stylesheets=stylesheets)
    return html_page("200 OK", html, snapshot.build_id)


def site_stylesheets(snapshot: Snapshot):
    """Return the stylesheet links of the site's pages, so the compare view shows text as readers see it."""
    import re
    from markupsafe import Markup
    page = next(iter(snapshot.rendered.values()), None)
    links = re.findall(r'<link rel="stylesheet"[^>]*>', page.html) if page else []
    return Markup("\n".join(links))


def compare_column(snapshot: Snapshot, key: str, lang: str) -> dict:
    """Gather one language's side of the compare view; `page` is None when that translation is missing."""
    from markupsafe import Markup
    rendered = snapshot.rendered.get((key, lang))
    column = {"lang": lang, "language": language_name(lang), "page": None, "content": ""}
    if rendered is not None:
        column.update(page=rendered.page, content=Markup(rendered.content))
    return column


def compare_rows(snapshot: Snapshot) -> list[dict]:
    """List every translation key with its page in each language (None where missing)."""
    keys = sorted({key for key, _ in snapshot.rendered})
    langs = snapshot.config.langs
    return [{"key": key, "pages": [getattr(snapshot.rendered.get((key, lang)), "page", None) for lang in langs]}
            for key in keys]


def language_name(code: str) -> str:
    """Name a language in English, for the preview's English UI: `Spanish`."""
    from babel import Locale
    try:
        return Locale.parse(code).get_display_name("en")
    except (ValueError, LookupError):
        return code


def wsgi_app(preview: Preview):
    """Make the WSGI app livereload serves (`Server(app=...)`): every request reads the current snapshot."""
    def app(environ, start_response):
        response = respond(preview.snapshot, environ["REQUEST_METHOD"], environ.get("PATH_INFO", "/"))
        start_response(response.status, list(response.headers))
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else response.body]
    return app


# The server: livereload, with the Host and Origin checks it lacks


@dataclass(frozen=True)
class HostPolicy:
    """The Host headers the preview answers: its address, localhost and IP addresses, never another name.

    A DNS-rebinding page reaches 127.0.0.1 under its own host name; refusing that name keeps it from
    reading the preview, drafts included.
    """

    address: str
    """The --host the preview listens on."""
    port: int
    names: frozenset

    @classmethod
    def for_address(cls, host: str, port: int) -> "HostPolicy":
        """Make the policy of a preview listening on host:port."""
        return cls(host, port, frozenset({host.lower().strip("[]"), *LOOPBACK_NAMES}))

    def allows(self, host_header: str) -> bool:
        """Tell whether a request with this Host header (`name:port`) may be answered."""
        from tornado.httputil import split_host_and_port
        try:
            name, port = split_host_and_port(host_header.lower())
        except ValueError:
            return False
        if (port or 80) != self.port:
            return False
        name = name.strip("[]")
        return name in self.names or _is_ip_address(name)

    def refusal(self, host_header: str) -> str:
        """Explain a refusal to whoever typed the address."""
        return (f"This preview answers only to its own address ({browse_url(self.address, self.port)}), "
                f"not to {host_header!r}: another name could be a web page trying to read it.\n")


def _is_ip_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


class _HostGuard:
    """Refuse a request whose Host header is not the preview's, before any handler runs."""

    def prepare(self):
        if not self.hosts.allows(self.request.host):
            self.set_status(403)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish(self.hosts.refusal(self.request.host))
            return None
        return super().prepare()


class GuardedLiveReloadHandler(_HostGuard, LiveReloadHandler):
    """livereload's socket, which otherwise accepts any origin: only the preview's own pages may connect."""

    def initialize(self, hosts: HostPolicy):
        self.hosts = hosts

    def check_origin(self, origin: str) -> bool:
        netloc = urlsplit(origin).netloc
        return self.hosts.allows(netloc) and netloc.lower() == self.request.host.lower()


class GuardedScriptHandler(_HostGuard, LiveReloadJSHandler):
    """livereload.js, for the preview's own address only."""

    def initialize(self, hosts: HostPolicy):
        self.hosts = hosts


class GuardedFallbackHandler(_HostGuard, web.FallbackHandler):
    """The WSGI app (through livereload's script-injecting container), for the preview's own address only."""

    def initialize(self, fallback, hosts: HostPolicy):
        super().initialize(fallback)
        self.hosts = hosts


class PreviewServer(Server):
    """livereload's Server on sockets bound in advance, with Host and Origin checks.

    livereload's /forcereload is left out: any web page could GET it to reload the preview's tabs.
    """

    def __init__(self, app, watcher, sockets, hosts: HostPolicy):
        super().__init__(app=app, watcher=watcher)
        self.sockets, self.hosts = sockets, hosts

    def application(self, port, host, liveport=None, debug=None, live_css=True):
        """Route livereload's socket and script and the WSGI app, all guarded; serve them on the sockets."""
        from tornado.httpserver import HTTPServer
        LiveReloadHandler.watcher = self.watcher
        LiveReloadHandler.live_css = live_css
        guard = {"hosts": self.hosts}
        handlers = [(r"/livereload", GuardedLiveReloadHandler, guard),
                    (r"/livereload.js", GuardedScriptHandler, guard),
                    *self.get_web_handlers(LIVE_SCRIPT.encode())]
        HTTPServer(web.Application(handlers=handlers, debug=False)).add_sockets(self.sockets)

    def get_web_handlers(self, script):
        """Serve the WSGI app with livereload's script injected into every HTML page."""
        fallback = LiveScriptContainer(self.app, script)
        return [(r".*", GuardedFallbackHandler, {"fallback": fallback, "hosts": self.hosts})]


def serve(preview: Preview, sockets, hosts: HostPolicy, open_browser: bool):
    """Watch, build once, then serve until Ctrl-C or SIGTERM, rebuilding on every change to the sources."""
    # livereload drops a reload that comes within 3 s of the previous one; our watcher already
    # gathers the writes of one save, so every finished build must reach the browser.
    LiveReloadHandler.DEFAULT_RELOAD_TIME = 0
    watcher = InotifyWatcher()
    server = PreviewServer(wsgi_app(preview), watcher, sockets, hosts)
    settings = preview.settings
    for path in watched_paths(settings.root, settings.content):
        server.watch(path, preview.rebuild)
    quiet_logs()
    try:
        if not watcher.begin():
            print("warning: the file watcher is slow to start: a save in the next seconds may be missed",
                  file=sys.stderr)
        preview.rebuild([])
        collect_garbage()  # the cold build's garbage, before anyone is waiting for a page
        print(f"Preview at {browse_url(hosts.address, hosts.port)} - it rebuilds and reloads on every save; "
              "press Ctrl-C to stop", flush=True)
        # livereload opens http://{host}:{port} itself with --open; the sockets are already bound
        server.serve(port=hosts.port, host=browse_host(hosts.address), debug=False, live_css=False,
                     open_url_delay=0.3 if open_browser else None)
    finally:
        watcher.stop()


def watched_paths(root: str, content: str | None) -> list[str]:
    """List the sources of the site: content, templates, catalogs, static files, seeds and site.toml."""
    content_dir = os.path.abspath(content) if content else os.path.join(root, "content")
    return [content_dir, *(os.path.join(root, name) for name in SOURCE_FOLDERS), os.path.join(root, CONFIG_NAME)]


def interrupt_handler(pid: int):
    """Turn SIGTERM into KeyboardInterrupt, which livereload's serve() stops on, as on Ctrl-C."""
    def handler(signum, frame):
        if os.getpid() != pid:  # a worker the build forked, being stopped by its pool: end quietly
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise KeyboardInterrupt
    return handler


class _WarningsOnly:
    """Keep livereload's errors and warnings but not its chatter: the preview logs one line per build."""

    def filter(self, record) -> bool:
        import logging
        return record.levelno >= logging.WARNING


def quiet_logs():
    """Leave the terminal to the preview's own lines."""
    import logging
    logging.getLogger("livereload").addFilter(_WarningsOnly())
    # an error page is a 500, which tornado would log on every request while the build is broken
    logging.getLogger("tornado.access").setLevel(logging.CRITICAL)
