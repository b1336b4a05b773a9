#!/usr/bin/env bash
# `make run`: Odoo with the addon and demo data, localstripe as Stripe,
# webhooks wired. Ctrl-C stops everything this script started.
# VITA_WORKERS=N runs Odoo as in production: prefork, N HTTP workers, the
# gevent (websocket) process and one cron worker, behind tools/dev_proxy.py.
source "$(dirname "$0")/common.sh"

DB="${VITA_DB:-vita_demo}"
HTTP_PORT="${VITA_HTTP_PORT:-8069}"
STRIPE_PORT="${VITA_STRIPE_PORT:-8420}"
STRIPE_URL="http://127.0.0.1:$STRIPE_PORT"
ODOO_URL="http://localhost:$HTTP_PORT"

check_odoo_src
ensure_venv
ensure_postgres

start_localstripe "$STRIPE_PORT" "$STATE_DIR/localstripe-demo.pickle"
trap 'kill "$LOCALSTRIPE_PID" 2>/dev/null || true' EXIT INT TERM
"$PY" "$ROOT/tools/seed_localstripe.py" "$STRIPE_URL" "$DEMO_SECRET_KEY"

odoo_args=(--addons-path="$ODOO_SRC/addons,$ROOT" -d "$DB")
# French is loaded too, so the pages can be seen in French (switch the user's
# language, or the portal user's); loading it again only refreshes the terms.
# English first: at creation the first language becomes the default one.
LANGUAGES="en_US,fr_FR"
if psql -d "$DB" -Atc "select 1 from ir_module_module where name = 'vita_subscriptions' and state = 'installed'" 2>/dev/null | grep -q 1; then
    log "Updating the addon in the existing database $DB"
    "$PY" "$ODOO_SRC/odoo-bin" "${odoo_args[@]}" -u vita_subscriptions --load-language="$LANGUAGES" \
        --stop-after-init --log-level=warn
else
    log "Creating the demo database $DB (~40 s)"
    odoo_init "$DB" --load-language="$LANGUAGES"
fi

log "Pointing the addon at localstripe and wiring its webhook"
VITA_STRIPE_URL="$STRIPE_URL" VITA_ODOO_URL="$ODOO_URL" \
    VITA_SECRET_KEY="$DEMO_SECRET_KEY" VITA_PUBLISHABLE_KEY="$DEMO_PUBLISHABLE_KEY" \
    "$PY" "$ODOO_SRC/odoo-bin" shell "${odoo_args[@]}" --no-http --log-level=warn \
    <"$ROOT/tools/configure_demo.py" >/dev/null

cat <<TXT

  vita_subscriptions is running: $ODOO_URL
    back office: admin / admin
    portal:      portal / portal   ($ODOO_URL/my/subscriptions)
    Stripe:      localstripe at $STRIPE_URL (test cards: 4242424242424242,
                 4000002500003155 for 3-D Secure, 4000000000000341 declined)
  Ctrl-C stops Odoo and localstripe.

TXT
if [ -n "${VITA_WORKERS:-}" ]; then
    start_prefork_front "$HTTP_PORT"
    trap 'kill "$LOCALSTRIPE_PID" "$FRONT_PID" 2>/dev/null || true' EXIT INT TERM
    log "Prefork: $VITA_WORKERS HTTP workers on 127.0.0.1:$ODOO_HTTP_PORT, websockets on :$ODOO_GEVENT_PORT, one cron worker"
    "$PY" "$ODOO_SRC/odoo-bin" "${odoo_args[@]}" "${PREFORK_ARGS[@]}" --log-level=info
else
    "$PY" "$ODOO_SRC/odoo-bin" "${odoo_args[@]}" --http-port="$HTTP_PORT" --log-level=info
fi
