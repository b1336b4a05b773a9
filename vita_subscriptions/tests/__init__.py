from . import test_catalogue
from . import test_gateway
from . import test_install
from . import test_portal
from . import test_settings
from . import test_subscription
from . import test_tours
