from . import vita_subscription_cancel
