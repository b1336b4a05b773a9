from . import res_company
from . import vita_stripe_mirror
from . import vita_stripe_plan
from . import vita_stripe_tax_rate
from . import vita_subscription
from . import res_partner
from . import account_move
from . import res_config_settings
