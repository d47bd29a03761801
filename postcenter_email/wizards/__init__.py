from . import postcenter_email_account_wizard
