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


class OAuthSinkHandler(SinkHandler):
    """A sink whose AUTH XOAUTH2 asks the authorization server (RFC 7662 introspection) whether the token is
    active and belongs to the user named in the initial response; it keeps who sent each message."""

    def __init__(self, folder, introspection_url, client):
        super().__init__(folder)
        self.introspection_url, self.client = introspection_url, client
        self.logins = []

    async def handle_DATA(self, server, session, envelope):
        if not session.authenticated:
            return '530 5.7.0 Authentication required'
        return await super().handle_DATA(server, session, envelope)

    def _introspect(self, token):
        import json
        import urllib.parse
        import urllib.request
        data = urllib.parse.urlencode({'token': token, 'client_id': self.client[0],
                                       'client_secret': self.client[1]}).encode()
        with urllib.request.urlopen(self.introspection_url, data=data, timeout=10) as response:
            return json.loads(response.read().decode())

    async def auth_XOAUTH2(self, server, args):
        import base64

        from aiosmtpd.smtp import AuthResult
        if len(args) > 1:
            blob = base64.b64decode(args[1])
        else:
            blob = await server.challenge_auth('')
        fields = dict(part.split('=', 1) for part in blob.decode(errors='replace').split('\x01') if '=' in part)
        user, token = fields.get('user', ''), fields.get('auth', '').partition(' ')[2]
        answer = self._introspect(token) if token else {}
        if answer.get('active') and answer.get('username', '').lower() == user.lower():
            self.logins.append(user)
            return AuthResult(success=True, auth_data=user)
        # as Gmail does: a JSON challenge first, the refusal once the client answers it
        await server.challenge_auth('{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}')
        return AuthResult(success=False, handled=False, message='535 5.7.8 Username and Password not accepted')


class OAuthSmtpServer(SmtpSink):
    """An SMTP relay on a plain loopback port that takes only AUTH XOAUTH2, checked by introspection."""

    def __init__(self, folder, introspection_url, client):
        self.folder = folder
        self.port = free_port()
        self.handler = OAuthSinkHandler(folder, introspection_url, client)
        # aiosmtpd's auth_required warns without TLS: the handler itself refuses mail from a session that did not
        # log in (530)
        self.controller = Controller(self.handler, hostname='127.0.0.1', port=self.port, auth_require_tls=False,
                                     auth_exclude_mechanism=['LOGIN', 'PLAIN'])
