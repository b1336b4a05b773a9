# The two commands of the README, plus lint. Everything they need is set up
# by tools/*.sh (virtualenv, packages, PostgreSQL, Chromium, databases).
.PHONY: run test venv lint check-install check-workers i18n screenshots
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

# PNGs of the demo for the README (doc/screenshots/), against a running
# `make run`: make screenshots [URL=http://localhost:8069] [OUT=folder]
URL ?= http://localhost:$(or $(VITA_HTTP_PORT),8069)
screenshots:
	@source tools/common.sh && ensure_venv && ensure_chromium && \
		"$$PY" tools/screenshots.py "$(URL)" $(if $(OUT),--out "$(OUT)")
