"""The HTTP/1.1 protocol the server is served with: uvicorn's httptools protocol, keeping the body of a request that
offers `Upgrade: h2c`.

Java's HttpClient, Spring, Ktor and `curl --http2` offer HTTP/2 on the first request of a connection
(`Connection: Upgrade, HTTP2-Settings` + `Upgrade: h2c`). A server may ignore the offer and answer in HTTP/1.1
(RFC 9110 section 7.8). llhttp, under httptools, instead takes the offer as a protocol switch: it skips the body and
stops parsing there, and uvicorn answers the request with an empty body and the next bytes of the connection are
lost. So the offer is held back here: the request's head is read again without it (the `Upgrade` header and the
`upgrade` token of `Connection` left out), followed by what came after it, and served as any HTTP/1.1 request.
uvicorn's h11 protocol does that by itself, but costs about a fifth of a read more than httptools.
"""

from __future__ import annotations

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class H2cOfferIgnoringProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol; an upgrade offer other than WebSocket is ignored (answered in HTTP/1.1)."""

    _offer_held = False

    def data_received(self, data: bytes) -> None:       # uvicorn's, but for a held offer
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            if not self._offer_held:
                self._upgrade_as_uvicorn_does()
                return
            self._offer_held = False
            self._read_again_without_offer(bytes(data[upgrade.args[0]:]))
        except httptools.HttpParserError:
            message = "Invalid HTTP request received."
            self.logger.warning(message)
            self.send_400_response(message)

    def on_headers_complete(self) -> None:
        if self.parser.should_upgrade() and self._get_upgrade() not in (None, b"websocket"):
            self._offer_held = True         # llhttp now skips the body and stops: see data_received
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._offer_held:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._offer_held:
            super().on_message_complete()

    def _upgrade_as_uvicorn_does(self) -> None:
        if self._should_upgrade():
            self.handle_websocket_upgrade()
        else:
            self._unsupported_upgrade_warning()

    def _read_again_without_offer(self, rest: bytes) -> None:
        head = [self.parser.get_method(), b" ", self.url, f" HTTP/{self.parser.get_http_version()}\r\n".encode()]
        for name, value in self.headers:
            if name == b"upgrade":
                continue
            if name == b"connection":
                tokens = [token.strip() for token in value.split(b",")]
                value = b", ".join(token for token in tokens if token and token.lower() != b"upgrade")
                if not value:
                    continue
            head += [name, b": ", value, b"\r\n"]
        head.append(b"\r\n")
        self.parser = httptools.HttpRequestParser(self)
        try:
            self.parser.set_dangerous_leniencies(lenient_data_after_close=True)    # as uvicorn's __init__
        except AttributeError:  # httptools < 0.6.3
            pass
        self.data_received(b"".join(head) + rest)
