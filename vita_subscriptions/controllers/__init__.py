from . import log_mask
from . import portal
from . import portal_invoice
from . import webhook
