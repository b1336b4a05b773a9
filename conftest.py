"""A skipped test is a missing test: the run fails when any test is skipped,
or when none ran."""

import pytest


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = reporter.stats if reporter else {}
    skipped = len(stats.get("skipped", []))
    passed = len(stats.get("passed", []))
    if skipped:
        reporter.ensure_newline()
        reporter.write_line(f"FAILED: {skipped} test(s) skipped; a skipped test is a failure here.", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif not passed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
