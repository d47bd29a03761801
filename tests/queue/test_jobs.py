"""The scheduled fetch as queue_job jobs, in real processes: the scheduled action enqueues one job per account,
queue_job's runner dispatches them through a load balancer to two Odoo servers sharing the database, and the
automatic replies leave by jobs of their own. Every message ends up exactly once, no account is left behind, a
failing account fails its own job only (in plain words, in queue_job's views), and the tickets and chatter are those
of the sequential scheduled action (the fallback without queue_job) on the same mailboxes."""
import pytest

from tests.support.odoo_process import OdooProcess

from .conftest import (BROKEN, DB_JOBS, DB_PLAIN, MAILBOXES, Cluster, clean_logs, query, results, sent, set_up,
                       wait_until)

FETCH = '_job_fetch'
SEND = '_job_send_notifications'
FETCHED = 'Fetched: the new mail of the account is in the helpdesk.'


def jobs(method):
    return query(DB_JOBS, """SELECT uuid, state, result, exc_info, identity_key, channel FROM queue_job
                              WHERE model_name = 'postcenter.email.account' AND method_name = %s""", method)


def settled():
    """Every job of the run has ended (done or failed), and the fetches have all been asked for."""
    (unfinished,), = query(DB_JOBS, "SELECT count(*) FROM queue_job WHERE state NOT IN ('done', 'failed')")
    return not unfinished and len(jobs(FETCH)) == len(MAILBOXES) + 2


@pytest.fixture(scope='module')
def job_run(databases, dovecot, sinks, mailboxes):
    """The scheduled action once on the job database, and everything it set going, until every job has ended."""
    with databases['jobs']() as env:
        accounts = set_up(env, dovecot, sinks['jobs'], mailboxes + [BROKEN])
        refused = env['postcenter.email.account'].create({  # its server refuses the password
            'name': 'Clave mala', 'email': 'clave-mala@example.com', 'connection_type': 'imap',
            'imap_host': '127.0.0.1', 'imap_port': dovecot.imap_port, 'imap_ssl': False, 'imap_user': MAILBOXES[0],
            'imap_password': 'no-es-esta', 'state': 'connected'}).id
    clean_logs()
    cluster = Cluster(fail_fetch=[accounts[BROKEN]]).start()
    try:
        cron = OdooProcess(DB_JOBS).run('cron')
        assert cron['ok'], cron
        wait_until(settled, what='every job to end')
        served = [cluster.jobs_run_by(0), cluster.jobs_run_by(1)]
    finally:
        cluster.stop()
    return {'accounts': accounts, 'refused': refused, 'served': served, 'results': results(DB_JOBS, accounts),
            'sent': [item for item in sent(sinks['jobs']) if 'is not working' not in item[1]],
            'alerts': [item for item in sent(sinks['jobs']) if 'is not working' in item[1]]}


def test_two_servers_fetch_twenty_accounts_each_message_once(job_run):
    fetches = {uuid: (state, result, identity) for uuid, state, result, _exc, identity, _channel in jobs(FETCH)}
    accounts = job_run['accounts']
    identities = {'postcenter_email.fetch.%d' % accounts[login]: login for login in MAILBOXES}
    # one job per account, in the Email channel's queue; none left behind
    done = {identities[identity] for state, result, identity in fetches.values()
            if identity in identities and (state, result) == ('done', FETCHED)}
    assert done == set(MAILBOXES)
    assert {channel for *_rest, channel in jobs(FETCH)} == {'root.postcenter_email'}
    # both servers ran fetches
    assert all(set(fetches) & served for served in job_run['served']), job_run['served']
    for login in MAILBOXES:
        tickets = job_run['results'][login]
        assert len(tickets) == 3, (login, tickets)
        chatter = [message_id for _name, _customer, emails, _replies in tickets for message_id in emails]
        assert len(chatter) == len(set(chatter)) == 5
        assert all(len(replies) == 1 for *_rest, replies in tickets)  # "ticket created", once per ticket
    # the automatic replies left by jobs of their own, each sent once
    sends = jobs(SEND)
    assert sends and {(state, channel) for _uuid, state, _result, _exc, _key, channel in sends} == \
        {('done', 'root.postcenter_email_send')}
    assert len(job_run['sent']) == len(set(job_run['sent'])) == 3 * len(MAILBOXES)


def test_a_server_failure_is_the_accounts_and_the_job_is_done_with_its_reason(job_run):
    identity = 'postcenter_email.fetch.%d' % job_run['refused']
    (state, result), = [(state, result) for _uuid, state, result, _exc, key, _channel in jobs(FETCH) if key == identity]
    (error,), = query(DB_JOBS, 'SELECT last_error FROM postcenter_email_account WHERE id = %s', job_run['refused'])
    assert error.startswith('The server 127.0.0.1 rejected the user name or password.')
    assert (state, result) == ('done', 'The account could not be fetched: ' + error)
    assert job_run['alerts'] == [('admin@example.com', 'Email account Clave mala is not working')]  # told once


def test_a_failing_account_fails_its_own_job_in_plain_words(job_run):
    identity = 'postcenter_email.fetch.%d' % job_run['accounts'][BROKEN]
    (state, exc_info), = [(state, exc) for _uuid, state, _result, exc, key, _channel in jobs(FETCH) if key == identity]
    assert state == 'failed'
    plain = ('Fetching the email account "Soporte roto" failed unexpectedly (forced failure of the test for account '
             '%d). No mail is lost: what was fetched is kept, the rest stays in the mailbox, and the next scheduled '
             'fetch tries again. If this keeps happening, send the job\'s Exception Information to your Odoo '
             'provider.'
             % job_run['accounts'][BROKEN])
    assert exc_info.rstrip().endswith('FailedJobError: ' + plain)
    # queue_job's own chatter on the failed job says the same (queue_job tells its managers with it)
    bodies = [body for body, in query(DB_JOBS, """
        SELECT m.body FROM mail_message m JOIN queue_job j ON m.model = 'queue.job' AND m.res_id = j.id
         WHERE j.identity_key = %s""", identity)]
    assert any(plain in body for body in bodies), bodies
    assert job_run['results'][BROKEN] == []


def test_same_tickets_and_chatter_as_the_sequential_scheduled_action(databases, dovecot, sinks, mailboxes, job_run):
    with databases['plain']() as env:
        assert 'queue.job' not in env.registry
        accounts = set_up(env, dovecot, sinks['plain'], mailboxes)
    assert OdooProcess(DB_PLAIN).run('cron')['ok']  # without queue_job it fetches every account itself, at once
    sequential = results(DB_PLAIN, accounts)
    assert all(len(tickets) == 3 for tickets in sequential.values())
    assert sequential == {login: job_run['results'][login] for login in MAILBOXES}
    assert sent(sinks['plain']) == job_run['sent']


def test_one_pending_job_per_account(databases, job_run):
    """The scheduled action running again before the runner took the jobs adds none: one pending job per account
    (no runner runs now)."""
    before = query(DB_JOBS, 'SELECT max(id) FROM queue_job')[0][0]
    for _run in range(2):
        assert OdooProcess(DB_JOBS).run('cron')['ok']
    added = query(DB_JOBS, 'SELECT state, method_name, identity_key FROM queue_job WHERE id > %s', before)
    assert sorted(added) == sorted(('pending', FETCH, 'postcenter_email.fetch.%d' % account_id)
                                   for account_id in job_run['accounts'].values())
    query(DB_JOBS, 'DELETE FROM queue_job WHERE id > %s', before)
