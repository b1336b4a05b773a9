#!/usr/bin/env bash
# `make venv`: only the virtualenv (the other targets build it when needed).
source "$(dirname "$0")/common.sh"
check_odoo_src
ensure_venv
log "virtualenv ready: $VENV"
