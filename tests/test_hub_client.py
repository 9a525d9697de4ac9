"""The Hub request timeout's setting (the hang it ends is a case of the catalogue: tests/catalogue/
test_hub_answers.py::test_a_hub_that_stops_answering_is_a_timeout)."""

from __future__ import annotations

import pytest

from hftui.hub import client


def test_the_read_timeout_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HFTUI_HUB_TIMEOUT", "2.5")
    assert client.read_timeout() == 2.5
    for wrong in ("", "soon", "-1", "0"):
        monkeypatch.setenv("HFTUI_HUB_TIMEOUT", wrong)
        assert client.read_timeout() == client.DEFAULT_READ_TIMEOUT_S


def test_offline_keeps_out_the_hub_but_not_a_server_the_user_named(monkeypatch: pytest.MonkeyPatch) -> None:
    import http.server
    import threading

    from huggingface_hub import constants, get_session
    from huggingface_hub.errors import OfflineModeIsEnabled

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    named = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(client, "_SERVER_HOSTS", set())
    try:
        client.install_request_timeouts()
        with pytest.raises(OfflineModeIsEnabled):
            get_session().get(f"{named}/v1/models")  # not named yet: refused like any request offline
        client.allow_while_offline(f"{named}/v1")
        assert get_session().get(f"{named}/v1/models").text == "ok"
        client.allow_while_offline(constants.ENDPOINT)  # the Hub itself is never let through
        with pytest.raises(OfflineModeIsEnabled):
            get_session().get(f"{constants.ENDPOINT}/api/models")
    finally:
        server.shutdown()
