#!/usr/bin/env bash
# `make lint`: ruff (lint + format check), pylint-odoo, and mypy over the
# Stripe gateway (stripe-python's typed params catch a parameter Stripe
# does not accept).
source "$(dirname "$0")/common.sh"
check_odoo_src
ensure_venv
cd "$ROOT"
log "ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
log "pylint-odoo"
"$VENV/bin/pylint" --rcfile=.pylintrc vita_subscriptions
log "mypy (Stripe gateway)"
"$VENV/bin/mypy" --config-file=pyproject.toml vita_subscriptions/stripe_gateway.py
log "README.rst from readme/ fragments"
"$PY" tools/readme_rst.py --check
log "lint ok"
