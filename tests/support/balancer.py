"""A round-robin TCP load balancer on loopback, as a proxy in front of several Odoo servers: each connection goes to
the next backend in turn (Odoo 11's HTTP server closes the connection after each request, so each request does).

    balancer = Balancer([8070, 8071]).start()
    balancer.port ...; balancer.connections   # {backend port: connections sent to it}
    balancer.stop()
"""
import socket
import threading


def _pipe(source, target):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    for sock, how in ((target, socket.SHUT_WR), (source, socket.SHUT_RD)):
        try:
            sock.shutdown(how)
        except OSError:
            pass


class Balancer:
    """Listens on ``port`` (127.0.0.1) and hands each connection to the next of ``backends`` (ports on 127.0.0.1)."""

    def __init__(self, backends):
        self.backends = list(backends)
        self.connections = {port: 0 for port in self.backends}
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(('127.0.0.1', 0))
        self.port = self.listener.getsockname()[1]
        self._next = 0
        self._open = []

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
            backend = self.backends[self._next % len(self.backends)]
            self._next += 1
            try:
                server = socket.create_connection(('127.0.0.1', backend))
            except OSError:
                client.close()
                continue
            self.connections[backend] += 1
            self._open += [client, server]
            threading.Thread(target=_pipe, args=(client, server), daemon=True).start()
            threading.Thread(target=_pipe, args=(server, client), daemon=True).start()

    def stop(self):
        self.listener.close()
        for sock in self._open:
            try:
                sock.close()
            except OSError:
                pass
