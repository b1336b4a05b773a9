# Shared set-up steps for `make run` and `make test`. Sourced, not executed.
# Every step is idempotent: a second run only checks and moves on.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ODOO_SRC="${ODOO_SRC:-/opt/odoo18}"
VENV="${VITA_VENV:-$HOME/.cache/vita_subscriptions/venv}"
PY="$VENV/bin/python"
STATE_DIR="${VITA_STATE_DIR:-$HOME/.cache/vita_subscriptions}"
# Demo-only Stripe test keys: localstripe accepts any sk_test_/pk_test_ key.
DEMO_SECRET_KEY="sk_test_vitademo"
DEMO_PUBLISHABLE_KEY="pk_test_vitademo"

log() { printf '\033[1m[vita]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[vita] %s\033[0m\n' "$*" >&2; exit 1; }

check_odoo_src() {
    if [ ! -f "$ODOO_SRC/odoo-bin" ]; then
        die "Odoo 18.0 source not found in $ODOO_SRC (set ODOO_SRC to use another path).
Odoo is not on PyPI: extract Odoo 18.0 there first, e.g.
    git clone --depth 1 --branch 18.0 https://github.com/odoo/odoo.git $ODOO_SRC
(on machines without GitHub access, see ../shared/ODOO_SOURCE.md), then run this command again."
    fi
}

ensure_venv() {
    local stamp="$VENV/.vita-stamp" want
    # Bump the recipe number when the steps below change: cached venvs rebuild.
    want="$( (echo recipe-2; cat "$ODOO_SRC/requirements.txt" "$ROOT/requirements.txt" "$ROOT/requirements-dev.txt") \
        | sha256sum | cut -c1-16)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return
    fi
    log "Installing Python packages into $VENV (first run only, ~3 min)"
    mkdir -p "$(dirname "$VENV")"
    [ -x "$PY" ] || python3 -m venv "$VENV"
    local pip=("$VENV/bin/pip" install -q --disable-pip-version-check)
    # A current setuptools first: the one python3 -m venv bundles (65.5) has a
    # pkg_resources that cannot read normalised dist-info names
    # (zope_interface-8.7.dist-info), and Odoo's gevent process crash-loops on
    # DistributionNotFound with --workers. Pinned (requirements-dev.txt) below
    # the releases that drop pkg_resources, which gevent's stack still imports.
    "${pip[@]}" -U pip wheel "$(grep -E '^setuptools==' "$ROOT/requirements-dev.txt")"
    # cbor2: Odoo pins 5.4.2 for Python < 3.12, a release with no wheel for
    # 3.11 whose sdist only builds with setuptools < 70 in its *build*
    # environment — and pip >= 26.2 no longer passes PIP_CONSTRAINT there.
    # Instead of depending on how a pip version treats build constraints, we
    # take Odoo's own pin for Python >= 3.12 (5.6.2, same loads/dumps API used
    # by auth_passkey; pinned in requirements-dev.txt) from a wheel, with --only-binary so it is never built.
    # python-ldap needs LDAP headers and only serves auth_ldap: left out.
    local odoo_reqs
    odoo_reqs="$(mktemp)"
    grep -v -E '^(python-ldap|cbor2)' "$ODOO_SRC/requirements.txt" >"$odoo_reqs"
    "${pip[@]}" --only-binary=cbor2 -r "$odoo_reqs" -r "$ROOT/requirements-dev.txt"
    rm -f "$odoo_reqs"
    # Odoo's setup.py makes setuptools print pages of "Package would be
    # ignored" warnings: shown only if the step fails.
    local odoo_log
    odoo_log="$(mktemp)"
    "${pip[@]}" --no-deps -e "$ODOO_SRC" >"$odoo_log" 2>&1 || { cat "$odoo_log"; die "pip install -e $ODOO_SRC failed"; }
    rm -f "$odoo_log"
    # Every installed distribution must resolve through pkg_resources (what
    # the gevent process does at start-up).
    "$PY" - <<'PYCHECK' || die "pkg_resources cannot resolve the installed distributions (see above)."
import importlib.metadata as md, warnings
warnings.simplefilter("ignore")
import pkg_resources
for dist in md.distributions():
    pkg_resources.get_distribution(dist.metadata["Name"])
PYCHECK
    echo "$want" >"$stamp"
}

ensure_postgres() {
    if ! pg_isready -q 2>/dev/null; then
        log "Starting PostgreSQL"
        if command -v pg_ctlcluster >/dev/null; then
            local version
            version="$(pg_lsclusters -h | awk 'NR==1 {print $1}')"
            [ -n "$version" ] || die "No PostgreSQL cluster found (install Debian's postgresql package)."
            pg_ctlcluster "$version" main start
        else
            die "PostgreSQL is not running and pg_ctlcluster is missing (install Debian's postgresql package)."
        fi
        for _ in $(seq 50); do pg_isready -q && break; sleep 0.2; done
    fi
    if ! psql -d postgres -Atc 'select 1' >/dev/null 2>&1; then
        log "Creating PostgreSQL role $(id -un)"
        su postgres -c "createuser -s $(id -un)" || die "Could not create a PostgreSQL role for $(id -un)."
    fi
}

ensure_chromium() {
    if command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null; then
        return
    fi
    log "Installing Chromium (for the portal tours)"
    if [ "$(id -u)" = 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
            || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
    else
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null
    fi
}

free_port() {
    "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_localstripe PORT [STATE_FILE] — runs localstripe on 127.0.0.1 in the
# background, sets LOCALSTRIPE_PID, waits until it answers.
start_localstripe() {
    local port="$1" state="${2:-}" logfile="$STATE_DIR/localstripe-$1.log"
    mkdir -p "$STATE_DIR"
    "$PY" "$ROOT/tools/localstripe_server.py" --port "$port" ${state:+--state "$state"} >"$logfile" 2>&1 &
    LOCALSTRIPE_PID=$!
    for _ in $(seq 100); do
        if curl -fs -u "$DEMO_SECRET_KEY:" "http://127.0.0.1:$port/v1/plans" >/dev/null 2>&1; then
            return
        fi
        kill -0 "$LOCALSTRIPE_PID" 2>/dev/null || die "localstripe did not start, see $logfile"
        sleep 0.1
    done
    die "localstripe did not answer on port $port, see $logfile"
}

# odoo_init DB [--without-demo=all] — (re)creates DB with the addon installed.
odoo_init() {
    local db="$1"; shift
    dropdb --if-exists --force "$db"
    "$PY" "$ODOO_SRC/odoo-bin" --addons-path="$ODOO_SRC/addons,$ROOT" -d "$db" \
        -i vita_subscriptions --stop-after-init --log-level=warn "$@"
}

# start_prefork_front PORT — for Odoo in prefork mode (VITA_WORKERS, the
# workers check): picks loopback ports for Odoo's HTTP workers and its gevent
# process (ODOO_HTTP_PORT, ODOO_GEVENT_PORT), starts tools/dev_proxy.py on
# PORT in front of them (FRONT_PID) and sets PREFORK_ARGS for odoo-bin.
start_prefork_front() {
    local port="$1" workers="${VITA_WORKERS:-2}"
    ODOO_HTTP_PORT="$(free_port)"
    ODOO_GEVENT_PORT="$(free_port)"
    while [ "$ODOO_GEVENT_PORT" = "$ODOO_HTTP_PORT" ]; do ODOO_GEVENT_PORT="$(free_port)"; done
    "$PY" "$ROOT/tools/dev_proxy.py" --port "$port" \
        --http-port "$ODOO_HTTP_PORT" --gevent-port "$ODOO_GEVENT_PORT" &
    FRONT_PID=$!
    PREFORK_ARGS=(--workers="$workers" --max-cron-threads=1 --http-interface=127.0.0.1
        --http-port="$ODOO_HTTP_PORT" --gevent-port="$ODOO_GEVENT_PORT")
}
