from . import postcenter_email_account
from . import queue_job
