#!/usr/bin/env bash
# `make check-workers`: Odoo as deployed (prefork, --workers=2, gevent
# process, one cron worker) with the addon runs 20 s without a traceback,
# answers /websocket as Odoo does, and both HTTP workers accept a signed
# webhook. See tools/check_workers.py.
# --db DB checks a database that already has the addon (check_install.sh
# does, between install and uninstall) and leaves it; without it a scratch
# database is created and dropped.
source "$(dirname "$0")/common.sh"
check_odoo_src
ensure_venv
ensure_postgres
if [ "${1:-}" = --db ]; then
    DB="$2" own_db=
else
    DB="${VITA_CHECK_DB:-vita_check_workers}" own_db=1
    log "Installing the addon into $DB"
    odoo_init "$DB" --without-demo=all
fi
secret="whsec_check$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
# The webhook of the Stripe provider of the first company (one per company).
provider="$(psql -d "$DB" -Atc "SELECT id FROM payment_provider WHERE code = 'stripe' ORDER BY company_id, id LIMIT 1")"
[ -n "$provider" ] || die "no Stripe payment provider in $DB"
psql -q -d "$DB" -c "UPDATE payment_provider SET vita_webhook_secret = '$secret' WHERE id = $provider"
key="$(psql -d "$DB" -Atc "SELECT vita_webhook_key FROM payment_provider WHERE id = $provider")"
[ -n "$key" ] || die "the Stripe provider of $DB has no webhook key"

front="$(free_port)"
logfile="$(mktemp --suffix=.log)"
VITA_WORKERS=2 start_prefork_front "$front"
"$PY" "$ODOO_SRC/odoo-bin" --addons-path="$ODOO_SRC/addons,$ROOT" -d "$DB" --db-filter="^$DB\$" \
    "${PREFORK_ARGS[@]}" --logfile="$logfile" --log-level=info &
odoo_pid=$!
trap 'kill "$odoo_pid" "$FRONT_PID" 2>/dev/null || true; wait "$odoo_pid" 2>/dev/null || true; rm -f "$logfile"' EXIT
log "Odoo prefork (2 workers) on 127.0.0.1:$front, log $logfile"
status=0
"$PY" "$ROOT/tools/check_workers.py" --url "http://127.0.0.1:$front" --key "$key" --secret "$secret" \
    --log "$logfile" --seconds 20 || status=$?
kill "$odoo_pid" "$FRONT_PID" 2>/dev/null || true
wait "$odoo_pid" 2>/dev/null || true
[ -z "$own_db" ] || dropdb --if-exists --force "$DB"
[ "$status" = 0 ] || die "multi-worker check failed"
log "multi-worker check: ok"
