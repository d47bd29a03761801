import pytest

from services import addresses


@pytest.mark.parametrize('typed, expected', [
    ('soporte@acme.cl', 'soporte@acme.cl'),
    ('  Soporte@ACME.CL  ', 'Soporte@acme.cl'),
    ('ventas+chile@Sub.Example.COM', 'ventas+chile@sub.example.com'),
    ('josé@Ñandú.cl', 'josé@ñandú.cl'),
])
def test_valid_addresses_are_normalised(typed, expected):
    assert addresses.normalize_address(typed) == expected


@pytest.mark.parametrize('typed, code', [
    ('', 'empty'),
    ('   ', 'empty'),
    (None, 'empty'),
    ('soporte.acme.cl', 'missing_at'),
    ('soporte@', 'invalid'),
    ('@acme.cl', 'invalid'),
    ('so porte@acme.cl', 'invalid'),
    ('soporte@acme..cl', 'invalid'),
    ('soporte@@acme.cl', 'invalid'),
    ('soporte@acme', 'invalid'),
])
def test_invalid_addresses_say_why(typed, code):
    with pytest.raises(addresses.InvalidAddress) as caught:
        addresses.normalize_address(typed)
    assert caught.value.code == code
    if code == 'invalid':
        assert caught.value.detail


def test_no_dns_lookup_is_made(monkeypatch):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError('a DNS lookup was made')
    monkeypatch.setattr(socket, 'getaddrinfo', no_network)
    assert addresses.normalize_address('a@domain-that-does-not-exist.example') == 'a@domain-that-does-not-exist.example'
