"""Raw messages parsed as Python's parser parses them, big attachments kept out of its line-by-line copies
(services.rfc822)."""
import base64
import email
import email.parser
import email.policy
import os
import random
from email.message import EmailMessage

from services import rfc822


def stdlib(raw):
    return email.message_from_bytes(raw, policy=email.policy.compat32)


def same(raw):
    """``rfc822.load`` gives what the standard parser gives: structure, headers, every payload decoded."""
    ours, theirs = rfc822.load(raw), stdlib(raw)
    assert ours.as_bytes() == theirs.as_bytes()
    assert [(part.get_content_type(), part.items(), None if part.is_multipart() else part.get_payload(decode=True))
            for part in ours.walk()] == \
        [(part.get_content_type(), part.items(), None if part.is_multipart() else part.get_payload(decode=True))
         for part in theirs.walk()]
    return ours


def with_attachment(size, text='Adjunto el archivo.'):
    message = EmailMessage()
    message['From'], message['To'], message['Subject'] = 'Ana <ana@cliente.cl>', 'soporte@empresa.cl', 'Archivo'
    message.set_content(text)
    message.add_attachment(random.Random(size).randbytes(size) if hasattr(random.Random, 'randbytes')
                           else os.urandom(size), maintype='application', subtype='pdf', filename='a.pdf')
    message.add_attachment(b'segundo', maintype='text', subtype='plain', filename='b.txt')
    return message.as_bytes()


def test_a_big_attachment_is_set_aside_and_put_back_whole():
    raw = with_attachment(3 * 1024 * 1024)
    compact, runs = rfc822._set_aside(raw)
    assert len(runs) == 1 and len(compact) < 10000, 'the parser sees a token, not 4 MB of lines'
    same(raw)
    same(raw.replace(b'\r\n', b'\n'))  # bare line feeds, as some servers store mail


def test_small_mail_and_base64_written_in_a_body_are_parsed_as_they_are():
    same(with_attachment(1000))
    pasted = base64.encodebytes(os.urandom(400 * 1024)).decode('ascii')
    message = EmailMessage()
    message['Subject'] = 'Pego el certificado'
    message.set_content('Este es el certificado:\n' + pasted + '\nSaludos')
    raw = message.as_bytes()
    assert rfc822._set_aside(raw)[1], 'the pasted block is set aside too'
    assert 'certificado:\n' + pasted + '\nSaludos' in same(raw).get_payload(decode=True).decode()
    # a message that is one block of base64 characters, with no headers, is still one body
    same(base64.encodebytes(os.urandom(400 * 1024)))


def test_headers_alone_are_read_without_the_body():
    raw = with_attachment(2 * 1024 * 1024)
    for sample in (raw, raw.replace(b'\r\n', b'\n'), b'Subject: solo cabeceras', b'Subject: x\n\ncuerpo'):
        ours = rfc822.load(sample, headers_only=True)
        theirs = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(sample)
        assert ours.items() == theirs.items()
