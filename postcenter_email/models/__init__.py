from . import postcenter_email_keyword
from . import postcenter_email_recipient
from . import postcenter_email_account
from . import postcenter_email_folder
from . import postcenter_email_receipt
from . import postcenter_email_failed
from . import helpdesk_ticket
from . import res_partner
