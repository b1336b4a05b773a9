# The two commands of the README, plus lint. Everything they need is set up
# by tools/*.sh (virtualenv, packages, PostgreSQL, Chromium, databases).
.PHONY: run test venv lint check-install check-workers i18n
SHELL := /bin/bash

run:
	@bash tools/run.sh

test:
	@bash tools/test.sh $(PYTEST_ARGS)

lint:
	@bash tools/lint.sh

check-install:
	@bash tools/check_install.sh

i18n:
	@bash tools/i18n.sh

venv:
	@bash tools/venv.sh

check-workers:
	@bash tools/check_workers.sh
