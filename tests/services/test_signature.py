from services import signature

TEMPLATE = ('<p>{{agent_first_name}} {{agent_last_name}}<br>{{agent_job_title}}<br>'
            'Teléfono: {{agent_phone}}<br>Email: {{agent_email}}</p>')


def test_full_signature():
    values = {'agent_first_name': 'Ana', 'agent_last_name': 'Pérez', 'agent_job_title': 'Ejecutiva',
              'agent_phone': '+56 9 1234 5678', 'agent_email': 'ana@acme.cl'}
    assert signature.render(TEMPLATE, values) == \
        '<p>Ana Pérez<br>Ejecutiva<br>Teléfono: +56 9 1234 5678<br>Email: ana@acme.cl</p>'


def test_missing_values_leave_no_placeholder_nor_label():
    values = {'agent_first_name': 'Ana', 'agent_last_name': '', 'agent_email': 'ana@acme.cl'}
    rendered = signature.render(TEMPLATE, values)
    assert '{{' not in rendered and 'Teléfono' not in rendered
    assert rendered == '<p>Ana <br>Email: ana@acme.cl</p>'


def test_values_are_escaped():
    assert signature.render('{{agent_job_title}}', {'agent_job_title': '<script>x</script>'}) == \
        '&lt;script&gt;x&lt;/script&gt;'


def test_paragraph_lines():
    rendered = signature.render('<p>Saludos</p><p>Tel: {{agent_phone}}</p>', {})
    assert rendered == '<p>Saludos</p><p></p>'


def test_international_phone():
    assert signature.international_phone('612345678', 'es') == '+34 612 34 56 78'
    assert signature.international_phone('+34 612 34 56 78') == '+34 612 34 56 78'
    assert signature.international_phone('call me') == 'call me'
    assert signature.international_phone('') == ''


def test_split_name():
    assert signature.split_name('Ana María Pérez') == ('Ana', 'María Pérez')
    assert signature.split_name('Ana') == ('Ana', '')
