"""Import and export jobs stay inside their folders, and http imports go through the outbound guard.

Driven through the HTTP API like tests/api/catalog/test_jobs.py: a URL a job may never use is refused with 400
when the job is created (nothing is read, written or connected to); what is only found out when the
job runs fails the job with an errorLog that shows no file content and no outside path.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import assert_error
from tests.support.jobs import SAMPLE, finish, start, write
from tests.support.ordering import CATALOG
from tmfstack.apis.catalog import jobs
from tmfstack.errors import BadRequest
from tmfstack.settings import Settings
from tmfstack.web.app import create_app


def refused(client: TestClient, kind: str, url: str, code: str = "INVALID_URL") -> dict[str, Any]:
    body = assert_error(client.post(f"{CATALOG}/{kind}", json={"url": url}), 400, spec="620")
    assert body["code"] == code, body
    assert client.get(f"{CATALOG}/{kind}").json() == [], "no job may be created"
    return body


# -- imports: file:// only inside the import folder ----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file:///etc/hostname",
        "file://localhost/etc/passwd",
        "file://otherhost/etc/passwd",
        "file:relative.json",
        "file://relative.json",
        "ftp://example.com/x.json",
    ],
)
def test_import_outside_the_folder_is_refused(client: TestClient, url: str) -> None:
    body = refused(client, "importJob", url)
    assert "passwd" not in body["message"] and "root:" not in body["message"]


def test_import_traversal_is_refused(client: TestClient, tmp_path: Path) -> None:
    write(tmp_path / "sample.json", SAMPLE)
    refused(client, "importJob", f"file://{tmp_path}/../x.json")
    refused(client, "importJob", f"file://{tmp_path}/%2e%2e/%2e%2e/etc/passwd")
    refused(client, "importJob", f"file://{tmp_path}/../{tmp_path.name}/sample.json")  # even back inside


def test_import_through_a_symlink_pointing_outside_is_refused(client: TestClient, tmp_path: Path) -> None:
    (tmp_path / "passwd.json").symlink_to("/etc/passwd")
    (tmp_path / "etc").symlink_to("/etc", target_is_directory=True)
    refused(client, "importJob", (tmp_path / "passwd.json").as_uri())
    refused(client, "importJob", (tmp_path / "etc" / "passwd").as_uri())


def test_import_of_a_fifo_or_a_folder_is_refused(client: TestClient, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    (tmp_path / "folder.json").mkdir()
    try:
        refused(client, "importJob", fifo.as_uri())
        refused(client, "importJob", (tmp_path / "folder.json").as_uri())
    finally:
        _unblock(fifo)


def _unblock(fifo: Path) -> None:
    """A reader stuck opening the FIFO (the code before the guard) gets EOF, so the app can stop."""
    for _ in range(20):
        with contextlib.suppress(OSError):
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        threading.Event().wait(0.02)


def test_the_error_log_shows_no_content_and_no_path(client: TestClient, tmp_path: Path) -> None:
    source = tmp_path / "secret.json"
    source.write_text('{"productOffering": [\n  SECRET-TOKEN-123 ]}', encoding="utf-8")
    job = finish(client, "importJob", start(client, "importJob", url=source.as_uri()))
    assert job["status"] == "Failed"
    log = job["errorLog"]
    assert "secret.json" in log and "line 2, column 3" in log, log
    assert "SECRET" not in log and str(tmp_path) not in log and "Traceback" not in log


def test_a_file_swapped_after_creation_is_checked_again(settings: Settings, tmp_path: Path) -> None:
    source = write(tmp_path / "sample.json", SAMPLE)
    url = source.as_uri()
    jobs.import_file(url, settings)  # fine when the job is created …
    source.unlink()
    source.symlink_to("/etc/passwd")  # … then replaced by a link out of the folder
    with pytest.raises(BadRequest, match="inside the import folder"):
        asyncio.run(jobs.fetch_source(url, settings))
    inside = write(tmp_path / "other.json", SAMPLE)
    source.unlink()
    source.symlink_to(inside)  # a link, even to a file inside: the last component is opened O_NOFOLLOW
    with pytest.raises(OSError):
        jobs._read_file(str(source))
    assert json.loads(asyncio.run(jobs.fetch_source(url, settings))) == SAMPLE  # resolved: reads the target


# -- exports: only inside the export folder -------------------------------------------------------


def test_export_outside_the_folder_is_refused(client: TestClient, settings: Settings, tmp_path: Path) -> None:
    evil = Path("/tmp/evil.json")
    before = evil.stat() if evil.exists() else None
    refused(client, "exportJob", evil.as_uri())
    refused(client, "exportJob", (tmp_path / "evil.json").as_uri())  # in the import folder, not the export one
    refused(client, "exportJob", f"file://{settings.export_dir}/../evil.json")
    refused(client, "exportJob", settings.export_dir.as_uri())
    refused(client, "exportJob", "file:evil.json")
    refused(client, "exportJob", "http://example.com/evil.json")
    assert (evil.stat() if evil.exists() else None) == before
    assert not (tmp_path / "evil.json").exists()


def test_export_through_a_symlink_is_refused(client: TestClient, settings: Settings, tmp_path: Path) -> None:
    victim = tmp_path / "victim.json"
    victim.write_text("keep", encoding="utf-8")
    settings.export_dir.mkdir(parents=True)
    (settings.export_dir / "out.json").symlink_to(victim)
    (tmp_path / "elsewhere").mkdir()
    (settings.export_dir / "sub").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    refused(client, "exportJob", (settings.export_dir / "out.json").as_uri())
    refused(client, "exportJob", (settings.export_dir / "sub" / "x.json").as_uri())
    assert victim.read_text(encoding="utf-8") == "keep"
    assert list((tmp_path / "elsewhere").iterdir()) == []


# -- http imports through the outbound guard ----------------------------------------------------


class _Counter:
    """A listening socket that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stopped = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.sock.accept()[0].close()
                self.accepted += 1
            except OSError:
                continue


@pytest.fixture
def counter() -> Iterator[_Counter]:
    c = _Counter()
    yield c
    c.stopped.set()
    c.sock.close()


@pytest.fixture
def strict_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(dataclasses.replace(settings, allow_private_callbacks=""))) as c:
        yield c


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "127.1", "0x7f000001", "2130706433", "[::1]", "[::ffff:127.0.0.1]"]
)
def test_http_import_from_loopback_is_refused_when_created(
    strict_client: TestClient, counter: _Counter, host: str
) -> None:
    body = refused(strict_client, "importJob", f"http://{host}:{counter.port}/sample.json", "DESTINATION_NOT_ALLOWED")
    assert "loopback" in body["message"]
    assert counter.accepted == 0


def test_http_import_refusals_for_metadata_and_credentials(strict_client: TestClient) -> None:
    refused(strict_client, "importJob", "http://169.254.169.254/latest/meta-data/", "DESTINATION_NOT_ALLOWED")
    body = refused(strict_client, "importJob", "https://user:hunter2@example.com/x.json")
    assert "hunter2" not in body["message"]


def test_http_import_of_a_name_resolving_to_loopback_fails_without_connecting(
    strict_client: TestClient, counter: _Counter
) -> None:
    name = socket.gethostname()
    try:
        resolved = {info[4][0] for info in socket.getaddrinfo(name, counter.port, type=socket.SOCK_STREAM)}
    except OSError:
        pytest.skip("this machine's host name does not resolve")
    if "127.0.0.1" not in resolved:
        pytest.skip(f"{name} does not resolve to 127.0.0.1 here")
    job = finish(strict_client, "importJob", start(strict_client, "importJob", url=f"http://{name}:{counter.port}/x"))
    assert job["status"] == "Failed"
    assert "is not allowed (loopback)" in job["errorLog"], job["errorLog"]
    assert counter.accepted == 0


class _Json(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        payload = json.dumps(SAMPLE).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_http_import_from_an_allowed_address_works(client: TestClient) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Json)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/sample.json?token=abc"
        job = finish(client, "importJob", start(client, "importJob", url=url))
    finally:
        server.shutdown()
        server.server_close()
    assert job["status"] == "Succeeded", job
    assert job["errorLog"].splitlines()[0] == "created 4, already present 0, failed 0"
