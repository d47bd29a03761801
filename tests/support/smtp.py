"""Real SMTP servers (aiosmtpd) for the tests: a sink that keeps every message it accepts."""
import os
import threading

from aiosmtpd.controller import Controller

from .ports import free_port


class SinkHandler:
    """Writes each accepted message to ``folder`` as ``<n>.eml`` (envelope in ``<n>.env``)."""

    def __init__(self, folder):
        self.folder = folder
        self.lock = threading.Lock()
        os.makedirs(folder, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            number = len([name for name in os.listdir(self.folder) if name.endswith('.eml')]) + 1
            base = os.path.join(self.folder, '%06d' % number)
            with open(base + '.env', 'w') as handle:
                handle.write('%s\n%s\n' % (envelope.mail_from, ','.join(envelope.rcpt_tos)))
            with open(base + '.eml', 'wb') as handle:
                handle.write(envelope.original_content or envelope.content)
        return '250 OK'


class SmtpSink:
    """An SMTP server on loopback keeping what it receives in ``folder``."""

    def __init__(self, folder):
        self.folder = folder
        self.port = free_port()
        self.controller = Controller(SinkHandler(folder), hostname='127.0.0.1', port=self.port)

    def start(self):
        self.controller.start()
        return self

    def stop(self):
        self.controller.stop()

