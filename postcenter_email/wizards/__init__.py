from . import postcenter_email_account_wizard
from . import postcenter_email_oauth_settings
