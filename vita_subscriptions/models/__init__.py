from . import res_company
from . import vita_stripe_mirror
from . import vita_stripe_plan
from . import vita_stripe_tax_rate
from . import res_config_settings
