#!/usr/bin/env bash
# Install (or upgrade) one Siaga112 node on a Debian/Ubuntu machine with systemd. docs/deploy.md says
# what to prepare first (PostgreSQL, Redis, a TLS certificate) and what to do after.
#
#   sudo deploy/install.sh --database-url postgres://siaga:PASSWORD@10.0.0.10/siaga \
#        --redis-url redis://10.0.0.10:6379/0 --server-name siaga112.cilegon.go.id --node-name node-a
#
# It installs the software into a virtualenv (/opt/siaga/venv), writes /etc/siaga/siaga.env and a secret
# key once (never overwrites them), prepares /var/lib/siaga, migrates the database, loads the city's
# reference data, runs `siaga check --deploy`, installs the systemd units (the node, the nightly backup
# and audit walk) and, with --server-name, the nginx site; then enables and starts them.
# Run it again to upgrade: the same steps, keeping the configuration.
#
# --root DIR puts everything under DIR (/opt, /etc, /var/lib inside it) and --no-systemctl leaves systemd
# alone: the test suite installs that way (tests/deploy/test_install.py).
set -euo pipefail

ROOT=""
SOURCE="$(cd "$(dirname "$0")/.." && pwd)"
SERVICE_USER="siaga"
DATABASE_URL=""
REDIS_URL=""
SERVER_NAME=""
NODE_NAME="$(hostname -s 2>/dev/null || hostname)"
CERT=""
CERT_KEY=""
HTTP_PORT=80
HTTPS_PORT=443
PORT=8112
SYSTEMCTL=1
PYTHON="${PYTHON:-python3}"

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }
die() { echo "install.sh: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    --source) SOURCE="$2"; shift 2 ;;
    --user) SERVICE_USER="$2"; shift 2 ;;
    --database-url) DATABASE_URL="$2"; shift 2 ;;
    --redis-url) REDIS_URL="$2"; shift 2 ;;
    --server-name) SERVER_NAME="$2"; shift 2 ;;
    --node-name) NODE_NAME="$2"; shift 2 ;;
    --cert) CERT="$2"; shift 2 ;;
    --cert-key) CERT_KEY="$2"; shift 2 ;;
    --http-port) HTTP_PORT="$2"; shift 2 ;;
    --https-port) HTTPS_PORT="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --no-systemctl) SYSTEMCTL=0; shift ;;
    -h|--help) usage 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage 2 ;;
  esac
done

OPT="$ROOT/opt/siaga"
VENV="$OPT/venv"
ETC="$ROOT/etc/siaga"
VAR="$ROOT/var/lib/siaga"
UNITS="$ROOT/etc/systemd/system"
ENV_FILE="$ETC/siaga.env"

[ -f "$SOURCE/pyproject.toml" ] || die "$SOURCE is not a Siaga112 source tree (no pyproject.toml)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11 or newer is needed ($PYTHON)"

# the service user (a system account without a login), unless it exists already
if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || die "the user $SERVICE_USER does not exist and only root can create it"
  useradd --system --home-dir "$VAR" --shell /usr/sbin/nologin "$SERVICE_USER"
fi
GROUP="$(id -gn "$SERVICE_USER")"

echo "== the software: $VENV"
mkdir -p "$OPT"
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
# exactly the versions the release was tested with (requirements.lock: versions and hashes), then the
# software itself without resolving anything again
[ -f "$SOURCE/requirements.lock" ] || die "$SOURCE has no requirements.lock"
"$VENV/bin/pip" install --quiet --require-hashes -r "$SOURCE/requirements.lock"
"$VENV/bin/pip" install --quiet --no-deps "$SOURCE"

subst() {  # the @NAME@ placeholders of a template
  sed -e "s|@VENV@|$VENV|g" -e "s|@ETC@|$ETC|g" -e "s|@VAR@|$VAR|g" -e "s|@USER@|$SERVICE_USER|g" \
      -e "s|@GROUP@|$GROUP|g" -e "s|@DATABASE_URL@|$DATABASE_URL|g" -e "s|@REDIS_URL@|$REDIS_URL|g" \
      -e "s|@SERVER_NAME@|${SERVER_NAME:-localhost}|g" -e "s|@NODE_NAME@|$NODE_NAME|g" \
      -e "s|@CERT@|$CERT|g" -e "s|@CERT_KEY@|$CERT_KEY|g" -e "s|@HTTP_PORT@|$HTTP_PORT|g" \
      -e "s|@HTTPS_PORT@|$HTTPS_PORT|g" -e "s|@UPSTREAM@|127.0.0.1:$PORT|g" -e "s|@PORT@|$PORT|g" "$1"
}

echo "== the configuration: $ENV_FILE"
mkdir -p "$ETC" "$VAR/backups"
if [ ! -f "$ETC/secret_key" ]; then
  (umask 027 && "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(64))' > "$ETC/secret_key")
fi
if [ ! -f "$ENV_FILE" ]; then
  [ -n "$DATABASE_URL" ] || die "--database-url is needed the first time (postgres://user:password@host/db)"
  (umask 027 && subst "$SOURCE/deploy/siaga.env.example" > "$ENV_FILE")
  echo "   written; review it (docs/operations.md lists every setting)"
else
  echo "   kept as it is"
fi
if [ "$(id -u)" -eq 0 ]; then
  chown root:"$GROUP" "$ETC" "$ETC/secret_key" "$ENV_FILE"
  chmod 0750 "$ETC"; chmod 0640 "$ETC/secret_key" "$ENV_FILE"
  chown -R "$SERVICE_USER":"$GROUP" "$VAR"
fi
chmod 0750 "$VAR"

ENV_ARGS=()
while IFS= read -r line; do
  case "$line" in ''|'#'*) continue ;; *=*) ENV_ARGS+=("$line") ;; esac
done < "$ENV_FILE"
here() {  # a siaga command with the node's settings, as the user running this script
  (cd "$VAR" && env -i PATH=/usr/bin:/bin HOME="$VAR" "${ENV_ARGS[@]}" "$VENV/bin/siaga" "$@")
}
as_service() {  # a siaga command as the node runs it: its user, its settings
  if [ "$(id -u)" -eq 0 ] && [ "$SERVICE_USER" != "root" ]; then
    (cd "$VAR" && runuser -u "$SERVICE_USER" -- env -i PATH=/usr/bin:/bin HOME="$VAR" "${ENV_ARGS[@]}" \
      "$VENV/bin/siaga" "$@")
  else
    here "$@"
  fi
}

if [ ! -f "$ETC/cap/signing-key.pem" ]; then  # every CAP message is signed: a first, self-signed pair
  echo "== the CAP signing key: $ETC/cap (self-signed; a certificate the partners trust is better)"
  (umask 027 && here cap keygen --out "$ETC/cap" >/dev/null) || die "could not make the CAP signing key"
fi
if [ "$(id -u)" -eq 0 ]; then
  chown -R root:"$GROUP" "$ETC/cap"; chmod 0750 "$ETC/cap"; chmod 0640 "$ETC/cap/signing-key.pem"
fi

echo "== the database"
here compile-translations >/dev/null  # the catalogues, inside the installed package (written by the installer)
as_service migrate --noinput
as_service load-reference
as_service collectstatic --noinput >/dev/null
echo "== siaga check --deploy"
as_service check --deploy || die "the deployment checks found errors (above): mend the configuration in $ENV_FILE and run this again"

# `siaga` for a person on the machine: the node's settings and user (sudo /opt/siaga/bin/siaga ...)
mkdir -p "$OPT/bin"
cat > "$OPT/bin/siaga" <<WRAPPER
#!/bin/sh
# siaga with this node's settings ($ENV_FILE), as the user the node runs as (written by deploy/install.sh)
set -a; . "$ENV_FILE"; set +a
cd "$VAR" || exit 1
if [ "\$(id -u)" -eq 0 ] && [ "$SERVICE_USER" != root ]; then
  exec runuser -u "$SERVICE_USER" -- "$VENV/bin/siaga" "\$@"
fi
exec "$VENV/bin/siaga" "\$@"
WRAPPER
chmod 0755 "$OPT/bin/siaga"

echo "== systemd units: $UNITS"
mkdir -p "$UNITS"
for unit in siaga.service siaga-backup.service siaga-backup.timer siaga-audit.service siaga-audit.timer; do
  subst "$SOURCE/deploy/systemd/$unit" > "$UNITS/$unit"
done
if [ -n "$SERVER_NAME" ]; then
  CERT="${CERT:-/etc/letsencrypt/live/$SERVER_NAME/fullchain.pem}"
  CERT_KEY="${CERT_KEY:-/etc/letsencrypt/live/$SERVER_NAME/privkey.pem}"
  mkdir -p "$ROOT/etc/nginx/sites-available"
  subst "$SOURCE/deploy/nginx/siaga.conf" > "$ROOT/etc/nginx/sites-available/siaga.conf"
  echo "== nginx site: $ROOT/etc/nginx/sites-available/siaga.conf (link it into sites-enabled, then nginx -t)"
fi

if [ "$SYSTEMCTL" -eq 1 ]; then
  systemctl daemon-reload
  systemctl enable --now siaga-backup.timer siaga-audit.timer
  systemctl enable siaga.service
  systemctl restart siaga.service
  echo "== started: systemctl status siaga; curl http://127.0.0.1:$PORT/readyz"
else
  echo "== units written, systemd left alone (--no-systemctl)"
fi
