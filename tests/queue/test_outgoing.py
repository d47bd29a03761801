"""Outgoing work off the ingest path: with an SMTP server that has stopped answering, every account is still fetched;
the automatic replies wait in their own jobs (channel ``root.postcenter_email_send``), and leave once the server
answers again."""
from tests.support.odoo_process import OdooProcess

from .conftest import DB_JOBS, STALLED, Cluster, StalledSink, clean_logs, fill, query, set_up, wait_until


def jobs(method, since):
    return [state for state, in query(DB_JOBS, """SELECT state FROM queue_job WHERE method_name = %s AND id > %s""",
                                      method, since)]


def test_a_stalled_smtp_server_never_holds_the_fetches(databases, dovecot):
    for index, login in enumerate(STALLED):
        fill(dovecot, login, 100 + index)
    sink = StalledSink().start()
    since = query(DB_JOBS, 'SELECT coalesce(max(id), 0) FROM queue_job')[0][0]
    clean_logs()
    cluster = None
    try:
        with databases['jobs']() as env:
            accounts = set_up(env, dovecot, sink, STALLED)
        cluster = Cluster().start()
        assert OdooProcess(DB_JOBS).run('cron')['ok']
        tickets = 'SELECT count(*) FROM helpdesk_ticket WHERE email_account_id = ANY(%s)'
        wait_until(lambda: jobs('_job_fetch', since).count('done') == len(STALLED), what='the fetches to end')
        assert query(DB_JOBS, tickets, list(accounts.values()))[0][0] == 3 * len(STALLED)
        # the replies wait for the server, in their own channel: two jobs at its capacity of 2, none done
        wait_until(lambda: sink.waiting == 2, what='the sending jobs to reach the stalled server')
        assert jobs('_job_send_notifications', since).count('started') == 2
        assert 'done' not in jobs('_job_send_notifications', since)
        assert sink.accepted == 0

        sink.release()  # the server answers again
        wait_until(lambda: jobs('_job_send_notifications', since) and
                   set(jobs('_job_send_notifications', since)) == {'done'}, what='the replies to leave')
        assert sink.accepted == 3 * len(STALLED)
    finally:
        if cluster:
            cluster.stop()
        sink.stop()
