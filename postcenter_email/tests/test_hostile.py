"""Hostile and malformed mail: each ends as a ticket (here: all of them), never silently gone."""
import base64
import os

from .common import IngestCase

HEAD = b'From: Cliente <cliente@example.net>\r\nTo: support@example.com\r\nDate: Mon, 30 Nov 2026 10:00:00 -0300\r\n'


HOSTILE_HTML = HEAD + (
    b'Subject: hostil\r\nMessage-ID: <hostile-%s@example.net>\r\nMIME-Version: 1.0\r\n'
    b'Content-Type: text/html; charset=utf-8\r\n\r\n'
    b'<html><head><script>steal(document.cookie)</script></head><body onload="steal()">'
    b'<p onclick="steal()">Hola</p><img src=x onerror=alert(1)><a href="javascript:steal()">pagar</a>'
    b'<a href="JaVaScRiPt:steal()">otra</a><iframe src="http://evil.example"></iframe>'
    b'<div style="width: expression(steal())">css</div><object data="x.swf"></object><embed src="x.swf">'
    b'<svg><script>steal()</script></svg></body></html>\r\n')


class TestHostileMessages(IngestCase):

    def ingest(self, raw):
        self.mailbox.append(raw)
        self.fetch()
        self.assertFalse(self.account.failed_ids, self.account.failed_ids.mapped('error'))
        ticket = self.tickets()
        self.assertEqual(len(ticket), 1)
        return ticket

    def test_no_message_id(self):
        raw = HEAD + b'Subject: sin identificador\r\n\r\nHola sin Message-ID\r\n'
        ticket = self.ingest(raw)
        self.assertIn('sin Message-ID', ticket.description)
        self.mailbox.append(raw)
        self.fetch()
        self.assertEqual(len(self.tickets()), 1, 'the same bytes again are the same message')

    def test_broken_mime_boundaries(self):
        raw = HEAD + (b'Subject: partes rotas\r\nMessage-ID: <broken-mime@example.net>\r\nMIME-Version: 1.0\r\n'
                      b'Content-Type: multipart/mixed; boundary="declared"\r\n\r\n'
                      b'--other\r\nContent-Type: text/plain\r\n\r\nTexto con limite equivocado\r\n'
                      b'--other\r\nContent-Type: application/pdf; name="x.pdf"\r\n'
                      b'Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK====\r\n')
        ticket = self.ingest(raw)
        self.assertEqual(ticket.name, 'partes rotas')

    def test_undeclared_8bit(self):
        raw = HEAD.replace(b'Cliente', 'José Núñez'.encode('utf-8')) + (
            'Subject: Reclamación urgente\r\nMessage-ID: <8bit@example.net>\r\n\r\n'
            'El envío llegó dañado.\r\n'.encode('utf-8'))
        ticket = self.ingest(raw)
        self.assertEqual(ticket.name, 'Reclamación urgente')
        self.assertEqual(ticket.partner_id.name, 'José Núñez')
        self.assertIn('llegó dañado', ticket.description)

    def test_undeclared_8bit_latin1(self):
        raw = HEAD + 'Subject: Año nuevo\r\nMessage-ID: <8bit-latin1@example.net>\r\n\r\nCañería rota\r\n'.encode(
            'latin-1')
        ticket = self.ingest(raw)
        self.assertEqual(ticket.name, 'Año nuevo')

    def test_iso_8859_1_body(self):
        raw = HEAD + (b'Subject: latin1\r\nMessage-ID: <latin1@example.net>\r\nMIME-Version: 1.0\r\n'
                      b'Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
                      + 'Pingüino con acción y corazón\r\n'.encode('iso-8859-1'))
        ticket = self.ingest(raw)
        self.assertIn('Pingüino con acción y corazón', ticket.description)

    def test_windows_1252_body(self):
        raw = HEAD + (b'Subject: cp1252\r\nMessage-ID: <cp1252@example.net>\r\nMIME-Version: 1.0\r\n'
                      b'Content-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
                      + '“Comillas” — cuesta 10 €\r\n'.encode('cp1252'))
        ticket = self.ingest(raw)
        self.assertIn('“Comillas” — cuesta 10 €', ticket.description)

    def test_rfc2047_subject_and_names(self):
        raw = (b'From: =?UTF-8?Q?Mar=C3=ADa_Jos=C3=A9?= <mj@example.net>\r\nTo: support@example.com\r\n'
               b'Subject: =?ISO-8859-1?Q?Factura_pendiente_=F1and=FA?= =?UTF-8?B?4oCUIHVyZ2VudGU=?=\r\n'
               b'Message-ID: <rfc2047@example.net>\r\n\r\ncuerpo\r\n')
        ticket = self.ingest(raw)
        self.assertEqual(ticket.name, 'Factura pendiente ñandú— urgente')
        self.assertEqual(ticket.partner_id.name, 'María José')

    def test_20_mb_attachment(self):
        payload = os.urandom(20 * 1024 * 1024)
        encoded = base64.encodebytes(payload)
        raw = HEAD + (b'Subject: archivo grande\r\nMessage-ID: <big@example.net>\r\nMIME-Version: 1.0\r\n'
                      b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
                      b'--b\r\nContent-Type: text/plain\r\n\r\nAdjunto el video\r\n'
                      b'--b\r\nContent-Type: video/mp4; name="video.mp4"\r\n'
                      b'Content-Disposition: attachment; filename="video.mp4"\r\n'
                      b'Content-Transfer-Encoding: base64\r\n\r\n' + encoded + b'\r\n--b--\r\n')
        ticket = self.ingest(raw)
        attachment = self.emails(ticket).attachment_ids
        self.assertEqual(attachment.datas_fname, 'video.mp4')
        self.assertEqual(attachment.file_size, len(payload))

    def test_2000_line_header(self):
        received = b''.join(b'Received: from relay%d.example.net by relay%d.example.net; '
                            b'Mon, 30 Nov 2026 10:00:00 -0300\r\n' % (n, n + 1) for n in range(1000))
        folded = b'X-Long: start\r\n' + b''.join(b'\tcontinuation line %d\r\n' % n for n in range(1000))
        raw = HEAD + received + folded + b'Subject: muchas cabeceras\r\nMessage-ID: <long@example.net>\r\n\r\nok\r\n'
        ticket = self.ingest(raw)
        self.assertEqual(ticket.name, 'muchas cabeceras')

    def test_html_only_with_hostile_markup(self):
        raw = HEAD + (b'Subject: html\r\nMessage-ID: <html@example.net>\r\nMIME-Version: 1.0\r\n'
                      b'Content-Type: text/html; charset=utf-8\r\n\r\n'
                      b'<html><body onload="steal()"><p>Hola</p><img src=x onerror=alert(1)>'
                      b'<iframe src="http://evil"></iframe></body></html>\r\n')
        ticket = self.ingest(raw)
        self.assertIn('Hola', ticket.description)
        for bad in ('onload', 'onerror', '<iframe', 'steal()'):
            self.assertNotIn(bad, ticket.description)

    def test_scripts_handlers_links_frames_and_css_never_reach_the_ticket(self):
        """By IMAP and by forwarding: the stored chatter body and the ticket description are harmless."""
        forwarding = self.env['postcenter.email.account'].create({
            'name': 'Ventas', 'email': 'ventas@acme.example', 'connection_type': 'forward'})
        self.mailbox.append(HOSTILE_HTML % b'imap')
        self.fetch()
        forwarding._store_forwarded([forwarding.forward_address], HOSTILE_HTML % b'forward')
        for ticket in (self.tickets(), self.tickets(forwarding)):
            self.assertEqual(len(ticket), 1)
            stored = [ticket.description, self.emails(ticket).body]
            for text in stored:
                self.assertIn('Hola', text)
                for bad in ('<script', 'steal(', 'onload', 'onerror', 'onclick', 'javascript:', '<iframe',
                            'expression(', '<object', '<embed'):
                    self.assertNotIn(bad, text.lower())

    def test_empty_message(self):
        ticket = self.ingest(b'\r\n')
        self.assertEqual(ticket.name, '(No subject)')
        self.assertFalse(ticket.partner_id)
