"""Who is sent a copy of an incoming email: the agents following the ticket, never the customer or outsiders."""
# These tests commit Odoo's test cursor (a savepoint in test mode), so that the code under test sees what
# they wrote from the cursors it opens itself, as it would in production.
# pylint: disable=invalid-commit

from unittest import mock

from odoo import models

from odoo.addons.mail.models.mail_mail import MailMail as CoreMailMail

from .common import make_email, read_spool, real_smtp_delivery, reply_to
from .test_replies import ProcessDied, ReplyCase


class FollowedTicketCase(ReplyCase):
    """A ticket of Ana's, followed by Ana, by a second contact of hers and by an agent who wants emails."""

    def setUp(self):
        super().setUp()
        self.agent = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Andrea Agente', 'login': 'pc_recipients_agent', 'email': 'andrea@empresa.example',
            'notification_type': 'email',
            'groups_id': [(6, 0, [self.env.ref('helpdesk_mgmt.group_helpdesk_user').id])]})
        self.contact = self.env['res.partner'].create({'name': 'Pedro Pérez', 'email': 'pedro@cliente.cl'})
        self.ticket.message_subscribe(partner_ids=(self.agent.partner_id | self.contact).ids)
        self.mark = len(read_spool(self.spool))

    def colleague_writes(self, cc=None):
        message = reply_to(self.first, body='Soy Luis, colega de Ana: el pedido sigue sin llegar.',
                           sender='Luis Soto <luis@cliente.cl>')
        if cc:
            message['Cc'] = cc
        return message

    def forwarded_ticket(self, deliver):
        """A forwarding account, Ana's first email to it delivered by ``deliver(account, raw)`` (which returns the
        ticket id), and its ticket followed like the IMAP one; the mail sent until then is not counted."""
        account = self.env['postcenter.email.account'].create({
            'name': 'Ventas', 'email': 'ventas@acme.example', 'connection_type': 'forward'})
        first = make_email(subject='Cotización', sender='Ana Pérez <ana@cliente.cl>', to=account.forward_address)
        ticket = self.env['helpdesk.ticket'].browse(deliver(account, first.as_bytes()))
        ticket.message_subscribe(partner_ids=(self.agent.partner_id | self.contact).ids)
        self.cr.commit()
        self.mark = len(read_spool(self.spool))
        return account, first, ticket

    def delivered(self):
        """Recipients of the mail that really left since set-up (the queue processed as Odoo's cron does)."""
        self.cr.commit()
        with real_smtp_delivery():
            self.env['mail.mail'].process_email_queue()
        return sorted(address for _from, rcpt, _message in read_spool(self.spool)[self.mark:] for address in rcpt)


class TestIncomingEmailRecipients(FollowedTicketCase):

    def test_by_imap_only_the_following_agent_is_told(self):
        self.mailbox.append(self.colleague_writes())
        with real_smtp_delivery():
            self.fetch()
        self.assertEqual(len(self.emails(self.ticket)), 2, 'the email is on the ticket')
        self.assertEqual(self.delivered(), ['andrea@empresa.example'])

    def test_with_the_customer_in_copy_she_gets_no_second_copy(self):
        self.mailbox.append(self.colleague_writes(cc='Ana Pérez <ana@cliente.cl>'))
        with real_smtp_delivery():
            self.fetch()
        self.assertEqual(self.delivered(), ['andrea@empresa.example'])

    def test_by_forwarding_only_the_following_agent_is_told(self):
        """What the inbound SMTP server calls for a forwarding address."""
        account, first, ticket = self.forwarded_ticket(
            lambda account, raw: account._store_forwarded([account.forward_address], raw))
        with real_smtp_delivery():
            account._store_forwarded([account.forward_address], reply_to(first, sender='luis@cliente.cl').as_bytes())
        self.assertEqual(len(self.emails(ticket)), 2)
        self.assertEqual(self.delivered(), ['andrea@empresa.example'])

    def test_by_odoos_mail_gateway_only_the_following_agent_is_told(self):
        account, first, ticket = self.forwarded_ticket(
            lambda account, raw: self.env['mail.thread'].message_process(False, raw))
        with real_smtp_delivery():
            self.env['mail.thread'].message_process(False, reply_to(first, sender='luis@cliente.cl').as_bytes())
        self.assertEqual(len(self.emails(ticket)), 2)
        self.assertEqual(self.delivered(), ['andrea@empresa.example'])

    def test_an_agents_answer_still_reaches_the_customer_and_her_contact(self):
        """The ordinary path: what an agent writes goes to the followers outside, as Odoo sends it."""
        with real_smtp_delivery():
            self.ticket.sudo(self.agent).message_post(body='Lo revisamos', message_type='comment',
                                                      subtype='mail.mt_comment')
        self.assertEqual(self.delivered(), ['ana@cliente.cl', 'pedro@cliente.cl'])

    def test_email_on_a_ticket_of_no_email_account_is_notified_as_odoo_does(self):
        ticket = self.env['helpdesk.ticket'].create({'name': 'Otro canal', 'description': 'x'})
        ticket.message_subscribe(partner_ids=(self.agent.partner_id | self.contact).ids)
        with real_smtp_delivery():
            ticket.message_post(body='Un email', message_type='email', subtype='mail.mt_comment',
                                author_id=self.env['res.partner'].create({'name': 'Luis', 'email': 'luis@x.cl'}).id)
        self.assertEqual(self.delivered(), ['andrea@empresa.example', 'pedro@cliente.cl'])

    def test_a_fetched_batch_emails_the_agent_itself_once_committed(self):
        """The notifications of a fetched batch leave in the fetch, once the batch is committed (not left for the
        mail queue), each once; the emails are those Odoo writes."""
        self.mailbox.append(self.colleague_writes(), reply_to(self.first, body='Otra consulta: la factura.'))
        with real_smtp_delivery():
            self.fetch()
        sent = read_spool(self.spool)[self.mark:]
        self.assertEqual(sorted(address for _from, rcpt, _message in sent for address in rcpt),
                         ['andrea@empresa.example', 'andrea@empresa.example'])
        self.assertEqual(sorted(str(message['Subject']) for _from, _rcpt, message in sent), ['Re: Mi pedido'] * 2)
        self.assertIn('colega de Ana', ''.join(message.get_body(('html', 'plain')).get_content()
                                               for _from, _rcpt, message in sent))
        self.assertFalse(self.env['mail.mail'].search([('state', '=', 'outgoing')]), 'nothing left for the queue')
        self.assertEqual(self.delivered(), ['andrea@empresa.example'] * 2, 'and nothing sent twice')


class TestSentEmailsDeletedTogether(FollowedTicketCase):
    """Odoo deletes a notification email once it is sent; the emails of one batch are deleted together after it."""

    def notifications(self):
        return self.env['mail.mail'].sudo().search([('model', '=', 'helpdesk.ticket'), ('res_id', '=', self.ticket.id),
                                                    ('notification', '=', True)])

    def test_a_batchs_sent_emails_are_deleted_together_once_sent(self):
        self.mailbox.append(self.colleague_writes(), reply_to(self.first, body='Otra consulta: la factura.'))
        with mock.patch.object(CoreMailMail, 'unlink', autospec=True, side_effect=CoreMailMail.unlink) as unlink, \
                real_smtp_delivery():
            self.fetch()
        self.assertEqual(len(read_spool(self.spool)) - self.mark, 2, 'both emails left')
        self.assertEqual([len(call[0][0]) for call in unlink.call_args_list], [2], 'one deletion, of both')
        self.assertFalse(self.notifications(), 'deleted, as Odoo deletes a sent notification')
        self.assertEqual(len(self.emails(self.ticket)), 3, 'the messages stay in the chatter')

    def test_a_batchs_emails_are_sent_in_one_environment(self):
        """Each email is claimed and sent in transactions of its own, on one cursor for the batch: the emails' rows
        are read together, and their recipient (the same agent) once, rather than on a new cursor for each."""
        self.mailbox.append(self.colleague_writes(), reply_to(self.first, body='Otra consulta: la factura.'))
        reads = []
        core_read = models.BaseModel._read_from_database
        sending = type(self.env['mail.mail'])._postcenter_send_on_server

        def read(records, field_names, inherited_field_names=[]):  # pylint: disable=dangerous-default-value
            reads.append((records._name, set(records.ids), {records._fields[name].type for name in field_names}))
            return core_read(records, field_names, inherited_field_names)

        def send_on_server(mails, *args):
            mails.invalidate_cache()  # in tests every cursor is the test's, with its cache: emptied, as a new one's
            with mock.patch.object(models.BaseModel, '_read_from_database', autospec=True, side_effect=read):
                return sending(mails, *args)
        with mock.patch.object(type(self.env['mail.mail']), '_postcenter_send_on_server', autospec=True,
                               side_effect=send_on_server), real_smtp_delivery():
            self.fetch()
        self.assertEqual(len(read_spool(self.spool)) - self.mark, 2, 'both emails left')
        mails = [(ids, types) for name, ids, types in reads if name == 'mail.mail']
        self.assertEqual(len(mails[0][0]), 2, 'both rows read at once')
        self.assertEqual([types for ids, types in mails[1:]], [{'many2many'}] * 2,
                         'then only their recipients, which Odoo reads in a context of its own for each email')
        self.assertEqual(len([ids for name, ids, types in reads if name == 'res.partner' and
                              self.agent.partner_id.id in ids]), 1, 'the agent read once for both')

    def test_emails_the_sending_cursor_does_not_see_are_left_to_the_caller(self):
        """An email its caller has not committed yet is not seen by the sending's cursor: reading the batch's rows
        together leaves it out, without an error (it is then sent in the caller's transaction)."""
        Mail = self.env['mail.mail'].sudo()
        mail = Mail.create({'email_to': 'someone@example.com', 'subject': 'Hola', 'body_html': '<p>x</p>'})
        unseen = mail.id + 1000  # as another cursor sees a row not committed yet: not there
        batch = Mail.browse([unseen, mail.id])
        batch.invalidate_cache()
        batch._postcenter_read_together()
        self.assertTrue(self.env.cache.contains(mail, mail._fields['state']), 'the email it sees is read')
        self.assertEqual(batch.exists(), mail)

    def test_an_email_whose_outcome_was_not_committed_is_kept(self):
        """The server accepted it, then the process died before the outcome was committed: the email stays marked
        as interrupted, for a person to check, and is not deleted with the batch's sent emails."""
        self.mailbox.append(self.colleague_writes())
        with mock.patch.object(type(self.env['mail.mail']), '_postcenter_after_send', side_effect=ProcessDied()), \
                real_smtp_delivery(), self.assertRaises(ProcessDied):
            self.fetch()
        self.cr.rollback()
        mail = self.notifications()
        self.assertEqual(len(read_spool(self.spool)) - self.mark, 1)
        self.assertEqual((len(mail), mail.state), (1, 'exception'))
        self.assertIn('interrupted', mail.failure_reason)

    def test_outside_a_batch_odoo_deletes_at_once(self):
        """The ordinary path: an email deleted by anyone else goes at once."""
        mail = self.env['mail.mail'].sudo().create({'email_to': 'someone@example.com', 'subject': 'Hola',
                                                    'body_html': '<p>x</p>'})
        mail.unlink()
        self.assertFalse(mail.exists())


class TestTemplatesCompiledOnce(ReplyCase):
    """Mail templates: the compiled template of a text is reused, with the same output."""

    def test_the_same_text_renders_the_same_compiled_once(self):
        from odoo.addons.mail.models import mail_template as core
        text = '<p>${object.name} · ${ctx.get("extra", "")}</p>'
        Template = self.env['mail.template']
        first = Template.render_template(text, 'helpdesk.ticket', [self.ticket.id])
        cache = core.mako_template_env.from_string.cache
        compiled = cache[text]
        again = Template.with_context(extra='x').render_template(text, 'helpdesk.ticket', [self.ticket.id])
        self.assertIs(cache[text], compiled)
        self.assertEqual(first[self.ticket.id], '<p>Mi pedido · </p>')
        self.assertEqual(again[self.ticket.id], '<p>Mi pedido · x</p>')
        self.assertEqual(core.mako_template_env.from_string(text).render(object=self.ticket, ctx={}),
                         first[self.ticket.id], "outside the rendering, Jinja compiles as before: the same text")
