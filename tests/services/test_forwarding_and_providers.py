import re

from services import forwarding, providers


def test_slug_is_recognisable():
    assert forwarding.slug('Soporte.Chile@ACME.cl') == 'soporte-chile-acme-cl'
    assert forwarding.slug('josé@ñandú.cl') == 'jos-and-cl'
    assert forwarding.slug('@@@') == 'inbox'
    assert len(forwarding.slug('x' * 100 + '@example.com')) <= 40


def test_tokens_are_random_and_lower_case():
    tokens = {forwarding.new_token() for _ in range(200)}
    assert len(tokens) == 200
    assert all(re.fullmatch(r'[a-z0-9]{8}', token) for token in tokens)


def test_forward_address():
    assert forwarding.forward_address('Ventas@Acme.cl', 'k3x9q2ab', 'Help.Example.org') == \
        'ventas-acme-cl-k3x9q2ab@help.example.org'


def test_presets():
    gmail = providers.imap_preset('gmail')
    assert (gmail.host, gmail.port, gmail.ssl) == ('imap.gmail.com', 993, True)
    assert providers.imap_preset('custom') is None
    assert providers.guess_imap_preset('ana@GMAIL.com').key == 'gmail'
    assert providers.guess_imap_preset('ana@hotmail.com').key == 'outlook'
    assert providers.guess_imap_preset('ana@me.com').key == 'icloud'
    assert providers.guess_imap_preset('ana@acme.cl') is None
    assert providers.guess_imap_preset('') is None
