from . import test_account
from . import test_wizard
from . import test_security
from . import test_fetch
from . import test_options
from . import test_hostile
from . import test_forwarding
from . import test_translation
