"""Deterministic, realistic helpdesk mail for the ingestion benchmark.

``generate(n, seed)`` returns ``n`` raw RFC 5322 messages (bytes, CRLF line ends), as a
support mailbox receives them from customers:

- about 40 % plain text, 40 % HTML with a text alternative, 20 % with one or two small
  attachments (PDF- or PNG-like bytes of 5 to 50 KB, some with accented file names);
- about 30 % replies to an earlier message of the set (``Re:`` subject, In-Reply-To and
  References), so conversations of several messages build up;
- mostly Spanish text with accents and ñ (8bit, quoted-printable or base64 bodies,
  RFC 2047 encoded subjects and names), some English;
- 200 distinct customers, some of them writing with a colleague in Cc.

The same ``seed`` gives the same bytes on every run, and the output is prefix-stable:
``generate(10000, s)[:2000] == generate(2000, s)`` (each message only depends on the
ones before it).

``helpdesk(n, seed)`` is the mix of a real helpdesk mailbox, for two accounts (support and sales):
about 70 % of new conversations from an address never seen before; 35 % replies, half of them
from a colleague of the customer (same company domain), with the customer in Cc or not; some
customers writing to both accounts. It returns ``[(account index, raw bytes)]``.
"""
import datetime
import random
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

SUPPORT = ('Soporte', 'soporte@bench.example')
CUSTOMERS = 200
REPLY_SHARE = 0.30
START = datetime.datetime(2024, 3, 4, 8, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-3)))

FIRST_NAMES = ['José', 'María', 'Íñigo', 'Begoña', 'Martín', 'Lucía', 'Sebastián', 'Inés', 'Ramón', 'Sofía',
               'Andrés', 'Ángela', 'Nicolás', 'Verónica', 'Joaquín', 'Mónica', 'Tomás', 'Raúl', 'Jesús', 'Noemí',
               'Paula', 'Diego', 'Camila', 'Valentina', 'Matías', 'John', 'Emily', 'Peter', 'Chloé', 'Zoë']
LAST_NAMES = ['García', 'Martínez', 'Muñoz', 'Peña', 'Núñez', 'Gómez', 'Pérez', 'Rodríguez', 'López', 'Sánchez',
              'Fernández', 'Ibáñez', 'Castaño', 'Rincón', 'Ortúzar', 'Smith', 'Brown', 'Olavarría', 'Díaz', 'Vergara']
DOMAINS = ['correo.example', 'empresa-andina.example', 'mail.example.com', 'clientes.example.org',
           'ferreteria-sur.example', 'example.net', 'tienda.example.cl', 'consultora.example.es']

SUBJECTS_ES = [
    'Problema con mi pedido nº {n}', 'No puedo iniciar sesión en la aplicación', 'Facturación incorrecta en {month}',
    'Devolución del producto {n}', 'Consulta sobre el envío a Ñuñoa', 'Cambio de dirección de despacho',
    'El pago con tarjeta fue rechazado', 'Solicitud de reembolso urgente', '¿Cuándo llega mi pedido?',
    'Error al descargar la factura electrónica', 'Información sobre garantía y reparación',
    'Cotización para {n} unidades', 'Reclamo: atención deficiente en la sucursal', 'Actualizar datos de facturación',
    'Contraseña olvidada', 'Pedido duplicado por error', 'Producto llegó dañado', 'Baja de la suscripción',
]
SUBJECTS_EN = ['Order {n} has not arrived', 'Cannot reset my password', 'Invoice question for {month}',
               'Refund request', 'Wrong item delivered', 'Account locked after update']
MONTHS = ['enero', 'febrero', 'marzo', 'abril', 'mayo', 'junio', 'julio', 'agosto', 'septiembre', 'octubre']

PARAGRAPHS_ES = [
    'Buenos días, les escribo porque hace más de una semana realicé una compra y todavía no recibo ninguna '
    'información sobre el despacho. ¿Podrían indicarme en qué estado está?',
    'Adjunto el comprobante de pago. El cargo aparece dos veces en el estado de cuenta de mi tarjeta, '
    'así que les pido por favor que revisen la situación y me devuelvan el monto duplicado.',
    'Intenté cambiar la contraseña desde la página, pero el enlace que llega al correo dice que expiró. '
    'Probé con otro navegador y el resultado es el mismo.',
    'El producto llegó con la caja rota y una pieza dañada. Necesito saber cómo hacer la devolución o el '
    'cambio; vivo en Ñuñoa y puedo llevarlo a la sucursal más cercana.',
    'Necesito la factura a nombre de la empresa, con el RUT correcto y la razón social completa. '
    'La que recibí tiene un error en la dirección.',
    'Quisiera saber si el equipo tiene garantía extendida y qué cubre exactamente: ¿incluye la batería?',
    'Gracias por la rápida respuesta. Sigo con el mismo problema después de seguir los pasos indicados.',
    'Les agradecería una solución pronta, ya que es la tercera vez que escribo por este tema.',
    'Mi número de cliente es {n}. Quedo atento a sus comentarios.',
]
PARAGRAPHS_EN = [
    'Hello, I placed an order last week and I still have no tracking information. Could you check it?',
    'I was charged twice for the same order; please refund the duplicate payment.',
    'The reset link in your email says it has expired, even when I click it right away.',
    'Thanks for your help, the issue is still there after following your instructions.',
]
SIGNATURES = ['Saludos cordiales,', 'Atentamente,', 'Muchas gracias,', 'Un saludo,', 'Regards,']


def _customers(rng):
    people, seen = [], set()
    while len(people) < CUSTOMERS:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        local = '%s.%s' % (_ascii(first), _ascii(last))
        address = '%s%s@%s' % (local, rng.randint(1, 99) if rng.random() < 0.5 else '', rng.choice(DOMAINS))
        if address in seen:
            continue
        seen.add(address)
        people.append(('%s %s' % (first, last), address, rng.random() < 0.85))  # (name, address, speaks Spanish)
    return people


def _ascii(text):
    table = str.maketrans('áéíóúüñÁÉÍÓÚÑçë', 'aeiouunAEIOUNce')
    return text.translate(table).lower()


def _blob(rng, size):
    return rng.getrandbits(8 * size).to_bytes(size, 'little')


def _attachment(rng, number):
    size = rng.randint(5 * 1024, 50 * 1024)
    if rng.random() < 0.5:
        data = b'%PDF-1.4\n%\xe2\xe3\xcf\xd3\n' + _blob(rng, size) + b'\n%%EOF\n'
        name = rng.choice(['factura_%d.pdf', 'boleta_%d.pdf', 'cotización_%d.pdf', 'comprobante_pago_%d.pdf'])
        return data, 'application', 'pdf', name % number
    data = b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR' + _blob(rng, size)
    name = rng.choice(['captura_%d.png', 'foto_daño_%d.png', 'screenshot-%d.png'])
    return data, 'image', 'png', name % number


def _text(rng, spanish, name, address, quoted=None):
    paragraphs = PARAGRAPHS_ES if spanish else PARAGRAPHS_EN
    chosen = rng.sample(paragraphs, rng.randint(1, 3))
    body = [p.format(n=rng.randint(10000, 99999)) for p in chosen]
    body.append('%s\n%s' % (rng.choice(SIGNATURES), name))
    text = '\n\n'.join(body) + '\n'
    if quoted:
        text += '\nEl %s, %s <%s> escribió:\n' % (quoted[0], name, address) + \
            ''.join('> %s\n' % line for line in quoted[1].splitlines())
    return text


def _html(text):
    parts = []
    for block in text.split('\n\n'):
        block = block.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
        parts.append('<p>%s</p>' % block.replace('\n', '<br>'))
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
            '<body style="font-family: Arial, sans-serif">%s</body></html>\n' % ''.join(parts))


def generate(n, seed=20240304):
    """``n`` raw messages (list of bytes), the same for the same ``seed``."""
    rng = random.Random(seed)
    people = _customers(rng)
    sent = []  # (message_id, references, subject, customer, text, date) of each message so far
    out = []
    when = START
    for index in range(n):
        when += datetime.timedelta(seconds=rng.randint(20, 900))
        parent = None
        if sent and rng.random() < REPLY_SHARE:
            parent = sent[rng.randrange(max(0, len(sent) - 300), len(sent))]
        if parent:
            customer = parent[3]
            subject = parent[2] if parent[2].startswith('Re: ') else 'Re: ' + parent[2]
            references = parent[1] + [parent[0]]
        else:
            customer = rng.choice(people)
            pool = SUBJECTS_ES if customer[2] else SUBJECTS_EN
            subject = rng.choice(pool).format(n=rng.randint(1000, 99999), month=rng.choice(MONTHS))
            references = []
        name, address, spanish = customer
        message_id = '<bench-%06d.%08x@%s>' % (index, rng.getrandbits(32), address.split('@')[1])
        quoted = (parent[5], parent[4]) if parent else None  # a follow-up quotes the customer's earlier mail
        text = _text(rng, spanish, name, address, quoted)

        msg = EmailMessage(policy=SMTP)
        msg['From'] = formataddr((name, address))
        msg['To'] = formataddr(SUPPORT)
        if rng.random() < 0.1:
            colleague = rng.choice(people)
            msg['Cc'] = formataddr(colleague[:2])
        msg['Subject'] = subject
        msg['Date'] = format_datetime(when)
        msg['Message-ID'] = message_id
        if references:
            msg['In-Reply-To'] = references[-1]
            msg['References'] = ' '.join(references[-10:])
        msg['X-Mailer'] = rng.choice(['Microsoft Outlook 16.0', 'Apple Mail (2.3731)', 'Thunderbird 115.8',
                                      'Gmail'])
        cte = rng.choice(['8bit', 'quoted-printable', 'base64'])
        msg.set_content(text, charset='utf-8', cte=cte)
        kind = rng.random()  # < 0.4 plain text, < 0.8 HTML + text, else with attachments (half with HTML)
        if 0.4 <= kind < 0.8 or (kind >= 0.8 and rng.random() < 0.5):
            msg.add_alternative(_html(text), subtype='html', charset='utf-8', cte=cte)
        if kind >= 0.8:
            for number in range(rng.choice([1, 1, 2])):
                data, maintype, subtype, filename = _attachment(rng, rng.randint(100, 9999) + number)
                msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        for count, part in enumerate(part for part in msg.walk() if part.is_multipart()):
            part.set_boundary('=_bench_%06d_%d_%08x' % (index, count, rng.getrandbits(32)))
        out.append(msg.as_bytes(policy=SMTP))
        sent.append((message_id, references, subject, customer, text, msg['Date']))
    return out


ACCOUNTS = [('Soporte', 'soporte@bench.example'), ('Ventas', 'ventas@bench.example')]
NEW_ADDRESS_SHARE = 0.70
HELPDESK_REPLY_SHARE = 0.35
SECOND_ACCOUNT_SHARE = 0.20


def _person(rng, domain, seen):
    while True:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        address = '%s.%s%d@%s' % (_ascii(first), _ascii(last), rng.randint(1, 999), domain)
        if address not in seen:
            seen.add(address)
            return ('%s %s' % (first, last), address, rng.random() < 0.85)


def _message(rng, index, sender, to, cc, subject, when, references, text):
    msg = EmailMessage(policy=SMTP)
    msg['From'] = formataddr(sender[:2])
    msg['To'] = formataddr(to)
    if cc:
        msg['Cc'] = ', '.join(formataddr(person[:2]) for person in cc)
    msg['Subject'] = subject
    msg['Date'] = format_datetime(when)
    message_id = '<desk-%06d.%08x@%s>' % (index, rng.getrandbits(32), sender[1].split('@')[1])
    msg['Message-ID'] = message_id
    if references:
        msg['In-Reply-To'] = references[-1]
        msg['References'] = ' '.join(references[-10:])
    cte = rng.choice(['8bit', 'quoted-printable', 'base64'])
    msg.set_content(text, charset='utf-8', cte=cte)
    kind = rng.random()
    if 0.4 <= kind < 0.8 or (kind >= 0.8 and rng.random() < 0.5):
        msg.add_alternative(_html(text), subtype='html', charset='utf-8', cte=cte)
    if kind >= 0.8:
        for number in range(rng.choice([1, 1, 2])):
            data, maintype, subtype, filename = _attachment(rng, rng.randint(100, 9999) + number)
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    for count, part in enumerate(part for part in msg.walk() if part.is_multipart()):
        part.set_boundary('=_desk_%06d_%d_%08x' % (index, count, rng.getrandbits(32)))
    return message_id, msg.as_bytes(policy=SMTP)


def helpdesk(n, seed=20240304, stats=None):
    """``n`` messages of a real helpdesk mix: ``[(account index, raw bytes)]``, the same for the same ``seed``.
    ``stats`` (a dict), if given, receives how many tickets came from a new address, and the other shares."""
    rng = random.Random(seed)
    seen, customers, companies = set(), [], {}  # companies: domain -> people of it
    threads = []  # (account, message ids, subject, customer, last text, last date)
    out, when = [], START
    counts = dict.fromkeys(['tickets', 'new_address', 'replies', 'colleague', 'colleague_cc', 'second_account'], 0)
    for index in range(n):
        when += datetime.timedelta(seconds=rng.randint(10, 400))
        if threads and rng.random() < HELPDESK_REPLY_SHARE:
            account, ids, subject, customer, last_text, last_date = thread = \
                threads[rng.randrange(max(0, len(threads) - 300), len(threads))]
            counts['replies'] += 1
            cc, sender = [], customer
            if rng.random() < 0.5:  # a colleague of the customer answers, with the customer in Cc or not
                domain = customer[1].split('@')[1]
                people = companies[domain]
                colleagues = [person for person in people if person != customer]
                if not colleagues or rng.random() < 0.5:
                    colleague = _person(rng, domain, seen)
                    people.append(colleague)
                else:
                    colleague = rng.choice(colleagues)
                sender = colleague
                if rng.random() < 0.5:
                    cc = [customer]
                    counts['colleague_cc'] += 1
                else:
                    counts['colleague'] += 1
            subject = subject if subject.startswith('Re: ') else 'Re: ' + subject
            text = _text(rng, sender[2], sender[0], sender[1], (last_date, last_text))
            message_id, raw = _message(rng, index, sender, ACCOUNTS[account], cc, subject, when, ids, text)
            thread_index = threads.index(thread)
            threads[thread_index] = (account, ids + [message_id], subject, customer, text, format_datetime(when))
        else:
            counts['tickets'] += 1
            if not customers or rng.random() < NEW_ADDRESS_SHARE:
                domain = 'cliente%d.%s' % (rng.randint(1, 10 ** 6), rng.choice(DOMAINS))
                customer = _person(rng, domain, seen)
                companies.setdefault(domain, []).append(customer)
                customers.append(customer)
                counts['new_address'] += 1
                account = 0 if rng.random() >= SECOND_ACCOUNT_SHARE else 1
            else:  # a known customer: often to the other account
                customer = rng.choice(customers)
                account = rng.choice([0, 1])
                counts['second_account'] += 1
            pool = SUBJECTS_ES if customer[2] else SUBJECTS_EN
            subject = rng.choice(pool).format(n=rng.randint(1000, 99999), month=rng.choice(MONTHS))
            text = _text(rng, customer[2], customer[0], customer[1])
            message_id, raw = _message(rng, index, customer, ACCOUNTS[account], [], subject, when, [], text)
            threads.append((account, [message_id], subject, customer, text, format_datetime(when)))
        out.append((account, raw))
    if stats is not None:
        stats.update(counts)
    return out


if __name__ == '__main__':
    import sys
    sample = generate(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
    sys.stdout.buffer.write(b'\r\n\r\n'.join(sample))
