# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""_probe.get_path: a registry's debug endpoints (/debug/health, /metrics) asked on a real loopback server."""

from __future__ import annotations

import http.server
import threading

import pytest

from ansible_collections.fleetops.docker_mirror.plugins.module_utils import _probe


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's name)
        status = {"/debug/health": 200, "/metrics": 503}.get(self.path, 404)
        self.send_response(status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.parametrize("path, ok, error", [
    ("/debug/health", True, None),
    ("/metrics", False, "HTTP status 503 for GET /metrics"),
    ("/nothing", False, "HTTP status 404 for GET /nothing"),
])
def test_get_path(server: str, path: str, ok: bool, error: str | None) -> None:
    answer = _probe.get_path(_probe.Target(server), path, 2)
    assert (answer["ok"], answer["error"]) == (ok, error)


def test_get_path_refused() -> None:
    answer = _probe.get_path(_probe.Target("http://127.0.0.1:1"), "/debug/health", 2)
    assert not answer["ok"] and answer["status"] is None and answer["error"] == "connect: connection refused"
