"""A self-signed certificate for localhost / 127.0.0.1, made with the openssl command."""
import os
import subprocess


def make_certificate(folder):
    """Write cert.pem and key.pem into ``folder``; return their paths."""
    cert, key = os.path.join(folder, 'cert.pem'), os.path.join(folder, 'key.pem')
    subprocess.run(
        ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
         '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
         '-keyout', key, '-out', cert],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


SYSTEM_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt'


def trust_bundle(cert_path, bundle_path):
    """A CA file with the system's authorities plus ``cert_path``; point ``SSL_CERT_FILE`` at it."""
    with open(bundle_path, 'w') as bundle:
        if os.path.exists(SYSTEM_CA_BUNDLE):
            with open(SYSTEM_CA_BUNDLE) as system:
                bundle.write(system.read())
        with open(cert_path) as cert:
            bundle.write(cert.read())
    return bundle_path
