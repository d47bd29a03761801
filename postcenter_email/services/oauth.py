"""OAuth 2.0 sign-in for Google and Microsoft 365 mailboxes: the decisions, and the calls to the token endpoint.

- authorization code grant with PKCE (S256), and a ``state`` signed with the database secret that names
  the record being connected and is bound to the browser session that started the sign-in;
- the token endpoint (code exchange, refresh with rotation) by ``requests``; its refusals sorted into kinds
  that the Odoo layer turns into plain words;
- when to refresh; the mailbox address in the answer; the XOAUTH2 string of IMAP and SMTP.
"""
import base64
import datetime
import hashlib
import hmac
import json
import secrets
from collections import namedtuple
from urllib.parse import urlencode

from . import exceptions

Profile = namedtuple('Profile', 'key label scopes authorize_url token_url userinfo_url imap_host imap_port '
                                'smtp_host smtp_port smtp_encryption domains extra_params')

PROFILES = {
    'google': Profile(
        'google', 'Google', ('https://mail.google.com/', 'openid', 'email'),
        'https://accounts.google.com/o/oauth2/v2/auth', 'https://oauth2.googleapis.com/token',
        'https://openidconnect.googleapis.com/v1/userinfo', 'imap.gmail.com', 993, 'smtp.gmail.com', 465, 'ssl',
        ('gmail.com', 'googlemail.com'),
        # offline: a refresh token; consent: a refresh token on every sign-in, Reconnect included
        {'access_type': 'offline', 'prompt': 'consent'}),
    'microsoft': Profile(
        'microsoft', 'Microsoft',
        ('https://outlook.office.com/IMAP.AccessAsUser.All', 'https://outlook.office.com/SMTP.Send',
         'offline_access', 'openid', 'email'),
        'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize',
        'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
        'https://graph.microsoft.com/oidc/userinfo', 'outlook.office365.com', 993, 'smtp.office365.com', 587,
        'starttls', ('outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'outlook.es', 'hotmail.es'),
        {'prompt': 'select_account'}),
}
ENDPOINT_KEYS = ('authorize_url', 'token_url', 'userinfo_url')
DEFAULT_TENANT = 'organizations'
STATE_MAX_AGE = datetime.timedelta(minutes=30)
REFRESH_MARGIN = datetime.timedelta(minutes=5)
DEFAULT_TIMEOUT = 30


class OAuthFailure(exceptions.MailServerError):
    """The provider refused or could not complete a sign-in or a refresh. ``kind``: ``consent`` (the user said
    no), ``tenant`` (the account is not of the tenant set), ``scope`` (a permission is missing), ``policy`` (the
    organisation does not allow the app), ``client`` (client ID or secret wrong), ``grant`` (the refresh token no
    longer works: sign in again), ``state`` (the sign-in link was tampered with, too old or from another
    session), ``mailbox`` (signed in as another mailbox), ``unavailable`` (the provider could not be reached),
    ``unknown``."""

    def __init__(self, kind, detail=''):
        super().__init__(detail)
        self.kind = 'oauth_' + kind
        self.reason = kind
        self.transient = kind == 'unavailable'


def profile(key):
    """The provider profile called ``key`` ('google' or 'microsoft'), or ``None`` (password accounts)."""
    return PROFILES.get(key)


def guess_provider(address):
    """'google' or 'microsoft' for the public addresses of those providers, else ``None``."""
    domain = (address or '').rpartition('@')[2].lower()
    for key, found in PROFILES.items():
        if domain in found.domains:
            return key
    return None


def endpoint(template, tenant=None):
    """An endpoint URL with the Microsoft tenant filled in (``organizations`` by default)."""
    return template.replace('{tenant}', (tenant or DEFAULT_TENANT).strip() or DEFAULT_TENANT)


# ----------------------------------------------------------------------
# PKCE and state
# ----------------------------------------------------------------------

def pkce_pair():
    """``(code_verifier, code_challenge)`` for S256 (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, code_challenge(verifier)


def code_challenge(verifier):
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b'=').decode()


def session_binding(session_id):
    """What the state keeps of the browser session: a hash, never the session id itself."""
    return hashlib.sha256(('postcenter-oauth:%s' % (session_id or '')).encode()).hexdigest()[:32]


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b'=').decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


def sign_state(payload, secret, session_id, now):
    """The ``state`` of a sign-in: ``payload`` (the record, the provider, a nonce) with the session's binding and
    the time, signed with HMAC-SHA256 under ``secret``."""
    body = dict(payload, sid=session_binding(session_id), iat=int(now.timestamp()))
    data = _b64(json.dumps(body, sort_keys=True, separators=(',', ':')).encode())
    signature = hmac.new(secret.encode(), data.encode(), hashlib.sha256).digest()
    return '%s.%s' % (data, _b64(signature))


def read_state(state, secret, session_id, now, max_age=STATE_MAX_AGE):
    """The payload of a ``state`` made by ``sign_state``; ``OAuthFailure('state')`` if its signature is wrong, it
    is older than ``max_age`` or it was made in another browser session."""
    try:
        data, signature = (state or '').split('.')
        expected = hmac.new(secret.encode(), data.encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            raise ValueError('bad signature')
        payload = json.loads(_unb64(data).decode())
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        raise OAuthFailure('state', 'the state is not one of ours (%s)' % error)
    if not hmac.compare_digest(payload.get('sid', ''), session_binding(session_id)):
        raise OAuthFailure('state', 'the state belongs to another browser session')
    age = now.timestamp() - payload.get('iat', 0)
    if age > max_age.total_seconds() or age < -60:
        raise OAuthFailure('state', 'the state is too old')
    return payload


def authorization_url(authorize_url, client_id, redirect_uri, scopes, state, challenge, login_hint=None,
                      extra=None):
    """Where the administrator is sent to sign in."""
    params = {'response_type': 'code', 'client_id': client_id, 'redirect_uri': redirect_uri,
              'scope': ' '.join(scopes), 'state': state, 'code_challenge': challenge,
              'code_challenge_method': 'S256'}
    if login_hint:
        params['login_hint'] = login_hint
    params.update(extra or {})
    return '%s%s%s' % (authorize_url, '&' if '?' in authorize_url else '?', urlencode(params))


# ----------------------------------------------------------------------
# Tokens
# ----------------------------------------------------------------------

Tokens = namedtuple('Tokens', 'access_token refresh_token expiry scope id_token')


def needs_refresh(access_token, expiry, now, margin=REFRESH_MARGIN):
    """Whether the access token must be refreshed before use: none, no known expiry, or expiring within
    ``margin`` of ``now`` (so that a long fetch does not see it die midway)."""
    return not access_token or expiry is None or expiry - margin <= now


def tokens_from(answer, now, previous_refresh=None):
    """``Tokens`` from a token endpoint's JSON ``answer`` at ``now``. A refresh answer without a new refresh token
    keeps the previous one (Google does not rotate); one with a new one replaces it (Microsoft rotates)."""
    if not answer.get('access_token'):
        raise OAuthFailure('unknown', 'the token endpoint answered without an access token')
    try:
        lifetime = int(answer.get('expires_in') or 3600)
    except (TypeError, ValueError):
        lifetime = 3600
    return Tokens(answer['access_token'], answer.get('refresh_token') or previous_refresh,
                  now + datetime.timedelta(seconds=lifetime), answer.get('scope') or '', answer.get('id_token'))


def missing_scopes(granted, required):
    """The required mail scopes that the provider did not grant (``granted`` as it answered; none if it did not
    say). ``openid``, ``email`` and ``offline_access`` are not checked: providers often leave them out."""
    if not granted:
        return []
    given = {scope.lower() for scope in granted.split()}
    return [scope for scope in required if scope not in ('openid', 'email', 'offline_access')
            and scope.lower() not in given]


# Microsoft's AADSTS codes, and Google's error codes, by what the administrator must do about them
_MICROSOFT_CODES = (
    ('tenant', ('AADSTS50020', 'AADSTS90072', 'AADSTS700016', 'AADSTS50194', 'AADSTS90002', 'AADSTS500200')),
    ('policy', ('AADSTS65001', 'AADSTS90094', 'AADSTS90008', 'AADSTS53003', 'AADSTS50105', 'AADSTS65004')),
    ('scope', ('AADSTS70011', 'AADSTS650053', 'AADSTS65005')),
    ('client', ('AADSTS7000215', 'AADSTS7000218', 'AADSTS50011', 'AADSTS700054')),
    ('grant', ('AADSTS70008', 'AADSTS700082', 'AADSTS50173', 'AADSTS50076', 'AADSTS50078', 'AADSTS54005')),
)
_ERROR_CODES = {
    'access_denied': 'consent', 'consent_required': 'consent', 'interaction_required': 'consent',
    'invalid_grant': 'grant', 'invalid_scope': 'scope', 'invalid_client': 'client', 'unauthorized_client': 'client',
    'admin_policy_enforced': 'policy', 'org_internal': 'policy', 'disallowed_useragent': 'policy',
    'temporarily_unavailable': 'unavailable', 'server_error': 'unavailable',
}


def classify(error, description=''):
    """The ``OAuthFailure`` for a provider's ``error`` code and its description (Microsoft puts its AADSTS code
    there, which says more than the OAuth code)."""
    text = description or ''
    for kind, codes in _MICROSOFT_CODES:
        if any(code in text for code in codes):
            if kind == 'policy' and (error or '') == 'access_denied' and 'AADSTS65004' in text:
                kind = 'consent'  # the user declined to consent
            return OAuthFailure(kind, ('%s: %s' % (error, text)).strip(': '))
    return OAuthFailure(_ERROR_CODES.get(error or '', 'unknown'), ('%s: %s' % (error, text)).strip(': '))


def _post_token(token_url, form, timeout, http):
    """POST to the token endpoint; its JSON answer, or the ``OAuthFailure`` it means."""
    import requests
    http = http or requests
    try:
        response = http.post(token_url, data=form, timeout=timeout, headers={'Accept': 'application/json'})
    except requests.RequestException as error:
        raise OAuthFailure('unavailable', '%s: %s' % (type(error).__name__, error))
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    if response.status_code >= 500:
        raise OAuthFailure('unavailable', 'HTTP %s' % response.status_code)
    if response.status_code != 200 or 'error' in answer:
        raise classify(answer.get('error') or 'HTTP %s' % response.status_code, answer.get('error_description'))
    return answer


def exchange_code(token_url, client_id, client_secret, code, redirect_uri, verifier, now,
                  timeout=DEFAULT_TIMEOUT, http=None):
    """Trade the authorization ``code`` (and the PKCE verifier) for ``Tokens``."""
    answer = _post_token(token_url, {'grant_type': 'authorization_code', 'code': code, 'redirect_uri': redirect_uri,
                                     'client_id': client_id, 'client_secret': client_secret or '',
                                     'code_verifier': verifier}, timeout, http)
    return tokens_from(answer, now)


def refresh(token_url, client_id, client_secret, refresh_token, now, timeout=DEFAULT_TIMEOUT, http=None):
    """New ``Tokens`` for ``refresh_token``; the answer's new refresh token (rotation) is in them, and must be
    saved: the old one stops working. ``OAuthFailure('grant')`` when the refresh token is used, revoked or
    expired."""
    if not refresh_token:
        raise OAuthFailure('grant', 'no refresh token')
    answer = _post_token(token_url, {'grant_type': 'refresh_token', 'refresh_token': refresh_token,
                                     'client_id': client_id, 'client_secret': client_secret or ''}, timeout, http)
    return tokens_from(answer, now, previous_refresh=refresh_token)


def id_token_claims(id_token):
    """The claims of an ID token received straight from the token endpoint over TLS (OpenID Connect Core
    3.1.3.7 lets the client trust that channel instead of checking the signature); ``{}`` if unreadable."""
    try:
        return json.loads(_unb64(id_token.split('.')[1]).decode())
    except (AttributeError, IndexError, ValueError, UnicodeDecodeError):
        return {}


def mailbox_address(id_token=None, userinfo=None):
    """The signed-in mailbox's address: the ID token's ``email`` (or Microsoft's ``preferred_username``), else the
    userinfo answer's ``email``; lower case, or ``None``."""
    for claims in (id_token_claims(id_token) if id_token else {}, userinfo or {}):
        for key in ('email', 'preferred_username', 'upn'):
            value = claims.get(key)
            if value and '@' in value:
                return value.strip().lower()
    return None


def userinfo(userinfo_url, access_token, timeout=DEFAULT_TIMEOUT, http=None):
    """The userinfo endpoint's answer for ``access_token`` (``{}`` if it gives none)."""
    import requests
    http = http or requests
    try:
        response = http.get(userinfo_url, headers={'Authorization': 'Bearer ' + access_token}, timeout=timeout)
    except requests.RequestException as error:
        raise OAuthFailure('unavailable', '%s: %s' % (type(error).__name__, error))
    if response.status_code != 200:
        return {}
    try:
        return response.json()
    except ValueError:
        return {}


def same_mailbox(signed_in, expected):
    """Whether the signed-in address is the account's (addresses compare case-insensitively)."""
    return bool(signed_in) and (signed_in or '').strip().lower() == (expected or '').strip().lower()


def xoauth2_string(user, access_token):
    """The SASL XOAUTH2 initial response (before base64) for ``user`` (the mailbox: a shared mailbox's own
    address) and ``access_token``."""
    return 'user=%s\x01auth=Bearer %s\x01\x01' % (user, access_token)


def xoauth2_base64(user, access_token):
    return base64.b64encode(xoauth2_string(user, access_token).encode()).decode()
