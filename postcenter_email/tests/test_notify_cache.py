"""A reply's notification inside one of the addon's batches keeps the record cache of everything but the messages."""
from odoo import SUPERUSER_ID
from odoo.tests.common import TransactionCase


class TestNotifyCache(TransactionCase):

    def setUp(self):
        super().setUp()
        self.customer = self.env['res.partner'].create({'name': 'Ana Cliente', 'email': 'ana@cliente.example'})
        self.bystander = self.env['res.partner'].create({'name': 'Otro Contacto'})
        self.ticket = self.env['helpdesk.ticket'].create({'name': 'Caché', 'description': 'x',
                                                          'partner_id': self.customer.id})
        self.first = self.ticket.message_post(body='primero', message_type='email', subtype='mail.mt_comment',
                                              author_id=self.customer.id)
        self.agent = self.env['res.users'].with_context(no_reset_password=True).create({
            'name': 'Agente Caché', 'login': 'pc_cache_agent', 'email': 'agente@empresa.example',
            'groups_id': [(6, 0, [self.env.ref('base.group_user').id,
                                  self.env.ref('helpdesk_mgmt.group_helpdesk_user').id])]})
        self.elsewhere = self.env['mail.message'].create({'body': 'otro mensaje', 'message_type': 'comment'})

    def cached(self, record, name):
        return self.env.cache.contains(record, record._fields[name])

    def reply(self, env):
        """A reply posted in the ticket from ``env``, with the bystander's name and another message's body read
        (in the cache) just before."""
        self.assertTrue(self.bystander.with_env(env).name and self.elsewhere.body)
        self.assertTrue(self.cached(self.bystander.with_env(env), 'name'))
        # as the fetch posts it: the author is not subscribed (``message_subscribe`` empties the whole cache too)
        ticket = self.ticket.with_env(env).with_context(mail_create_nosubscribe=True)
        message = ticket.message_post(body='respuesta', message_type='email', subtype='mail.mt_comment',
                                      author_id=self.customer.id)
        self.assertEqual(message.parent_id, self.first, 'a reply has a parent: Odoo empties the cache')
        return message

    def test_inside_a_batch_as_superuser_only_the_messages_cache_is_emptied(self):
        env = self.env(context=dict(self.env.context, postcenter_notify_later=[]))
        self.assertEqual(env.uid, SUPERUSER_ID)
        self.reply(env)
        self.assertTrue(self.cached(self.bystander.with_env(env), 'name'), 'kept through the notification')
        self.assertFalse(self.cached(self.elsewhere, 'body'), "the messages' cache is emptied")

    def test_outside_a_batch_odoo_empties_the_whole_cache(self):
        self.reply(self.env)
        self.assertFalse(self.cached(self.bystander, 'name'))
        self.assertFalse(self.cached(self.elsewhere, 'body'))

    def test_a_new_messages_ticket_keeps_its_row_cached_inside_a_batch_only(self):
        """Odoo empties a new message's record whole (outside a batch, or as another user); inside a batch as the
        superuser, its messages are emptied, its row is kept."""
        batch = self.env(context=dict(self.env.context, postcenter_notify_later=[]))
        for env in (self.env, self.env(user=self.agent.id, context=batch.context)):
            ticket = self.ticket.with_env(env)
            self.assertTrue(ticket.name)
            self.first.with_env(env)._invalidate_documents()
            self.assertFalse(self.cached(ticket, 'name'))
        ticket = self.ticket.with_env(batch)
        self.assertTrue(ticket.name and ticket.message_ids)
        self.first.with_env(batch)._invalidate_documents()
        self.assertTrue(self.cached(ticket, 'name'))
        self.assertFalse(self.cached(ticket, 'message_ids'))

    def test_another_user_inside_a_batch_empties_the_whole_cache(self):
        env = self.env(user=self.agent.id, context=dict(self.env.context, postcenter_notify_later=[]))
        self.reply(env)
        self.assertFalse(self.cached(self.bystander.with_env(env), 'name'))

    def test_other_invalidations_are_odoos(self):
        env = self.env(context=dict(self.env.context, postcenter_messages_cache_only=True))
        self.assertTrue(self.bystander.with_env(env).name)
        self.env['mail.message'].with_env(env).invalidate_cache(['body'], self.elsewhere.ids)
        self.assertTrue(self.cached(self.bystander, 'name'))
        self.env['res.partner'].with_env(env).invalidate_cache()
        self.assertFalse(self.cached(self.bystander, 'name'), 'a whole invalidation by another model is whole')
