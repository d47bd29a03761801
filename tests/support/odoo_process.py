"""Run Odoo code for one database in a child process, as Odoo's own workers run it.

    .venv/bin/python tests/support/odoo_process.py --database DB [--db-host HOST] [--db-port PORT]
        [--log FILE] [--memory] COMMAND [ARG]

Commands:
    fetch ACCOUNT_ID       Fetch Now (``action_fetch``) on the account, as the administrator presses it
    cron [XMLID]           one run of a scheduled action, as Odoo's cron worker runs it (default: the fetch,
                           ``postcenter_email.ir_cron_postcenter_email_fetch``)
    process_email_queue    send the queued mail (``mail.mail.process_email_queue``, the mail queue's cron)

It prints one JSON line on standard output, ``{"command": [...], "ok": true, "result": ...}``; when the code
raised, ``"ok": false`` with ``"user_error"`` (what a user would be shown, exit status 1) or ``"error"``
(anything else, exit status 2). Odoo's log goes to ``--log`` (else standard error). With ``--memory`` the line
also has ``"memory"``: the process's resident memory in KiB when the command starts (Odoo and the database's
registry loaded), its peak while the command ran (``VmHWM``, reset just before it by writing 5 to
``/proc/self/clear_refs``) and when it ended; ``"growth"`` is the peak minus the start.

From a test (the caller needs only the standard library):

    child = OdooProcess('mydb').start('fetch', 7)
    child.pause(); child.resume(); child.kill()      # SIGSTOP, SIGCONT, SIGKILL
    outcome = child.wait()                           # the JSON line as a dict, plus "returncode"
    OdooProcess('mydb').run('cron')                  # start and wait
"""
import argparse
import json
import os
import signal
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
FETCH_CRON = 'postcenter_email.ir_cron_postcenter_email_fetch'


class OdooProcess:
    """One child process running one command of this script for ``database``."""

    def __init__(self, database, db_host=None, db_port=None, log=None):
        self.database, self.db_host, self.db_port, self.log = database, db_host, db_port, log
        self.process = None
        self.command = None

    def start(self, *command, memory=False):
        python = os.path.join(ROOT, '.venv', 'bin', 'python')
        args = [python if os.path.exists(python) else sys.executable, os.path.abspath(__file__),
                '--database', self.database]
        if self.db_host:
            args += ['--db-host', str(self.db_host)]
        if self.db_port:
            args += ['--db-port', str(self.db_port)]
        if self.log:
            args += ['--log', self.log]
        if memory:
            args.append('--memory')
        self.command = [str(part) for part in command]
        self.process = subprocess.Popen(args + self.command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        cwd=ROOT)
        return self

    @property
    def pid(self):
        return self.process.pid

    def running(self):
        return self.process.poll() is None

    def pause(self):
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.pid, signal.SIGCONT)

    def kill(self):
        """SIGKILL: the process dies at once, whatever it was doing (a crash, a machine losing power)."""
        os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def wait(self, timeout=120):
        """The command's outcome: its JSON line (``{}`` if it printed none, as when killed) and ``returncode``."""
        output, _ = self.process.communicate(timeout=timeout)
        lines = [line for line in output.decode('utf-8', 'replace').splitlines() if line.startswith('{')]
        outcome = json.loads(lines[-1]) if lines else {}
        outcome['returncode'] = self.process.returncode
        return outcome

    def run(self, *command, timeout=120, memory=False):
        return self.start(*command, memory=memory).wait(timeout=timeout)


# ----------------------------------------------------------------------
# The child's side
# ----------------------------------------------------------------------

def _setup_odoo(args):
    sys.path.insert(0, ROOT)
    os.environ.setdefault('ODOO_PRELOAD_ADDONS', 'no')
    import odoo
    options = ['--addons-path=%s' % ROOT, '--data-dir=%s' % os.path.join(ROOT, '.data'),
               '--db_host=%s' % (args.db_host or ''), '--log-level=warn',
               '--log-handler=odoo.addons.postcenter_email:INFO']
    if args.db_port:
        options.append('--db_port=%s' % args.db_port)
    if args.log:
        options.append('--logfile=%s' % args.log)
    odoo.tools.config.parse_config(options)
    odoo.modules.module.initialize_sys_path()
    return odoo


def _fetch(env, account_id):
    return env['postcenter.email.account'].browse(int(account_id)).action_fetch()


def _cron(env, xmlid=FETCH_CRON):
    """What ``ir.cron._process_job`` does for one job: its ``_callback`` as the cron's user."""
    cron = env.ref(xmlid)
    return env(user=cron.user_id.id)['ir.cron']._callback(cron.name, cron.ir_actions_server_id.id, cron.id)


def _process_email_queue(env):
    return env['mail.mail'].process_email_queue()


def _status_kib(name):
    with open('/proc/self/status') as status:
        for line in status:
            if line.startswith(name + ':'):
                return int(line.split()[1])
    return 0


class _Memory:
    """The resident memory of this process around a block: the peak within it, not the process's lifetime one
    (``ru_maxrss`` cannot be reset; ``VmHWM`` can)."""

    def __enter__(self):
        with open('/proc/self/clear_refs', 'w') as clear:
            clear.write('5')
        self.start = _status_kib('VmRSS')
        return self

    def __exit__(self, *exc):
        self.peak, self.end = _status_kib('VmHWM'), _status_kib('VmRSS')

    def report(self):
        return {'start_kib': self.start, 'peak_kib': self.peak, 'end_kib': self.end,
                'growth_kib': self.peak - self.start}


COMMANDS = {'fetch': _fetch, 'cron': _cron, 'process_email_queue': _process_email_queue}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--database', required=True)
    parser.add_argument('--db-host')
    parser.add_argument('--db-port')
    parser.add_argument('--log')
    parser.add_argument('--memory', action='store_true', help="report the command's peak resident memory")
    parser.add_argument('command', choices=sorted(COMMANDS))
    parser.add_argument('arguments', nargs='*')
    args = parser.parse_args()
    odoo = _setup_odoo(args)
    from odoo.exceptions import UserError
    outcome = {'command': [args.command] + args.arguments}
    status = 0
    try:
        registry = odoo.registry(args.database)
        memory = _Memory()
        with memory, odoo.api.Environment.manage(), registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            result = COMMANDS[args.command](env, *args.arguments)
        if args.memory:
            outcome['memory'] = memory.report()
        outcome.update(ok=True, result=result if isinstance(result, (bool, int, str, type(None))) else repr(result))
    except UserError as error:
        outcome.update(ok=False, user_error=error.name)
        status = 1
    except Exception as error:
        outcome.update(ok=False, error='%s: %s' % (type(error).__name__, error))
        status = 2
    print(json.dumps(outcome), flush=True)
    sys.exit(status)


if __name__ == '__main__':
    main()
