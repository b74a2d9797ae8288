"""The live preview, `python build.py serve`: a real server in a subprocess, and its pure parts in-process."""

from __future__ import annotations

import http.client
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from types import MappingProxyType

import pytest

from conftest import BILINGUAL, PROJECT, page
from puente import serve
from puente.model import ERROR, Diagnostic

SECRET = "never-serve-this-3f9c"
BROKEN_LINK_ES = "---\ntitle: Naloxona\ntranslation_key: naloxone\n---\n\nVea [esto](nada.md).\n"
"""A Spanish page whose only error is a link, on line 6, to a page that does not exist."""


class RunningPreview:
    """`python build.py serve --port 0` in a scratch site, read line by line, stopped with SIGTERM."""

    def __init__(self, site, *args: str, tmp=None):
        env = {**os.environ, "PYTHONPATH": str(PROJECT), "PYTHONUNBUFFERED": "1"}
        if tmp:
            env["TMPDIR"] = str(tmp)
        self.site = site
        self.process = subprocess.Popen([sys.executable, str(PROJECT / "build.py"), "serve", "--port", "0", *args],
                                        cwd=site.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, start_new_session=True)
        self.lines, self.errors = queue.Queue(), []
        threading.Thread(target=self._read, args=(self.process.stdout, self.lines.put), daemon=True).start()
        threading.Thread(target=self._read, args=(self.process.stderr, self.errors.append), daemon=True).start()
        started = self.wait_for_line(r"^Preview at (http://\S+/) ", timeout=30)
        self.url = started.group(1)
        self.port = int(self.url.rsplit(":", 1)[1].rstrip("/"))

    @staticmethod
    def _read(stream, put):
        for line in stream:
            put(line.rstrip("\n"))

    def wait_for_line(self, pattern: str, timeout: float = 10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"no line matching {pattern!r}; stderr: {self.errors}")

    def request(self, path: str, host: str | None = None, headers: dict | None = None):
        """Send `path` exactly as written (no normalisation); return (status, headers, body)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
            connection.putheader("Host", host or f"127.0.0.1:{self.port}")
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def wait_until(self, path: str, predicate, timeout: float = 10):
        deadline = time.monotonic() + timeout
        while True:
            status, _, body = self.request(path)
            if predicate(status, body):
                return status, body
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} never matched; last status {status}; stderr: {self.errors}")
            time.sleep(0.02)

    def stop(self, signum=signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


@contextmanager
def running_preview(site, *args: str, tmp=None):
    """Start the preview, and stop it whatever happens."""
    preview = None
    try:
        preview = RunningPreview(site, *args, tmp=tmp)
        yield preview
    finally:
        if preview is not None:
            preview.stop()


# End to end, over HTTP


def test_serves_an_edit_and_logs_one_line_per_rebuild(scratch, tmp_path):
    site = scratch(BILINGUAL)
    temp = tmp_path / "temp"
    temp.mkdir()
    with running_preview(site, tmp=temp) as preview:
        status, body = preview.wait_until("/en/naloxone/", lambda s, b: s == 200)
        assert "Spray it." in body and 'href="/_compare/naloxone/"' in body
        assert os.listdir(temp), "the build cache lives in a private temporary folder"
        site.write({"content/en/naloxone.md": page("Naloxone", "Carry it with you.", order=2)})
        preview.wait_until("/en/naloxone/", lambda s, b: "Carry it with you." in b)
        preview.wait_for_line(r"^rebuilt \d+ files? after content/en/naloxone\.md changed in \d+\.\d\d s$")
        template = (site.root / "templates" / "page.html").read_text(encoding="utf-8")
        site.write({"templates/page.html": template.replace("</article>", "<p>From the template.</p></article>")})
        preview.wait_until("/es/naloxona/", lambda s, b: "From the template." in b)
        assert preview.stop() == 0
    assert not (site.root / "public").exists()
    assert os.listdir(temp) == [], "the temporary folder is removed on SIGTERM"
    assert not any("Traceback" in line for line in preview.errors)


def test_two_saves_a_second_apart_are_both_served(scratch):
    site = scratch(BILINGUAL)
    with running_preview(site) as preview:
        for text in ("First save.", "Second save."):
            started = time.monotonic()
            site.write({"content/es/naloxona.md": page("Naloxona", text, translation_key="naloxone")})
            preview.wait_until("/es/naloxona/", lambda s, b: text in b)
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


def test_error_page_lists_problems_then_recovers_by_itself(scratch):
    site = scratch(BILINGUAL)
    with running_preview(site) as preview:
        site.write({"content/en/naloxone.md": "---\ntitle: [Naloxone\n---\n\nBroken.\n"})
        status, body = preview.wait_until("/en/naloxone/", lambda s, b: s == 500)
        assert "The site could not be built" in body
        assert re.search(r"<code>content/en/naloxone\.md:\d+</code>: invalid front matter", body)
        assert "/livereload.js" in body, "the error page reloads by itself too"
        preview.wait_for_line(r"^build failed after content/en/naloxone\.md changed in .* \d+ errors?, shown in the")
        assert preview.request("/en/")[0] == 500, "every page shows the errors, not a stale version"
        site.write({"content/en/naloxone.md": page("Naloxone", "Fixed now.", order=2)})
        status, body = preview.wait_until("/en/naloxone/", lambda s, b: s == 200)
        assert "Fixed now." in body
        preview.wait_for_line(r"^rebuilt \d+ files? after .* the errors are fixed$")


def test_a_broken_config_shows_in_the_browser_and_recovers(scratch):
    site = scratch(BILINGUAL)
    with running_preview(site) as preview:
        good = (site.root / "site.toml").read_text(encoding="utf-8")
        # editors often save by writing a new file and renaming it over the old one
        (site.root / "site.toml.new").write_text("base_ur = 'x'\n" + good, encoding="utf-8")
        os.replace(site.root / "site.toml.new", site.root / "site.toml")
        status, body = preview.wait_until("/en/", lambda s, b: s == 500)
        assert "<code>site.toml</code>: unknown setting &#39;base_ur&#39;" in body
        site.write({"site.toml": good})
        preview.wait_until("/en/", lambda s, b: s == 200)


@pytest.mark.parametrize("path", [
    "/../site.toml", "/%2e%2e/site.toml", "/..%2fsite.toml", "/%2e%2e%2fsite.toml", "/en/..%2f..%2fsite.toml",
    "/en/%2e%2e/%2e%2e/site.toml", "/..%5csite.toml", "/%252e%252e/site.toml", "//etc/passwd", "/secret.txt",
])
def test_no_path_outside_the_output_is_served(preview_with_secrets, path):
    status, _, body = preview_with_secrets.request(path)
    assert status in (400, 403, 404)
    assert SECRET not in body and "base_url" not in body


def test_symlink_out_of_static_is_not_served(preview_with_secrets):
    status, _, body = preview_with_secrets.request("/secret.txt")
    assert status == 404 and SECRET not in body
    assert preview_with_secrets.request("/kept.txt")[2] == "a file really in static/\n"
    assert any("static/secret.txt: warning: this is a symbolic link to a file outside static/" in line
               for line in preview_with_secrets.errors)


def test_foreign_host_header_is_refused(preview_with_secrets):
    port = preview_with_secrets.port
    for host in (f"evil.example:{port}", f"127.0.0.1.evil.example:{port}", f"localhost:{port + 1}"):
        status, _, body = preview_with_secrets.request("/en/", host=host)
        assert status == 403 and "answers only to its own address" in body
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        assert preview_with_secrets.request("/en/", host=host)[0] == 200


def test_livereload_socket_only_accepts_the_preview_own_pages(preview_with_secrets):
    port = preview_with_secrets.port
    upgrade = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    own = preview_with_secrets.request("/livereload", headers={**upgrade, "Origin": f"http://127.0.0.1:{port}"})
    assert own[0] == 101
    other_site = preview_with_secrets.request("/livereload", headers={**upgrade, "Origin": "https://evil.example"})
    assert other_site[0] == 403
    rebound = preview_with_secrets.request("/livereload", host=f"evil.example:{port}",
                                           headers={**upgrade, "Origin": f"http://evil.example:{port}"})
    assert rebound[0] == 403
    # livereload's /forcereload would let any page reload every tab: it is not served
    assert preview_with_secrets.request("/forcereload?path=x")[0] == 404


@pytest.fixture(scope="module")
def preview_with_secrets(tmp_path_factory):
    """One preview for the read-only tests, with a secret next to the site and a symlink to it in static/."""
    from conftest import Scratch
    base = tmp_path_factory.mktemp("secrets")
    (base / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    site = Scratch(base / "site", {**BILINGUAL, "static/kept.txt": "a file really in static/\n"})
    (site.root / "static" / "secret.txt").symlink_to(base / "secret.txt")
    with running_preview(site) as preview:
        yield preview


def test_busy_port_is_one_clear_line(scratch):
    site = scratch(BILINGUAL)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = site.run("serve", "--port", str(port))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: port {port} is already in use (is another preview running?): stop it, or choose another port "
        f"with --port {port + 1}"]


def test_non_loopback_host_warns_and_still_serves(scratch):
    site = scratch(BILINGUAL)
    with running_preview(site, "--host", "0.0.0.0") as preview:
        assert preview.url.startswith("http://127.0.0.1:")
        assert preview.request("/en/")[0] == 200
        assert preview.stop(signal.SIGINT) == 0, "Ctrl-C stops it cleanly too"
    assert any(line.startswith("warning: --host 0.0.0.0 is reachable from other computers") for line in preview.errors)


@pytest.mark.parametrize("args, message", [
    (["--port", "eighty"], "argument --port: 'eighty' is not a port number"),
    (["--content", "nowhere"], "error: --content nowhere: no such folder"),
    (["--colour"], "unrecognized arguments: --colour"),
])
def test_usage_mistakes_exit_2_without_a_traceback(scratch, monkeypatch, capsys, args, message):
    site = scratch(BILINGUAL)
    monkeypatch.chdir(site.root)
    assert serve.main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


# In-process: the snapshot, the routes and the pages, without a server


def snapshot_of(site) -> serve.Snapshot:
    settings = serve.Settings(str(site.root), None, "http://127.0.0.1:8000/")
    empty = serve.Snapshot(str(site.root), "", MappingProxyType({}), MappingProxyType({}))
    return serve.build_snapshot(settings, empty, "test-1")


def get(snapshot, path: str):
    response = serve.respond(snapshot, "GET", path)
    return int(response.status.split()[0]), response.body.decode("utf-8", "replace")


def test_drafts_are_shown_with_a_marker(scratch):
    site = scratch({**BILINGUAL, "content/en/plans.md": page("Plans", "Not yet.", draft="true")})
    status, body = get(snapshot_of(site), "/en/plans/")
    assert status == 200 and 'class="draft-banner"' in body
    assert re.search(r'<td lang="en">Plans <span class="preview-tag" lang="en">Draft</span>',
                     get(snapshot_of(site), "/_compare/")[1])


def test_compare_view_shows_both_languages_side_by_side(scratch):
    site = scratch(BILINGUAL)
    status, body = get(snapshot_of(site), "/_compare/naloxone/")
    assert status == 200 and '<html lang="en">' in body
    english, spanish = re.findall(r'<section class="compare-column" lang="(\w+)".*?</section>', body, re.S)
    assert (english, spanish) == ("en", "es")
    assert re.search(r'lang="en".*<h2 class="compare-title">Naloxone</h2>.*Spray it\.'
                     r'.*lang="es".*<h2 class="compare-title">Naloxona</h2>.*Rocíela\.', body, re.S)
    assert '<meta name="puente-build" content="test-1">' in body, "it reloads like any page"


def test_preview_pages_escape_what_they_show(scratch):
    site = scratch({**BILINGUAL, "content/en/naloxone.md": page("Naloxone <img src=x onerror=alert(1)>", order=2)})
    body = get(snapshot_of(site), "/_compare/naloxone/")[1]
    assert "Naloxone &lt;img src=x onerror=alert(1)&gt;" in body and "<img src=x" not in body


def test_compare_view_says_which_translation_is_missing(scratch):
    site = scratch({**BILINGUAL, "content/en/only.md": page("Only English")})
    snapshot = snapshot_of(site)
    status, body = get(snapshot, "/_compare/only/")
    assert status == 200 and "There is no Spanish version of this page yet" in body
    status, body = get(snapshot, "/_compare/no-such-key/")
    assert status == 404 and "No page has the translation key <code>no-such-key</code>" in body


def test_failed_build_keeps_the_last_good_site_for_assets(scratch):
    site = scratch(BILINGUAL)
    good = snapshot_of(site)
    site.write({"content/es/naloxona.md": BROKEN_LINK_ES})
    settings = serve.Settings(str(site.root), None, "http://127.0.0.1:8000/")
    failed = serve.build_snapshot(settings, good, "test-2")
    assert [f"{d.path}:{d.line}: {d.code}" for d in failed.errors] == ["content/es/naloxona.md:6: broken-link"]
    assert failed.outputs is good.outputs
    assert get(failed, "/es/naloxona/")[0] == 500
    stylesheet = next(path for path in good.outputs if path.endswith(".css"))
    assert get(failed, "/" + stylesheet)[0] == 200


@pytest.mark.parametrize("path_info", ["/../site.toml", "/en/../../x", "/./en/", "/en\\..\\x", "/a\0b", "//x"])
def test_request_path_refuses_anything_that_leaves_the_site(path_info):
    assert serve.request_path(path_info) is None


def test_routes_folders_redirects_and_404s():
    outputs = {"index.html": b"<html><head></head>home</html>", "en/index.html": b"<head></head>en",
               "404.html": b"<head></head>missing", "style.css": b"body{}"}
    snapshot = serve.Snapshot("/x", "b-1", MappingProxyType(outputs), MappingProxyType({}))
    assert get(snapshot, "/") == (200, '<html><head><meta name="puente-build" content="b-1"></head>home</html>')
    response = serve.respond(snapshot, "GET", "/en")
    assert response.status.startswith("301") and ("Location", "/en/") in response.headers
    assert get(snapshot, "/nope/") == (404, '<head><meta name="puente-build" content="b-1"></head>missing')
    assert get(snapshot, "/_preview/build") == (200, "b-1")
    assert serve.respond(snapshot, "POST", "/").status.startswith("405")
    css = serve.respond(snapshot, "GET", "/style.css")
    assert ("Content-Type", "text/css; charset=utf-8") in css.headers and ("Cache-Control", "no-store") in css.headers


def test_error_page_shows_file_line_message_without_a_config():
    errors = (Diagnostic(ERROR, "config-syntax", "invalid TOML: Expected '=' (at line 3)", "site.toml", 3),)
    snapshot = serve.Snapshot(str(PROJECT), "b-2", MappingProxyType({}), MappingProxyType({}), errors=errors)
    status, body = get(snapshot, "/en/")
    assert status == 500
    assert "<code>site.toml:3</code>: invalid TOML: Expected &#39;=&#39; (at line 3)" in body


@pytest.mark.parametrize("host, allowed", [
    ("127.0.0.1:8000", True), ("localhost:8000", True), ("[::1]:8000", True), ("192.168.1.5:8000", True),
    ("evil.example:8000", False), ("localhost.evil.example:8000", False), ("127.0.0.1:8001", False),
    ("localhost", False), ("", False), ("localhost:", False),
])
def test_host_policy_accepts_only_addresses_and_its_own_names(host, allowed):
    assert serve.HostPolicy.for_address("127.0.0.1", 8000).allows(host) is allowed


def test_rebuild_line_says_what_changed_how_much_and_how_long():
    def snapshot(outputs, errors=()):
        return serve.Snapshot("/p", "", MappingProxyType(outputs), MappingProxyType({}), errors=errors)
    old, new = snapshot({"a": b"1", "b": b"2", "c": b"3"}), snapshot({"a": b"1", "b": b"two", "d": b"4"})
    assert (serve.rebuild_line(old, new, ["/p/content/es/naloxona.md"], "/p", 0.123)
            == "rebuilt 3 files after content/es/naloxona.md changed in 0.12 s")
    broken = snapshot({}, errors=(Diagnostic(ERROR, "x", "y", "z"),))
    assert (serve.rebuild_line(new, broken, ["/p/templates/base.html", "/p/site.toml"], "/p", 0.5)
            == "build failed after site.toml and 1 other file changed in 0.50 s: 1 error, shown in the browser "
               "in place of the pages")
    assert serve.rebuild_line(broken, new, ["/p/site.toml"], "/p", 0.1).endswith("; the errors are fixed")


def test_status_report_is_served_once_the_status_command_can_render_it(scratch):
    status, body = get(snapshot_of(scratch(BILINGUAL)), "/_status/")
    if serve._has_status_report():
        assert status == 200 and "</html>" in body and '<meta name="puente-build"' in body
    else:
        assert status == 404, "no stub: the route appears when puente.status.render_report_html exists"


def test_sigterm_stops_the_preview_but_lets_forked_build_workers_end_quietly():
    import multiprocessing
    previous = signal.signal(signal.SIGTERM, serve.interrupt_handler(os.getpid()))
    try:
        context = multiprocessing.get_context("fork")
        running = context.Event()
        worker = context.Process(target=_set_then_sleep, args=(running,))
        worker.start()
        assert running.wait(10)
        worker.terminate()  # what a multiprocessing pool does to its workers when it closes
        worker.join(10)
        assert worker.exitcode == -signal.SIGTERM, "a worker that raised KeyboardInterrupt would exit with 1"
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _set_then_sleep(event):
    event.set()
    time.sleep(30)


def test_a_crash_in_the_build_is_an_error_page_naming_where_puente_failed(scratch, monkeypatch):
    import puente.pipeline
    site = scratch(BILINGUAL)

    def broken_build(config, **options):
        raise FileNotFoundError(2, "No such file or directory", "static/dangling.png")
    monkeypatch.setattr(puente.pipeline, "build", broken_build)
    snapshot = snapshot_of(site)
    assert [(d.path, d.code) for d in snapshot.errors] == [("tests/test_serve.py", "internal-error")]
    assert "the build stopped with FileNotFoundError" in get(snapshot, "/en/")[1]
