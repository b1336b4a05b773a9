#!/usr/bin/env bash
# `make test`: the whole suite on a fresh database, against a fresh localstripe.
source "$(dirname "$0")/common.sh"

DB="${VITA_TEST_DB:-vita_test}"
check_odoo_src
ensure_venv
ensure_postgres
ensure_chromium

port="$(free_port)"
start_localstripe "$port"
trap 'kill "$LOCALSTRIPE_PID" 2>/dev/null || true' EXIT

log "Creating the test database $DB (addon and demo data, ~40 s)"
odoo_init "$DB"

log "Running the tests (localstripe on 127.0.0.1:$port)"
cd "$ROOT"
VITA_LOCALSTRIPE_URL="http://127.0.0.1:$port" \
    "$VENV/bin/pytest" -p no:cacheprovider -r fEs \
    --odoo-database="$DB" \
    --odoo-addons-path="$ODOO_SRC/addons,$ROOT" \
    --odoo-log-level=warn \
    --odoo-http \
    "$@" vita_subscriptions/tests
