"""A real Dovecot IMAP server on loopback, in a folder of its own.

    server = Dovecot(users={'support@example.com': 'secret'}).start()
    server.imap_port, server.imaps_port, server.cert_path
    server.stop()

Plain IMAP and implicit TLS (self-signed certificate). With ``oauth2={'introspection_url': ...,
'client_id': ..., 'client_secret': ...}`` it also takes XOAUTH2 and OAUTHBEARER logins, each token
checked by RFC 7662 introspection at that authorization server (its ``username`` must be the login).
Dovecot will not run its login processes as root, so they run as ``dovenull`` and the mail store belongs
to the ``dovecot`` system user (both created by the dovecot-core package).
"""
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

from .ports import free_port, wait_for_port
from .tls import make_certificate

MAIL_USER = 'dovecot'

CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = {uid}
last_valid_uid = 0
mail_uid = {uid}
mail_gid = {gid}
mail_location = maildir:{root}/mail/%u
disable_plaintext_auth = no
auth_mechanisms = plain login{oauth_mechanisms}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd{passwd_mechanisms}
}}{oauth_passdb}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/mail/%u{userdb_args}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
    ssl = yes
  }}
}}
# No growing delay after failed logins (2, 4, 8, 15 s from one address): the tests log in wrongly on purpose.
auth_failure_delay = 0
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""

OAUTH_PASSDB = """
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf.ext
}}"""

OAUTH_ARGS = """introspection_mode = post
introspection_url = {introspection_url}
client_id = {client_id}
client_secret = {client_secret}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
"""


# The reason may itself hold parentheses: 'Connection closed: read(size=8147) failed: Connection reset by peer
# (UID FETCH finished 1.2 secs ago)' when the client died with unread data (its kernel answered with a reset).
_SESSION_END = re.compile(r'imap\((?P<login>[^)]*)\)<[^>]*><[^>]*>: Info: Disconnected: (?P<reason>.*?)'
                          r'(?: \([^()]*\))? in=\d+ .* body_count=(?P<bodies>\d+)')


class Dovecot:
    """One Dovecot instance; ``users`` maps login to password."""

    def __init__(self, users=None, root=None, oauth2=None):
        self.users = dict(users or {})
        self.oauth2 = oauth2
        self.root = root
        self.imap_port = self.imaps_port = None
        self.cert_path = None
        self._owns_root = root is None

    # -- lifecycle -----------------------------------------------------
    def start(self):
        if self.root is None:
            self.root = tempfile.mkdtemp(prefix='postcenter-dovecot-')
        os.chmod(self.root, 0o755)
        for sub in ('run', 'state', 'mail'):
            os.makedirs(os.path.join(self.root, sub), exist_ok=True)
        mail_user = pwd.getpwnam(MAIL_USER)
        os.chown(os.path.join(self.root, 'mail'), mail_user.pw_uid, mail_user.pw_gid)
        if not os.path.exists(os.path.join(self.root, 'cert.pem')):
            make_certificate(self.root)
        self.cert_path = os.path.join(self.root, 'cert.pem')
        self._write_passwd()
        if self.imap_port is None:
            self.imap_port, self.imaps_port = free_port(), free_port()
        oauth = {'oauth_mechanisms': '', 'passwd_mechanisms': '', 'oauth_passdb': '', 'userdb_args': ''}
        if self.oauth2:
            with open(os.path.join(self.root, 'oauth2.conf.ext'), 'w') as handle:
                handle.write(OAUTH_ARGS.format(**self.oauth2))
            # the static userdb asks the passdbs whether a user exists (doveadm does), which oauth2 cannot answer
            oauth = {'oauth_mechanisms': ' xoauth2 oauthbearer', 'passwd_mechanisms': '\n  mechanisms = plain login',
                     'oauth_passdb': OAUTH_PASSDB.format(root=self.root), 'userdb_args': ' allow_all_users=yes'}
        with open(self.config_path, 'w') as handle:
            handle.write(CONFIG.format(root=self.root, uid=mail_user.pw_uid, gid=mail_user.pw_gid,
                                       cert=self.cert_path, key=os.path.join(self.root, 'key.pem'),
                                       imap_port=self.imap_port, imaps_port=self.imaps_port, **oauth))
        # The daemon must not inherit our output pipes (a caller capturing them would wait forever).
        with open(os.path.join(self.root, 'start.log'), 'wb') as output:
            started = subprocess.run(['dovecot', '-c', self.config_path], stdin=subprocess.DEVNULL,
                                     stdout=output, stderr=output)
        if started.returncode:
            with open(os.path.join(self.root, 'start.log'), errors='replace') as output:
                raise RuntimeError('dovecot did not start: %s' % output.read())
        wait_for_port(self.imap_port)
        wait_for_port(self.imaps_port)
        return self

    def stop(self):
        """Stop the server and end its open sessions; the mail store is kept (``start`` again resumes it)."""
        pid = self._pid()
        if pid:
            subprocess.run(['doveadm', '-c', self.config_path, 'kick', '*'], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.run(['doveadm', '-c', self.config_path, 'stop'], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while self._alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if self._alive(pid):
                os.kill(pid, signal.SIGKILL)

    def destroy(self):
        self.stop()
        if self._owns_root and self.root:
            shutil.rmtree(self.root, ignore_errors=True)

    # -- users -----------------------------------------------------------
    def add_user(self, login, password):
        self.users[login] = password
        if self.root:
            self._write_passwd()

    def _write_passwd(self):
        with open(os.path.join(self.root, 'passwd'), 'w') as handle:
            for login, password in self.users.items():
                handle.write('%s:{PLAIN}%s\n' % (login, password))
        os.chmod(os.path.join(self.root, 'passwd'), 0o644)

    # -- what the server saw ------------------------------------------------
    def finished_sessions(self, login):
        """Each finished IMAP session of ``login``, oldest first, as Dovecot logged it when it ended:
        ``{'reason': 'Logged out' or why it was cut, 'body_count': messages whose body it sent}``."""
        sessions = []
        try:
            with open(os.path.join(self.root, 'dovecot.log'), errors='replace') as handle:
                for line in handle:
                    found = _SESSION_END.search(line)
                    if found and found.group('login') == login:
                        sessions.append({'reason': found.group('reason'), 'body_count': int(found.group('bodies'))})
        except OSError:
            pass
        return sessions

    def session_process(self, login):
        """The pid of the imap process that serves the latest session of ``login`` (from its login line)."""
        pattern = r'imap-login: Info: Login: user=<%s>, .*?mpid=(\d+)' % re.escape(login)
        with open(os.path.join(self.root, 'dovecot.log'), errors='replace') as handle:
            found = [int(match.group(1)) for match in re.finditer(pattern, handle.read())]
        return found[-1] if found else None

    def wait_sessions(self, login, count, timeout=20):
        """The finished sessions of ``login`` once there are at least ``count`` (Dovecot logs a session's end
        when its process exits, a moment after the client is gone)."""
        deadline = time.monotonic() + timeout
        while True:
            sessions = self.finished_sessions(login)
            if len(sessions) >= count or time.monotonic() > deadline:
                return sessions
            time.sleep(0.05)

    # -- helpers -----------------------------------------------------------
    @property
    def config_path(self):
        return os.path.join(self.root, 'dovecot.conf')

    def _pid(self):
        try:
            with open(os.path.join(self.root, 'run', 'master.pid')) as handle:
                return int(handle.read().strip())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _alive(pid):
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
