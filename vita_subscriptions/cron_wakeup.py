"""Wake Odoo's cron workers without a new PostgreSQL connection each time.

Cron workers sleep on ``LISTEN cron_trigger`` in the ``postgres`` database,
and Odoo's ``ir.cron._notifydb`` opens a connection there for every NOTIFY
(Odoo's pool never keeps connections to ``postgres``). A webhook delivery
wakes the queue once per event: one PostgreSQL connection per delivery, a
third of an acknowledgement's time. This keeps one connection per process
instead (opened on first use, again after a fork or a failure) and falls
back to Odoo's own when it cannot be used.
"""

import contextlib
import logging
import os
import threading

import psycopg2

from odoo import sql_db
from odoo.addons.base.models.ir_cron import ODOO_NOTIFY_FUNCTION
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

_lock = threading.Lock()
_state = {"connection": None, "pid": None}


def wake_cron_workers(env):
    """NOTIFY the cron workers of ``env``'s database (call it after commit,
    as a postcommit callback does)."""
    query = SQL("SELECT %s('cron_trigger', %s)", SQL.identifier(ODOO_NOTIFY_FUNCTION), env.cr.dbname)
    with _lock:
        try:
            connection = _connection()
            with connection.cursor() as cursor:
                cursor.execute(query.code, query.params)
            return
        except psycopg2.Error as error:
            _logger.info("Cron wake-up connection lost (%s): Odoo's own notification instead", error)
            _forget()
    env["ir.cron"]._notifydb()


def _connection():
    connection = _state["connection"]
    if connection is None or connection.closed or _state["pid"] != os.getpid():
        _dbname, info = sql_db.connection_info_for("postgres")
        connection = psycopg2.connect(**info)
        connection.autocommit = True
        _state.update(connection=connection, pid=os.getpid())
    return connection


def _forget():
    connection, _state["connection"] = _state["connection"], None
    if connection is not None and _state["pid"] == os.getpid():
        with contextlib.suppress(psycopg2.Error):
            connection.close()
