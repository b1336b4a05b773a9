from . import vita_mrr_report
