"""The few HTTP/1.1 the URL sink needs: POSTs pipelined over one kept-alive connection (TLS for
https), each response's status read and its body skipped.

Why not http.client: it cost ~110 us of CPU an event here (its headers go through the email
parser), this ~15 us. Why pipelined: a thread that waits on each answer in turn takes the GIL
back from the event loop once an event, and those hand-overs cost the server more than the
sending (~140 us a captured request, against ~20 us pipelined).
"""

from __future__ import annotations

import socket
import ssl
from typing import BinaryIO

MAX_LINE = 8192  # a status or header line longer than this is not an answer we expect
MAX_HEADERS = 100


class ResponseError(ValueError):
    """What came back is not an HTTP/1.1 response this client reads."""


class Connection:
    """One connection to `host`:`port`, opened on first use and again after any failure."""

    def __init__(self, host: str, port: int, https: bool, timeout: float) -> None:
        self.host, self.port, self.https, self.timeout = host, port, https, timeout
        default = 443 if https else 80
        self.authority = host if port == default else f"{host}:{port}"
        if ":" in host:  # an IPv6 address
            self.authority = f"[{host}]" if port == default else f"[{host}]:{port}"
        self._socket: socket.socket | None = None
        self._reader: BinaryIO | None = None
        self.answered: list[int] = []

    def post_all(self, target: str, requests: list[tuple[bytes, bytes]]) -> list[int]:
        """POST each (header lines, body), pipelined: all sent at once, then the answers read
        in order; the statuses of those answered. Fewer than sent when the connection ends
        early (the rest are unknown); OSError or ResponseError when it fails, `answered` then
        holding the statuses read before."""
        if self._socket is None:
            self._connect()
        assert self._socket is not None and self._reader is not None
        self.answered = []
        self._socket.sendall(b"".join(self._request(target, *request) for request in requests))
        for _ in requests:
            status, fields = self._head(self._reader)
            while 100 <= status < 200:  # interim answers: the final one follows
                status, fields = self._head(self._reader)
            self._skip_body(self._reader, status, fields)
            self.answered.append(status)
            if self._socket is None or fields.get(b"connection", b"").lower() == b"close":
                self.close()
                break
        return self.answered

    def _request(self, target: str, headers: bytes, body: bytes) -> bytes:
        head = (
            f"POST {target} HTTP/1.1\r\nhost: {self.authority}\r\ncontent-length: {len(body)}\r\n"
        )
        return head.encode("latin-1") + headers + b"\r\n" + body

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
        self._socket = self._reader = None

    def _connect(self) -> None:
        raw = socket.create_connection((self.host, self.port), timeout=self.timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.https:
            context = ssl.create_default_context()
            raw = context.wrap_socket(raw, server_hostname=self.host)
        self._socket = raw
        self._reader = raw.makefile("rb")

    @staticmethod
    def _line(reader: BinaryIO) -> bytes:
        line = reader.readline(MAX_LINE + 1)
        if not line:
            raise ConnectionError("the connection was closed before an answer")
        if len(line) > MAX_LINE:
            raise ResponseError("an answer line too long")
        return line.rstrip(b"\r\n")

    def _head(self, reader: BinaryIO) -> tuple[int, dict[bytes, bytes]]:
        parts = self._line(reader).split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise ResponseError("not an HTTP/1.x answer")
        fields: dict[bytes, bytes] = {}
        for _ in range(MAX_HEADERS):
            line = self._line(reader)
            if not line:
                return int(parts[1]), fields
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip()
        raise ResponseError("too many answer headers")

    def _skip_body(self, reader: BinaryIO, status: int, fields: dict[bytes, bytes]) -> None:
        if status in (204, 304):
            return
        if fields.get(b"transfer-encoding", b"").lower().endswith(b"chunked"):
            while True:
                size = int(self._line(reader).split(b";")[0], 16)
                if size == 0:
                    while self._line(reader):  # trailers, up to the blank line
                        pass
                    return
                reader.read(size + 2)  # the chunk and its CRLF
        length = fields.get(b"content-length")
        if length is not None:
            if not length.isdigit():
                raise ResponseError("a content-length that is not a number")
            reader.read(int(length))
        else:  # no length: the body runs to the end of the connection
            reader.read()
            self.close()
