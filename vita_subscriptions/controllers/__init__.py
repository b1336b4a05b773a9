from . import log_mask
from . import portal
from . import webhook
