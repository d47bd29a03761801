"""A private PostgreSQL 15 cluster for tests that restart the database: never the machine's cluster.

    cluster = PrivateCluster().start()        # initdb + pg_ctl start in a temp folder, its own port
    cluster.copy_database('source_db', 'db')  # pg_dump from the machine's cluster | psql into ours
    cluster.host, cluster.port                # the unix socket folder and port, for Odoo's db_host/db_port
    cluster.restart()                         # pg_ctl restart -m fast: every session is cut
    cluster.destroy()

PostgreSQL refuses to run as root: the cluster runs as the ``postgres`` system user (created by the
postgresql package), with ``root`` as its superuser and trust authentication on its socket only
(no TCP listener).
"""
import os
import pwd
import shutil
import subprocess
import tempfile

from .ports import free_port

BIN = '/usr/lib/postgresql/15/bin'
OWNER = 'postgres'


class PrivateCluster:

    def __init__(self):
        self.root = self.port = None

    @property
    def data(self):
        return os.path.join(self.root, 'data')

    @property
    def host(self):
        """The folder of the cluster's unix socket (libpq and Odoo take it as the host)."""
        return os.path.join(self.root, 'socket')

    def _as_owner(self, *command):
        subprocess.run(['runuser', '-u', OWNER, '--'] + list(command), check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self):
        self.root = tempfile.mkdtemp(prefix='postcenter-pg-')
        owner = pwd.getpwnam(OWNER)
        os.makedirs(self.host)
        for path in (self.root, self.host):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        self.port = free_port()
        self._as_owner(BIN + '/initdb', '-D', self.data, '-U', 'root', '--auth=trust', '-E', 'UTF8',
                       '--locale=C.UTF-8', '--no-sync')
        with open(os.path.join(self.data, 'postgresql.conf'), 'a') as conf:
            conf.write("\nlisten_addresses = ''\nport = %d\nunix_socket_directories = '%s'\nfsync = off\n"
                       "max_connections = 40\n" % (self.port, self.host))
        self._pg_ctl('start')
        return self

    def _pg_ctl(self, *action):
        self._as_owner(BIN + '/pg_ctl', '-D', self.data, '-l', os.path.join(self.root, 'postgresql.log'),
                       '-w', '-t', '60', *action)

    def restart(self):
        """A fast restart: every session is cut (open transactions are rolled back), then the server is back."""
        self._pg_ctl('restart', '-m', 'fast')

    def psql(self, database, sql):
        found = subprocess.run([BIN + '/psql', '-h', self.host, '-p', str(self.port), '-d', database, '-XtAq',
                                '-v', 'ON_ERROR_STOP=1', '-c', sql], check=True, capture_output=True, text=True)
        return found.stdout

    def copy_database(self, source, name):
        """Create ``name`` here with the content of ``source`` of the machine's cluster."""
        subprocess.run([BIN + '/createdb', '-h', self.host, '-p', str(self.port), name], check=True)
        dump = subprocess.Popen([BIN + '/pg_dump', '--no-owner', '--no-privileges', source], stdout=subprocess.PIPE)
        subprocess.run([BIN + '/psql', '-h', self.host, '-p', str(self.port), '-d', name, '-Xq',
                        '-v', 'ON_ERROR_STOP=1'], stdin=dump.stdout, check=True, stdout=subprocess.DEVNULL)
        dump.stdout.close()
        if dump.wait():
            raise RuntimeError('pg_dump of %s failed' % source)

    def destroy(self):
        if self.root and os.path.exists(os.path.join(self.data, 'postmaster.pid')):
            try:
                self._pg_ctl('stop', '-m', 'immediate')
            except subprocess.CalledProcessError:
                pass
        if self.root:
            shutil.rmtree(self.root, ignore_errors=True)
