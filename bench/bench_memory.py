"""Memory benchmark: the peak resident memory of the Odoo process that fetches a mailbox.

What is measured: the resident memory (RSS) of a child process (``tests/support/odoo_process.py --memory``) that
runs **Fetch Now** on one IMAP account, as an Odoo worker runs it: its RSS when the fetch starts (Odoo and the
database's registry loaded), its peak during the fetch (``VmHWM``, reset just before it by writing 5 to
``/proc/self/clear_refs``: ``ru_maxrss`` is a maximum over the process's whole life and cannot be reset) and the
growth (peak minus start). Each case runs in a process of its own, on a fresh copy of one database
(helpdesk_mgmt + postcenter_email), against the same Dovecot:

- a first fetch of N messages (default 1000 and 10000: the same ``bench/mailgen.py`` mailbox as ``bench_imap.py``,
  plain and HTML, attachments, threads), to show whether memory grows with the number of messages;
- one email with a 20 MB attachment (random bytes, base64 in the message: about 27 MB on the wire) among ten
  ordinary ones.

Odoo's workers restart a process whose memory passes ``limit_memory_soft`` (default 2 GiB) after the request or
scheduled action that made it grow; the table gives each peak against it.

Run it with ``make bench`` (``scripts/bench.sh``, last) or alone:
``.venv/bin/python bench/bench_memory.py [--sizes 1000,10000] [--attachment-mb 20] [--keep]``.
Results: printed, and written as JSON to ``test-artifacts/bench/memory.json``.
"""
import argparse
import datetime
import email.policy
import json
import os
import platform
import sys
import time
from email.message import EmailMessage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, 'bench'))
os.environ['ODOO_PRELOAD_ADDONS'] = 'no'

import bench_imap  # noqa: E402
import mailgen  # noqa: E402

from tests.support.dovecot import Dovecot  # noqa: E402
from tests.support.odoo_process import OdooProcess  # noqa: E402

TEMPLATE = bench_imap.PREFIX + '_memory_template'
log = bench_imap.log


def big_attachment_mailbox(megabytes):
    """Ten ordinary messages and, in the middle, one whose attachment is ``megabytes`` MB of random bytes."""
    messages = mailgen.generate(10, bench_imap.SEED + 7)
    big = EmailMessage(policy=email.policy.SMTP)
    big['From'] = 'Ana Pérez <ana.big@cliente.example>'
    big['To'] = 'memory@bench.example'
    big['Subject'] = 'Planos del proyecto (%d MB)' % megabytes
    big['Message-ID'] = '<big-attachment-%d@cliente.example>' % megabytes
    big.set_content('Adjunto los planos.')
    big.add_attachment(os.urandom(megabytes * 1024 * 1024), maintype='application', subtype='octet-stream',
                       filename='planos.bin')
    return messages[:5] + [big.as_bytes()] + messages[5:]


def prepare(odoo, db, dovecot, user):
    """A fresh copy of the template with one IMAP account on ``user``'s mailbox; the account's id."""
    bench_imap.clone_database(db, TEMPLATE)
    registry = odoo.registry(db)
    with odoo.api.Environment.manage(), registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        account_id = bench_imap.ours_account(env, dovecot, user, 'Memory').id
    odoo.sql_db.close_db(db)
    return account_id


def measure(db, account_id, timeout):
    """Fetch Now in a process of its own; its outcome with ``memory`` and the seconds it took."""
    started = time.perf_counter()
    outcome = OdooProcess(db, log=os.path.join(bench_imap.ARTIFACTS, 'memory-%s.log' % db)).run(
        'fetch', account_id, memory=True, timeout=timeout)
    outcome['seconds'] = time.perf_counter() - started
    return outcome


def tickets(db):
    import subprocess
    return int(subprocess.run(['psql', '-d', db, '-qtAc', 'SELECT count(*) FROM helpdesk_ticket'], check=True,
                              stdout=subprocess.PIPE).stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--sizes', default='1000,10000', help='first fetches to measure, in messages (1000,10000)')
    parser.add_argument('--attachment-mb', type=int, default=20, help='size of the big attachment (20)')
    parser.add_argument('--keep', action='store_true', help='keep the databases afterwards')
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(',') if size.strip()]
    os.makedirs(bench_imap.ARTIFACTS, exist_ok=True)
    whole = time.perf_counter()

    corpus = mailgen.generate(max(sizes or [0]), bench_imap.SEED)
    cases = [('first fetch of %d messages' % size, 'mem-%d@bench.example' % size, corpus[:size]) for size in sizes]
    if args.attachment_mb:
        cases.append(('one %d MB attachment among 10 emails' % args.attachment_mb, 'mem-big@bench.example',
                      big_attachment_mailbox(args.attachment_mb)))
    log('building the template database %s' % TEMPLATE)
    bench_imap.drop_database(TEMPLATE)
    import subprocess
    subprocess.run([os.path.join(ROOT, 'scripts', 'initdb.sh'), TEMPLATE,
                    os.path.join(bench_imap.ARTIFACTS, 'memory-initdb.log')], check=True)
    odoo = bench_imap.configure_odoo()
    soft = odoo.tools.config['limit_memory_soft']
    dovecot = Dovecot(users={user: bench_imap.PASSWORD for _label, user, _messages in cases}).start()
    results, databases = [], []
    try:
        for index, (label, user, messages) in enumerate(cases):
            seconds = bench_imap.fill_mailbox(dovecot, user, messages)
            log('appended %d messages to %s in %.1f s' % (len(messages), user, seconds))
            db = '%s_memory_%d' % (bench_imap.PREFIX, index)
            databases.append(db)
            account_id = prepare(odoo, db, dovecot, user)
            log('%s: Fetch Now in a process of its own...' % label)
            outcome = measure(db, account_id, timeout=60 + len(messages))
            outcome.update(label=label, messages=len(messages), bytes=sum(len(raw) for raw in messages),
                           tickets=tickets(db))
            if not outcome.get('ok') or 'memory' not in outcome:
                raise SystemExit('the fetch failed: %r' % outcome)
            log('  %.1f s, peak %.0f MiB' % (outcome['seconds'], outcome['memory']['peak_kib'] / 1024.0))
            results.append(outcome)
    finally:
        dovecot.stop()
        odoo.sql_db.close_all()
        if not args.keep:
            for db in databases + [TEMPLATE]:
                bench_imap.drop_database(db)

    def mib(kib):
        return kib / 1024.0
    lines = ['Peak memory of the fetching Odoo process (RSS; Fetch Now in a process of its own, batches of 50)']
    for result in results:
        memory = result['memory']
        lines.append('  %-42s %6.1f MB of mail  %6.1f s  start %6.0f MiB  peak %6.0f MiB  growth %5.0f MiB  '
                     'peak %4.1f %% of limit_memory_soft (%d MiB)  tickets %d' % (
                         result['label'], result['bytes'] / 1e6, result['seconds'], mib(memory['start_kib']),
                         mib(memory['peak_kib']), mib(memory['growth_kib']),
                         100.0 * memory['peak_kib'] * 1024 / soft, soft // (1024 * 1024), result['tickets']))
    lines.append('(whole run: %.0f s)' % (time.perf_counter() - whole))
    report = {
        'date': datetime.datetime.now().isoformat(timespec='seconds'),
        'machine': {'cpus': os.cpu_count(), 'python': platform.python_version(), 'platform': platform.platform()},
        'limit_memory_soft': soft, 'results': results, 'table': lines,
    }
    with open(os.path.join(bench_imap.ARTIFACTS, 'memory.json'), 'w') as handle:
        json.dump(report, handle, indent=2, sort_keys=True, default=str)
    print()
    print('\n'.join(lines))
    print('(figures in %s)' % os.path.relpath(os.path.join(bench_imap.ARTIFACTS, 'memory.json'), ROOT))


if __name__ == '__main__':
    main()
