"""Real SMTP servers (aiosmtpd) for the tests: a sink that keeps every message it accepts."""
import email
import email.policy
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


def read_spool(folder):
    """``[(mail_from, [rcpt_tos], email.message.Message)]`` of the messages in a sink's folder."""
    found = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if not name.endswith('.eml'):
            continue
        base = os.path.join(folder, name[:-4])
        with open(base + '.env') as handle:
            mail_from, rcpt = handle.read().splitlines()[:2]
        with open(base + '.eml', 'rb') as handle:
            message = email.message_from_bytes(handle.read(), policy=email.policy.default)
        found.append((mail_from, rcpt.split(','), message))
    return found
