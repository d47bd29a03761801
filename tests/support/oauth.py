"""The local OAuth 2.0 authorization server (``oauth_server.py``), as a process of the test run.

    server = OAuthServer(users={'support@example.com': {'email': 'support@example.com'}}).start()
    server.url, server.client_id, server.client_secret, server.introspection_client
    server.expire(access_token); server.revoke_user(login); server.counts()
    server.stop()

It runs in ``.venv-oauth`` (built by scripts/setup.sh). Only the standard library is used here, so any
venv of the project can drive it.
"""
import json
import os
import subprocess
import tempfile
import urllib.parse
import urllib.request

from .ports import free_port, wait_for_port

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON = os.path.join(ROOT, '.venv-oauth', 'bin', 'python')
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'oauth_server.py')


class OAuthServer:
    client_id, client_secret = 'postcenter-helpdesk', 'helpdesk-client-secret'
    introspection_client = ('dovecot', 'dovecot-secret')

    def __init__(self, users, signin_as=None):
        self.users = users
        self.signin_as = signin_as
        self.port = None
        self.process = None
        self.root = None

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.port

    def start(self):
        if not os.path.exists(PYTHON):
            raise RuntimeError('%s is missing: run `make setup` (it builds .venv-oauth).' % PYTHON)
        self.root = tempfile.mkdtemp(prefix='postcenter-oauth-')
        config = os.path.join(self.root, 'config.json')
        with open(config, 'w') as handle:
            json.dump({'clients': {self.client_id: self.client_secret,
                                   self.introspection_client[0]: self.introspection_client[1]},
                       'users': self.users, 'signin_as': self.signin_as}, handle)
        self.port = free_port()
        self.log = open(os.path.join(self.root, 'server.log'), 'wb')
        self.process = subprocess.Popen([PYTHON, SCRIPT, str(self.port), config], stdin=subprocess.DEVNULL,
                                        stdout=self.log, stderr=self.log)
        wait_for_port(self.port)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.process:
            self.log.close()
        self.process = None

    # -- test-only controls --------------------------------------------------
    def _post(self, path, **form):
        data = urllib.parse.urlencode(form).encode()
        with urllib.request.urlopen(self.url + path, data=data, timeout=10) as response:
            return json.loads(response.read().decode())

    def signin(self, login):
        """The user signed in on the consent page from now on."""
        return self._post('/test/signin-as', login=login)

    def expire(self, token=None, login=None):
        """Expire an access token (or every token of ``login``) at once."""
        return self._post('/test/expire', **({'token': token} if token else {'login': login}))

    def revoke_user(self, login):
        return self._post('/test/revoke-user', login=login)

    def set_expires_in(self, seconds):
        return self._post('/test/expires-in', seconds=seconds)

    def counts(self):
        with urllib.request.urlopen(self.url + '/test/counts', timeout=10) as response:
            return json.loads(response.read().decode())

    def endpoints(self):
        """The system parameters that point a provider profile at this server."""
        return {'authorize_url': self.url + '/authorize', 'token_url': self.url + '/token',
                'userinfo_url': self.url + '/userinfo', 'client_id': self.client_id,
                'client_secret': self.client_secret}
