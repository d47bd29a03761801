"""A local OAuth 2.0 authorization server for the tests (Authlib + Flask, run by .venv-oauth's Python).

    .venv-oauth/bin/python tests/support/oauth_server.py PORT CONFIG.json

CONFIG: ``{"clients": {id: secret}, "users": {login: {"email": ..., "mailbox": ...}}, "signin_as": login}``.
What it serves, on 127.0.0.1:PORT:
- ``/authorize``  authorization code with PKCE (S256 required); a consent page with Allow and Deny buttons,
  signed in as ``signin_as``;
- ``/token``      code and refresh grants (client_secret_post); refresh tokens rotate: a used, revoked or
  expired one answers ``400 {"error": "invalid_grant"}``;
- ``/introspect`` RFC 7662 (Dovecot and the SMTP test server ask it); ``username`` is the user's mailbox;
- ``/revoke``     RFC 7009; ``/userinfo``: ``{"email": ...}`` for a valid bearer token;
- ``/test/...``   test-only controls: who signs in, expire an access token at once, revoke a user's grants,
  counters of the grants served.
"""
import json
import secrets
import sys
import threading
import time

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask, jsonify, request

LOCK = threading.Lock()
STATE = {'codes': {}, 'tokens': [], 'counts': {'authorization_code': 0, 'refresh_token': 0, 'invalid_grant': 0},
         'expires_in': 3600}


class Client:
    def __init__(self, client_id, secret):
        self.client_id, self.client_secret = client_id, secret

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return None

    def get_allowed_scope(self, scope):
        return scope

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri.startswith('http://')

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret or '', self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method == 'client_secret_post'

    def check_response_type(self, response_type):
        return response_type == 'code'

    def check_grant_type(self, grant_type):
        return grant_type in ('authorization_code', 'refresh_token')


class User:
    def __init__(self, login, email, mailbox):
        self.login, self.email, self.mailbox = login, email, mailbox

    def get_user_id(self):
        return self.login


class Code:
    def __init__(self, code, client_id, redirect_uri, scope, user, challenge, method):
        self.code, self.client_id, self.redirect_uri, self.scope, self.user = code, client_id, redirect_uri, scope, user
        self.code_challenge, self.code_challenge_method = challenge, method
        self.auth_time = time.time()

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_auth_time(self):
        return self.auth_time

    def is_expired(self):
        return time.time() - self.auth_time > 300


class Token:
    def __init__(self, data, client_id, user):
        self.access_token = data['access_token']
        self.refresh_token = data.get('refresh_token')
        self.scope = data.get('scope', '')
        self.expires_at = time.time() + data.get('expires_in', 3600)
        self.client_id, self.user = client_id, user
        self.revoked = False      # the grant was revoked: neither token works
        self.refresh_used = False  # the refresh token was rotated out

    def check_client(self, client):
        return client.get_client_id() == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return int(self.expires_at - time.time())

    def is_expired(self):
        return time.time() >= self.expires_at

    def is_revoked(self):
        return self.revoked

    def get_user(self):
        return self.user

    def get_client(self):
        return CLIENTS[self.client_id]


CLIENTS = {}
USERS = {}


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_post']

    def save_authorization_code(self, code, request):
        payload = request.payload
        with LOCK:
            STATE['codes'][code] = Code(code, request.client.get_client_id(), payload.redirect_uri,
                                        payload.scope, request.user, payload.data.get('code_challenge'),
                                        payload.data.get('code_challenge_method'))

    def query_authorization_code(self, code, client):
        found = STATE['codes'].get(code)
        if found and found.client_id == client.get_client_id() and not found.is_expired():
            return found
        return None

    def delete_authorization_code(self, authorization_code):
        STATE['codes'].pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        STATE['counts']['authorization_code'] += 1
        return authorization_code.user


class RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_post']
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        with LOCK:
            for token in STATE['tokens']:
                if token.refresh_token == refresh_token:
                    if token.revoked or token.refresh_used:
                        break
                    return token
            STATE['counts']['invalid_grant'] += 1
        return None

    def authenticate_user(self, refresh_token):
        STATE['counts']['refresh_token'] += 1
        return refresh_token.user

    def revoke_old_credential(self, refresh_token):
        refresh_token.refresh_used = True


def find_token(value):
    for token in STATE['tokens']:
        if value in (token.access_token, token.refresh_token):
            return token
    return None


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ['client_secret_post', 'client_secret_basic']

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string)

    def introspect_token(self, token):
        active = not token.revoked and not token.is_expired()
        if not active:
            return {'active': False}
        return {'active': True, 'client_id': token.client_id, 'username': token.user.mailbox,
                'email': token.user.email, 'scope': token.scope, 'exp': int(token.expires_at)}

    def check_permission(self, token, client, request):
        return True


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ['client_secret_post', 'client_secret_basic']

    def query_token(self, token_string, token_type_hint):
        return find_token(token_string)

    def revoke_token(self, token, request):
        token.revoked = True


def save_token(data, request):
    with LOCK:
        STATE['tokens'].append(Token(data, request.client.get_client_id(), request.user))


def create_app(config):
    for client_id, secret in config['clients'].items():
        CLIENTS[client_id] = Client(client_id, secret)
    for login, info in config['users'].items():
        USERS[login] = User(login, info['email'], info.get('mailbox') or info['email'])
    STATE['signin_as'] = config.get('signin_as') or next(iter(USERS))
    app = Flask(__name__)
    app.config['OAUTH2_TOKEN_EXPIRES_IN'] = {'authorization_code': 3600, 'refresh_token': 3600}
    server = AuthorizationServer(app, query_client=CLIENTS.get, save_token=save_token)

    def expires_in(client, grant_type):
        return STATE['expires_in']
    server.register_token_generator('default', _generator(expires_in))
    server.register_grant(CodeGrant, [CodeChallenge(required=True)])
    server.register_grant(RefreshGrant)
    server.register_endpoint(Introspection)
    server.register_endpoint(Revocation)

    @app.route('/authorize', methods=['GET', 'POST'])
    def authorize():
        user = USERS[STATE['signin_as']]
        if request.method == 'GET':
            try:
                grant = server.get_consent_grant(end_user=user)
            except Exception as error:  # a bad request: show why, as a provider's error page would
                return '<h1>Bad request</h1><p>%s</p>' % error, 400
            return CONSENT % {'client': grant.client.get_client_id(), 'email': user.email,
                              'scope': grant.request.payload.scope}
        grant = server.get_consent_grant(end_user=user)
        return server.create_authorization_response(grant=grant, grant_user=user if 'allow' in request.form else None)

    @app.route('/token', methods=['POST'])
    def token():
        return server.create_token_response()

    @app.route('/introspect', methods=['POST'])
    def introspect():
        return server.create_endpoint_response(Introspection.ENDPOINT_NAME)

    @app.route('/revoke', methods=['POST'])
    def revoke():
        return server.create_endpoint_response(Revocation.ENDPOINT_NAME)

    @app.route('/userinfo')
    def userinfo():
        value = request.headers.get('Authorization', '').partition(' ')[2]
        found = find_token(value)
        if not found or found.access_token != value or found.revoked or found.is_expired():
            return jsonify(error='invalid_token'), 401
        return jsonify(sub=found.user.login, email=found.user.email)

    @app.route('/test/signin-as', methods=['POST'])
    def signin_as():
        STATE['signin_as'] = request.form['login']
        return jsonify(ok=True)

    @app.route('/test/expires-in', methods=['POST'])
    def set_expires_in():
        STATE['expires_in'] = int(request.form['seconds'])
        return jsonify(ok=True)

    @app.route('/test/expire', methods=['POST'])
    def expire():
        """Expire an access token (or every token of ``login``) at once."""
        with LOCK:
            for found in STATE['tokens']:
                if request.form.get('token') in (found.access_token, found.refresh_token) or \
                        request.form.get('login') == found.user.login:
                    found.expires_at = time.time() - 1
        return jsonify(ok=True)

    @app.route('/test/revoke-user', methods=['POST'])
    def revoke_user():
        """The user changed their password or withdrew the app: every grant of theirs is revoked."""
        with LOCK:
            for found in STATE['tokens']:
                if found.user.login == request.form['login']:
                    found.revoked = True
        return jsonify(ok=True)

    @app.route('/test/counts')
    def counts():
        return jsonify(STATE['counts'])

    return app


def _generator(expires_in):
    from authlib.oauth2.rfc6750 import BearerTokenGenerator

    def token(**_ignored):
        return secrets.token_urlsafe(32)
    return BearerTokenGenerator(token, token, expires_generator=expires_in)


CONSENT = """<!doctype html><html><head><title>Sign in - local provider</title></head><body>
<h1>Allow access to your mailbox?</h1>
<p>The application <b>%(client)s</b> asks to read and send the mail of <b id="signed-in">%(email)s</b>
(<code>%(scope)s</code>).</p>
<form method="post"><button type="submit" name="allow" value="1" id="allow">Allow</button>
<button type="submit" name="deny" value="1" id="deny">Deny</button></form></body></html>"""


if __name__ == '__main__':
    port, config_path = int(sys.argv[1]), sys.argv[2]
    with open(config_path) as handle:
        application = create_app(json.load(handle))
    application.run(host='127.0.0.1', port=port, threaded=True)
