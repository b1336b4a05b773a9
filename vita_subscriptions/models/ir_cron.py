from odoo import models

from .. import cron_limits


class IrCron(models.Model):
    _inherit = "ir.cron"

    @classmethod
    def _process_job(cls, db, cron_cr, job):
        """Tell cron_limits when each job of a poll starts and ends (Odoo
        calls this for every job of a poll with the poll's cursor): long
        jobs then know how much of the poll's time limits is left."""
        cron_limits.job_starting(cron_cr)
        try:
            return super()._process_job(db, cron_cr, job)
        finally:
            cron_limits.job_finished()
