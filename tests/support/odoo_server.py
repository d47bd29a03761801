"""Odoo's HTTP server and queue_job's runner as processes of their own, for one database, as a deployment runs them.

    .venv/bin/python tests/support/odoo_server.py --database DB --log FILE http PORT [--workers N]
        [--runner CHANNELS] [--fail-fetch ACCOUNT_ID]...
    .venv/bin/python tests/support/odoo_server.py --database DB --log FILE runner CHANNELS --target-port PORT

``http``: Odoo serving ``DB`` on 127.0.0.1:PORT with queue_job loaded server-wide (``--load=web,queue_job``, so
``/queue_job/runjob`` answers), no cron thread; threaded, or prefork with ``--workers N``. Without ``--runner`` it
starts no job runner of its own (``ODOO_QUEUE_JOB_CHANNELS=root:0``); with it, the runner runs inside the server
with those channel capacities, as ``make run`` does. ``--fail-fetch`` makes the fetch of that account raise, to
force that rare failure inside the otherwise real path.
``runner``: queue_job's job runner alone (``odoo.addons.queue_job.jobrunner``), with the channel capacities
CHANNELS (``root:4,root.postcenter_email:4``), dispatching every job to 127.0.0.1:PORT (one server, or a load
balancer in front of several).

From a test:

    server = OdooServer('mydb', log='http-1.log').start('http', 8070)
    server.wait_ready(); ...; server.stop()
"""
import argparse
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


class OdooServer:
    """One child process of this script."""

    def __init__(self, database, log, env=None):
        self.database, self.log, self.env = database, log, env or {}
        self.process = None
        self.port = None

    def start(self, *command):
        python = os.path.join(ROOT, '.venv', 'bin', 'python')
        args = [python if os.path.exists(python) else sys.executable, os.path.abspath(__file__),
                '--database', self.database, '--log', self.log] + [str(part) for part in command]
        if command[0] == 'http':
            self.port = int(command[1])
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, cwd=ROOT, env=dict(os.environ, **self.env))
        return self

    def wait_ready(self, timeout=60):
        """Until the server answers HTTP (its database's registry is loaded at the first request)."""
        import urllib.error
        import urllib.request
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError('the Odoo server stopped (exit %s); see %s' % (self.process.returncode, self.log))
            try:
                urllib.request.urlopen('http://127.0.0.1:%d/web/login' % self.port, timeout=30).read()
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError('the Odoo server did not answer in %ss; see %s' % (timeout, self.log))
                time.sleep(0.2)

    def stop(self, timeout=30):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# ----------------------------------------------------------------------
# The child's side
# ----------------------------------------------------------------------

def _options(args):
    return ['--addons-path=%s' % ROOT, '--data-dir=%s' % os.path.join(ROOT, '.data'), '--db_host=',
            '--database=%s' % args.database, '--db-filter=^%s$' % args.database, '--logfile=%s' % args.log,
            '--log-level=info']


def _fail_fetches(account_ids):
    """The fetch of these accounts raises (a rare failure, forced)."""
    from odoo.addons.postcenter_email.models import postcenter_email_account_imap as imap_model
    original = imap_model.PostcenterEmailAccount._fetch_imap_folder

    def failing(self, name):
        if self.id in account_ids:
            raise RuntimeError('forced failure of the test for account %d' % self.id)
        return original(self, name)
    imap_model.PostcenterEmailAccount._fetch_imap_folder = failing


def _http(args):
    import odoo
    options = _options(args) + ['--http-interface=127.0.0.1', '--http-port=%d' % args.port,
                                '--load=web,queue_job', '--max-cron-threads=0', '--workers=%d' % args.workers]
    if args.workers:
        options += ['--limit-time-real=600', '--limit-time-cpu=600']
    os.environ['ODOO_QUEUE_JOB_CHANNELS'] = args.runner or 'root:0'
    os.environ['ODOO_QUEUE_JOB_HOST'], os.environ['ODOO_QUEUE_JOB_PORT'] = '127.0.0.1', str(args.port)
    odoo.tools.config.parse_config(options)
    odoo.modules.module.initialize_sys_path()
    if args.fail_fetch:
        _fail_fetches(set(args.fail_fetch))
    # as odoo-bin: the prefork server starts its longpolling process again with sys.argv[0]
    sys.argv = [os.path.join(ROOT, 'scripts', 'odoo-bin'), 'server'] + options
    odoo.cli.main()


def _runner(args):
    os.environ['ODOO_QUEUE_JOB_CHANNELS'] = args.channels
    os.environ['ODOO_QUEUE_JOB_HOST'], os.environ['ODOO_QUEUE_JOB_PORT'] = '127.0.0.1', str(args.target_port)
    import odoo
    odoo.tools.config.parse_config(_options(args))
    from odoo.addons.queue_job.jobrunner.runner import QueueJobRunner
    runner = QueueJobRunner.from_environ_or_config()
    signal.signal(signal.SIGINT, lambda *_args: runner.stop())
    signal.signal(signal.SIGTERM, lambda *_args: runner.stop())
    runner.run()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--database', required=True)
    parser.add_argument('--log', required=True)
    commands = parser.add_subparsers(dest='command')
    http = commands.add_parser('http')
    http.add_argument('port', type=int)
    http.add_argument('--workers', type=int, default=0)
    http.add_argument('--runner')
    http.add_argument('--fail-fetch', type=int, action='append', default=[])
    runner = commands.add_parser('runner')
    runner.add_argument('channels')
    runner.add_argument('--target-port', type=int, required=True)
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    os.environ.setdefault('ODOO_PRELOAD_ADDONS', 'no')
    {'http': _http, 'runner': _runner}[args.command](args)


if __name__ == '__main__':
    main()
