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


class Authenticator:
    """aiosmtpd authenticator accepting the given ``{login: password}``."""

    def __init__(self, users):
        self.users = users

    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode() if isinstance(auth_data.login, bytes) else auth_data.login
            password = auth_data.password.decode() if isinstance(auth_data.password, bytes) else auth_data.password
            if self.users.get(login) == password:
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)


class AuthSmtpServer(SmtpSink):
    """An SMTP relay that wants a login: ``mode`` 'none' (plain), 'starttls' or 'ssl' (TLS on connect)."""

    def __init__(self, folder, users, mode, cert, key):
        import ssl
        self.folder = folder
        self.port = free_port()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        # AUTH only over TLS for STARTTLS servers; TLS-on-connect is already encrypted (aiosmtpd cannot tell).
        options = {'authenticator': Authenticator(users), 'auth_require_tls': mode == 'starttls'}
        if mode == 'starttls':
            options.update(tls_context=context, require_starttls=True)
        elif mode == 'ssl':
            options['ssl_context'] = context
        self.controller = Controller(SinkHandler(folder), hostname='127.0.0.1', port=self.port, **options)
