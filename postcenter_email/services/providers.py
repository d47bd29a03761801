"""Connection presets of the common mail providers.

Microsoft 365 and Outlook.com refuse passwords for IMAP (since October 2022) and switch password sending off;
Google takes its sign-in or an app password. Their labels say so; ``services.oauth`` has the sign-in.
"""
from collections import namedtuple

ImapPreset = namedtuple('ImapPreset', 'key label host port ssl domains')

IMAP_PRESETS = (
    ImapPreset('gmail', 'Gmail / Google Workspace (sign in with Google, or an app password)', 'imap.gmail.com', 993,
               True,
               ('gmail.com', 'googlemail.com')),
    ImapPreset('outlook', 'Outlook / Office 365 (sign in with Microsoft only)', 'outlook.office365.com', 993,
               True,
               ('outlook.com', 'hotmail.com', 'live.com', 'msn.com')),
    ImapPreset('yahoo', 'Yahoo Mail', 'imap.mail.yahoo.com', 993, True,
               ('yahoo.com', 'ymail.com', 'rocketmail.com')),
    ImapPreset('icloud', 'iCloud Mail', 'imap.mail.me.com', 993, True,
               ('icloud.com', 'me.com', 'mac.com')),
)

PRESETS_BY_KEY = {preset.key: preset for preset in IMAP_PRESETS}


def imap_preset(key):
    """The preset called ``key``, or ``None`` (custom server)."""
    return PRESETS_BY_KEY.get(key)


def guess_imap_preset(address):
    """The preset whose public domains include the address's domain, or ``None``."""
    domain = (address or '').rpartition('@')[2].lower()
    for preset in IMAP_PRESETS:
        if domain in preset.domains:
            return preset
    return None


SmtpPreset = namedtuple('SmtpPreset', 'key label host port encryption')

SMTP_PRESETS = (
    SmtpPreset('gmail', 'Gmail / Google Workspace', 'smtp.gmail.com', 465, 'ssl'),
    SmtpPreset('outlook', 'Outlook / Office 365', 'smtp.office365.com', 587, 'starttls'),
)


def smtp_preset(key):
    """The SMTP preset called ``key``, or ``None``."""
    return {preset.key: preset for preset in SMTP_PRESETS}.get(key)
