from . import vita_subscription_cancel
from . import vita_stripe_import
from . import vita_subscription_plan_change
