#!/usr/bin/env bash
# `make i18n`: export the addon's terms to i18n/vita_subscriptions.pot and
# merge them into i18n/fr.po (new terms arrive untranslated; the test suite
# fails until they are translated).
source "$(dirname "$0")/common.sh"
DB="${VITA_I18N_DB:-vita_i18n}"
I18N="$ROOT/vita_subscriptions/i18n"
check_odoo_src
ensure_venv
ensure_postgres
log "Installing the addon into $DB (with demo data: its translatable terms ship too)"
odoo_init "$DB"
mkdir -p "$I18N"
"$PY" "$ODOO_SRC/odoo-bin" --addons-path="$ODOO_SRC/addons,$ROOT" -d "$DB" --log-level=warn \
    --i18n-export="$I18N/vita_subscriptions.pot" --modules=vita_subscriptions --stop-after-init
if [ -f "$I18N/fr.po" ]; then
    msgmerge --quiet --update --backup=none --no-fuzzy-matching "$I18N/fr.po" "$I18N/vita_subscriptions.pot"
else
    msginit --no-translator --locale=fr --input="$I18N/vita_subscriptions.pot" --output-file="$I18N/fr.po"
fi
dropdb --if-exists --force "$DB"
log "Untranslated or fuzzy in fr.po: $(msgattrib --untranslated --only-fuzzy "$I18N/fr.po" 2>/dev/null | grep -c '^msgid' || true) + $(msgattrib --untranslated "$I18N/fr.po" | grep -c '^msgid' || true)"
