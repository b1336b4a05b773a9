#!/usr/bin/env bash
# `make check-install`: the addon installs on a database without demo data,
# runs as deployed (tools/check_workers.sh: --workers=2, 20 s, no traceback),
# then uninstalls cleanly (no table, menu or parameter left behind).
source "$(dirname "$0")/common.sh"
DB="${VITA_CHECK_DB:-vita_check_install}"
check_odoo_src
ensure_venv
ensure_postgres
log "Installing without demo data into $DB"
odoo_init "$DB" --without-demo=all
bash "$ROOT/tools/check_workers.sh" --db "$DB"
log "Uninstalling"
"$PY" "$ODOO_SRC/odoo-bin" shell --addons-path="$ODOO_SRC/addons,$ROOT" -d "$DB" --no-http --log-level=warn <<'PY'
env["ir.module.module"].search([("name", "=", "vita_subscriptions")]).button_immediate_uninstall()
env.cr.commit()
PY
left="$(psql -d "$DB" -Atc "
    select 'table ' || tablename from pg_tables where tablename like 'vita\_%'
    union all select 'module ' || state from ir_module_module where name = 'vita_subscriptions' and state != 'uninstalled'
    union all select 'parameter ' || key from ir_config_parameter where key like 'vita_subscriptions.%'
    union all select 'column ' || column_name from information_schema.columns where column_name like 'vita\_%'")"
dropdb --if-exists --force "$DB"
[ -z "$left" ] || die "Uninstall left behind: $left"
log "install without demo, multi-worker run and uninstall: ok"
