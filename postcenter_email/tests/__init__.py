from . import test_account
from . import test_wizard
from . import test_security
from . import test_translation
