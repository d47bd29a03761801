"""Free loopback ports."""
import socket


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def wait_for_port(port, timeout=20.0, host='127.0.0.1'):
    """Block until something accepts connections on ``port`` (or raise after ``timeout``)."""
    import time
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError('nothing listens on %s:%s after %ss' % (host, port, timeout))
            time.sleep(0.05)
