"""Real servers for the tests: Dovecot (IMAP). Standard library only, so both venvs can use it."""
