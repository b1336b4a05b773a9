"""How long the current cron poll may still work before Odoo stops it.

Odoo runs cron jobs in polls: a cron worker wakes up, runs every ready job
(a job that reports remaining work through ``ir.cron._notify_progress`` up
to ten times in a row, ``MAX_BATCH_PER_CRON_JOB``), then sleeps. Two limits
count per poll, whatever the jobs:

- CPU (prefork, ``--workers``): before each poll the worker sets its
  ``RLIMIT_CPU`` to ``limit_time_cpu`` (60 s) past what it has used; the
  kernel's SIGXCPU then ends the job in progress.
- Wall clock: the master SIGKILLs a prefork cron worker that has not pinged
  it for ``limit_time_real_cron`` seconds (-1, the default, means
  ``limit_time_real``: 120 s; 0 means no limit). The worker pings before it
  sleeps, so the sleep counts too: up to ``SLEEP_INTERVAL`` + 9 s when no
  trigger wakes it earlier. The threaded server (no ``--workers``) times
  its cron threads from the start of the poll (``limit_time_real_cron``
  when > 0, else ``limit_time_real``) and restarts itself past it.

Long jobs ask :func:`running_out` between units of work and stop, with a
reserve for the unit in progress, before either limit; ``ir.cron`` (see
models/ir_cron.py) tells this module when each job of a poll starts and ends.
"""

import resource
import threading
import time
from time import monotonic

from odoo.service.server import SLEEP_INTERVAL
from odoo.tools import config

# The longest a prefork cron worker sleeps between its ping and its next
# poll: SLEEP_INTERVAL plus its pid % 10, plus at most 0.1 s (server.py).
MAX_CRON_SLEEP = SLEEP_INTERVAL + 10

# Per thread: the threaded server runs several cron threads in one process.
_poll = threading.local()


def job_starting(poll_cursor):
    """A job of a poll starts (``ir.cron._process_job``): the first one of
    a poll (a new poll cursor) sets the moment the prefork watchdog started
    counting, which is before the sleep that preceded the poll. The worker
    pinged after the previous poll's last job and slept at most
    MAX_CRON_SLEEP, so the later of the two bounds it."""
    if getattr(_poll, "cursor", None) is poll_cursor:
        return
    earliest = monotonic() - MAX_CRON_SLEEP
    previous_end = getattr(_poll, "last_job_end", None)
    _poll.cursor = poll_cursor
    _poll.watchdog_start = max(earliest, previous_end) if previous_end else earliest


def job_finished():
    _poll.last_job_end = monotonic()


def cpu_seconds_left():
    """CPU seconds this process may still use before the kernel stops it
    (``RLIMIT_CPU``, set by prefork workers), or None when unlimited."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_CPU)
    if soft == resource.RLIM_INFINITY:
        return None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return soft - (usage.ru_utime + usage.ru_stime)


def real_seconds_left():
    """Wall-clock seconds the current cron poll may still run, or None
    outside a cron poll or without a limit."""
    thread = threading.current_thread()
    if getattr(thread, "type", None) == "cron":  # threaded server: Odoo times the poll itself
        limit = config["limit_time_real_cron"] if config["limit_time_real_cron"] > 0 else config["limit_time_real"]
        started = getattr(thread, "start_time", None)
        return started + limit - time.time() if started and limit else None
    limit = config["limit_time_real"] if config["limit_time_real_cron"] == -1 else config["limit_time_real_cron"]
    watchdog_start = getattr(_poll, "watchdog_start", None)
    if not config["workers"] or not limit or watchdog_start is None:
        return None
    return watchdog_start + limit - monotonic()


def running_out(cpu_reserve, real_reserve):
    """Whether this poll has less than ``cpu_reserve`` CPU seconds or
    ``real_reserve`` wall-clock seconds left: time to stop between two
    units of work (each reserve covers the longest unit)."""
    cpu, real = cpu_seconds_left(), real_seconds_left()
    return (cpu is not None and cpu < cpu_reserve) or (real is not None and real < real_reserve)
