"""Waiting for real processes to get somewhere (never for time to pass)."""
import time


def wait_until(condition, timeout=60, what='the condition', interval=0.02):
    """Poll ``condition`` until it returns something true, which is returned; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('timed out waiting for %s' % what)
        time.sleep(interval)
