"""A TCP proxy on loopback that delays every byte by ``delay`` seconds each way (a delay line, not a throttle:
data keeps flowing while earlier data is in flight), to measure a path as if its server were ``2 * delay`` away.

    proxy = LatencyProxy('127.0.0.1', 1143, delay=0.015).start()   # 30 ms round trip
    proxy.port ...; proxy.stop()
"""
import collections
import socket
import threading
import time


class _Line:
    """One direction of one connection: a reader thread timestamps chunks, a writer thread sends each one when its
    delay has passed."""

    def __init__(self, source, target, delay):
        self.source, self.target, self.delay = source, target, delay
        self.queue = collections.deque()
        self.ready = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._write, daemon=True).start()

    def _read(self):
        while True:
            try:
                data = self.source.recv(65536)
            except OSError:
                data = b''
            with self.ready:
                self.queue.append((time.monotonic() + self.delay, data))
                self.ready.notify()
            if not data:
                return

    def _write(self):
        while True:
            with self.ready:
                while not self.queue:
                    self.ready.wait()
                due, data = self.queue.popleft()
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            try:
                if not data:
                    self.target.shutdown(socket.SHUT_WR)
                    return
                self.target.sendall(data)
            except OSError:
                return


class LatencyProxy:
    """Listens on ``port`` (127.0.0.1) and forwards each connection to ``host:target_port`` through two delay lines."""

    def __init__(self, host, target_port, delay=0.015):
        self.host, self.target_port, self.delay = host, target_port, delay
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.port = self.listener.getsockname()[1]
        self.connections = []

    def start(self):
        self.listener.listen(64)
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def _accept(self):
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection((self.host, self.target_port))
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.connections += [client, server]
            _Line(client, server, self.delay)
            _Line(server, client, self.delay)

    def stop(self):
        self.listener.close()
        for sock in self.connections:
            try:
                sock.close()
            except OSError:
                pass
