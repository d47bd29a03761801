from . import postcenter_email_report
