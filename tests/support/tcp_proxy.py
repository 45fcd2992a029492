"""A loopback TCP proxy whose network can be pulled: a real connection drop.

    with CuttableProxy(appliance.port) as proxy:
        page.goto(proxy.url + "/")
        proxy.go_offline()    # every open connection is cut, new ones refused
        proxy.go_online()

While offline a new connection is accepted and closed at once, which a
browser sees as a failed request, as it would on a dead Wi-Fi.
"""

from __future__ import annotations

import contextlib
import socket
import threading

CHUNK = 64 * 1024


class CuttableProxy:
    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        self.online = True
        threading.Thread(target=self.accept_forever, daemon=True).start()

    def __enter__(self) -> CuttableProxy:
        return self

    def __exit__(self, *exc_info) -> None:
        self.listener.close()
        self.go_offline()

    def go_offline(self) -> None:
        with self.lock:
            self.online = False
            cut, self.open = self.open, set()
        for connection in cut:
            close(connection)

    def go_online(self) -> None:
        with self.lock:
            self.online = True

    def accept_forever(self) -> None:
        while True:
            try:
                client = self.listener.accept()[0]
            except OSError:
                return  # the listener was closed
            threading.Thread(target=self.relay, args=(client,), daemon=True).start()

    def relay(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            close(client)
            return
        upstream.settimeout(None)
        with self.lock:
            if not self.online:
                close(client)
                close(upstream)
                return
            self.open.update((client, upstream))
        threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
        pump(client, upstream)


def pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(CHUNK):
            sink.sendall(data)
    except OSError:
        pass  # one side was cut
    close(source)
    close(sink)


def close(connection: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed, or never connected
        connection.shutdown(socket.SHUT_RDWR)
    connection.close()
