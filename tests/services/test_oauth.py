"""OAuth 2.0 decisions: PKCE, the signed state, when to refresh, rotation, error kinds, the XOAUTH2 string."""
import base64
import datetime
import json

import pytest

from services import oauth

NOW = datetime.datetime(2026, 12, 1, 10, 0, 0)
SECRET = 'database-secret'


def test_pkce_challenge_is_the_s256_of_the_verifier():
    verifier, challenge = oauth.pkce_pair()
    assert 43 <= len(verifier) <= 128
    assert challenge == oauth.code_challenge(verifier)
    # RFC 7636 appendix B
    assert oauth.code_challenge('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk') == \
        'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'


def test_state_round_trip_carries_the_record():
    state = oauth.sign_state({'model': 'account', 'id': 7, 'nonce': 'n'}, SECRET, 'session-1', NOW)
    payload = oauth.read_state(state, SECRET, 'session-1', NOW + datetime.timedelta(minutes=5))
    assert (payload['model'], payload['id'], payload['nonce']) == ('account', 7, 'n')
    assert 'session-1' not in base64.urlsafe_b64decode(state.split('.')[0] + '==').decode()


@pytest.mark.parametrize('change', ['tampered', 'other_secret', 'other_session', 'too_old', 'garbage'])
def test_a_state_that_is_not_ours_is_refused(change):
    state = oauth.sign_state({'model': 'account', 'id': 7}, SECRET, 'session-1', NOW)
    secret, session, now = SECRET, 'session-1', NOW
    if change == 'tampered':
        data, signature = state.split('.')
        body = json.loads(base64.urlsafe_b64decode(data + '=' * (-len(data) % 4)))
        body['id'] = 8
        state = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b'=').decode() + '.' + signature
    elif change == 'other_secret':
        secret = 'another'
    elif change == 'other_session':
        session = 'session-2'
    elif change == 'too_old':
        now = NOW + datetime.timedelta(hours=1)
    else:
        state = 'not-a-state'
    with pytest.raises(oauth.OAuthFailure) as failure:
        oauth.read_state(state, secret, session, now)
    assert failure.value.kind == 'oauth_state'


def test_authorization_url_asks_for_code_with_pkce():
    profile = oauth.profile('microsoft')
    url = oauth.authorization_url(oauth.endpoint(profile.authorize_url, 'common'), 'client', 'https://h/cb',
                                  profile.scopes, 'STATE', 'CHALLENGE', login_hint='a@b.cl',
                                  extra=profile.extra_params)
    assert url.startswith('https://login.microsoftonline.com/common/oauth2/v2.0/authorize?')
    for part in ('response_type=code', 'code_challenge=CHALLENGE', 'code_challenge_method=S256', 'state=STATE',
                 'IMAP.AccessAsUser.All', 'SMTP.Send', 'offline_access', 'login_hint=a%40b.cl'):
        assert part in url


def test_default_tenant_is_organizations():
    assert oauth.endpoint(oauth.profile('microsoft').token_url, '') == \
        'https://login.microsoftonline.com/organizations/oauth2/v2.0/token'
    assert oauth.profile('google').scopes[0] == 'https://mail.google.com/'


def test_provider_is_guessed_from_public_addresses():
    assert oauth.guess_provider('ana@gmail.com') == 'google'
    assert oauth.guess_provider('ana@Hotmail.com') == 'microsoft'
    assert oauth.guess_provider('ana@outlook.com') == 'microsoft'
    assert oauth.guess_provider('ana@empresa.cl') is None


def test_refresh_before_expiry():
    expiry = NOW + datetime.timedelta(minutes=30)
    assert not oauth.needs_refresh('tok', expiry, NOW)
    assert oauth.needs_refresh('tok', expiry, NOW + datetime.timedelta(minutes=26))
    assert oauth.needs_refresh('tok', None, NOW)
    assert oauth.needs_refresh(False, expiry, NOW)


def test_rotated_refresh_token_replaces_the_old_one_and_google_keeps_it():
    rotated = oauth.tokens_from({'access_token': 'a2', 'refresh_token': 'r2', 'expires_in': 3599}, NOW, 'r1')
    assert (rotated.refresh_token, rotated.expiry) == ('r2', NOW + datetime.timedelta(seconds=3599))
    kept = oauth.tokens_from({'access_token': 'a2', 'expires_in': 3599}, NOW, 'r1')
    assert kept.refresh_token == 'r1'


@pytest.mark.parametrize('error, description, kind', [
    ('access_denied', 'The user denied', 'oauth_consent'),
    ('invalid_grant', 'Token has been expired or revoked.', 'oauth_grant'),
    ('invalid_grant', 'AADSTS700082: The refresh token has expired due to inactivity.', 'oauth_grant'),
    ('invalid_request', "AADSTS50020: User account 'x@live.com' from identity provider does not exist in tenant",
     'oauth_tenant'),
    ('invalid_client', 'AADSTS7000215: Invalid client secret provided.', 'oauth_client'),
    ('access_denied', 'AADSTS65004: User declined to consent to access the app.', 'oauth_consent'),
    ('consent_required', 'AADSTS90094: The grant requires admin permission.', 'oauth_policy'),
    ('admin_policy_enforced', '', 'oauth_policy'),
    ('invalid_scope', 'AADSTS70011: The provided value for scope is not valid.', 'oauth_scope'),
    ('server_error', '', 'oauth_unavailable'),
    ('weird', '', 'oauth_unknown'),
])
def test_provider_errors_are_sorted_by_what_to_do(error, description, kind):
    failure = oauth.classify(error, description)
    assert failure.kind == kind
    assert failure.transient == (kind == 'oauth_unavailable')


def test_missing_mail_scope_is_found():
    required = oauth.profile('google').scopes
    assert oauth.missing_scopes('openid email', required) == ['https://mail.google.com/']
    assert oauth.missing_scopes('https://mail.google.com/ openid', required) == []
    assert oauth.missing_scopes('', required) == []


def test_mailbox_address_from_id_token_or_userinfo():
    claims = base64.urlsafe_b64encode(json.dumps({'preferred_username': 'Ana@Empresa.onmicrosoft.com'}).encode())
    id_token = 'e30.%s.sig' % claims.rstrip(b'=').decode()
    assert oauth.mailbox_address(id_token=id_token) == 'ana@empresa.onmicrosoft.com'
    assert oauth.mailbox_address(userinfo={'email': 'ana@gmail.com'}) == 'ana@gmail.com'
    assert oauth.mailbox_address(id_token='broken', userinfo={}) is None
    assert oauth.same_mailbox('ANA@gmail.com', 'ana@gmail.com')
    assert not oauth.same_mailbox(None, 'ana@gmail.com')


def test_xoauth2_string():
    assert oauth.xoauth2_string('compartido@empresa.cl', 'TOKEN') == \
        'user=compartido@empresa.cl\x01auth=Bearer TOKEN\x01\x01'
    assert base64.b64decode(oauth.xoauth2_base64('a@b.cl', 'T')) == b'user=a@b.cl\x01auth=Bearer T\x01\x01'
