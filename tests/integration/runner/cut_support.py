"""A TCP relay to the test server that can lose one answer: a COMMIT that lands unseen.

A broken connection during COMMIT may hide a COMMIT that landed: the server wrote its commit
record and sent the answer, the client never read it. Terminating the session cannot make that
case (it aborts the COMMIT); this relay can. Once armed, the next bytes the server sends on any
relayed connection are dropped and that connection is closed both ways, then it relays as
before (the read-back's new connection goes through).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from urllib.parse import urlsplit, urlunsplit

_Pair = tuple[socket.socket, socket.socket]  # (client, server)


class CuttingRelay:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.armed = threading.Event()
        self.cut = threading.Event()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return int(self.listener.getsockname()[1])

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            server = socket.create_connection(self.target)
            pair = (client, server)
            threading.Thread(target=self._pipe, args=(client, server, pair), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, pair), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, pair: _Pair) -> None:
        from_server = src is pair[1]
        try:
            while data := src.recv(65536):
                if from_server and self._take_cut():
                    break  # the answer is never sent
                dst.sendall(data)
        except OSError:
            pass
        for end in pair:
            _close(end)

    def _take_cut(self) -> bool:
        with self._lock:
            if not self.armed.is_set() or self.cut.is_set():
                return False
            self.cut.set()
            return True

    def close(self) -> None:
        self.listener.close()


def _close(end: socket.socket) -> None:
    with suppress(OSError):
        end.shutdown(socket.SHUT_RDWR)
    end.close()


@contextmanager
def cutting_relay(url: str) -> Iterator[tuple[CuttingRelay, str]]:
    """A relay to the server of `url`, and the same URL through it."""
    parts = urlsplit(url)
    relay = CuttingRelay((parts.hostname or "127.0.0.1", parts.port or 5432))
    userinfo, at, _ = parts.netloc.rpartition("@")
    try:
        yield relay, urlunsplit(parts._replace(netloc=f"{userinfo}{at}127.0.0.1:{relay.port}"))
    finally:
        relay.close()
