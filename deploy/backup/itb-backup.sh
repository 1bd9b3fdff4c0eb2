#!/usr/bin/env bash
# The backup service's commands (README "Backups"), run as the postgres user with pgBackRest's
# configuration in /etc/pgbackrest/pgbackrest.conf (or PGBACKREST_CONFIG):
#   itb-backup schedule        every BACKUP_CHECK_SECONDS (600): a full backup when the last good
#                              full is BACKUP_FULL_EVERY_HOURS (168, weekly) old or there is none,
#                              else a differential when the last good backup is
#                              BACKUP_DIFF_EVERY_HOURS (24) old; then writes `pgbackrest info
#                              --output=json` for /healthz (BACKUP_INFO_DIR). BACKUP_ONCE=1: one round.
#   itb-backup backup full|diff  one backup now (old ones expire by the retention settings)
#   itb-backup info            what the repositories hold
#   itb-backup restore ARGS    into PGDATA (postgres stopped), e.g. --type=time
#                              "--target=2026-12-07 14:05:00+00" --target-action=promote
#   itb-backup drill [ARGS]    restores into a scratch folder, starts it on its own port without
#                              archiving, waits until it has recovered, counts refill visits and
#                              prints how long it took (the RTO), then removes it
set -euo pipefail
STANZA=itbportal
PGDATA=${PGDATA:-/var/lib/postgresql/data}
PGPORT=${PGPORT:-5432}
PGSOCKET=${PGSOCKET:-/var/run/postgresql}
PGUSER=${PGUSER:-postgres}
INFO_DIR=${BACKUP_INFO_DIR:-/var/lib/itb-backup-info}
pgb() { pgbackrest --stanza="$STANZA" "$@"; }
say() { echo "itb-backup $(date -u +%FT%TZ): $*"; }

write_info() {
  local tmp="$INFO_DIR/.pgbackrest-info.json.tmp"
  if pgb info --output=json >"$tmp"; then
    chmod 0644 "$tmp" && mv "$tmp" "$INFO_DIR/pgbackrest-info.json"
  else
    rm -f "$tmp"
    say "pgbackrest info failed; /healthz keeps the last answer"
  fi
}

# The stop time (epoch seconds) of the newest good backup matching a jq filter, 0 when none.
last_stop() {
  pgb info --output=json | jq -r "[.[0].backup[]? | select(.error != true) $1 | .timestamp.stop] | max // 0"
}

schedule() {
  local full_every=$((${BACKUP_FULL_EVERY_HOURS:-168} * 3600)) diff_every=$((${BACKUP_DIFF_EVERY_HOURS:-24} * 3600))
  until pg_isready -q -h "$PGSOCKET" -p "$PGPORT"; do sleep 5; done
  pgb stanza-create
  while true; do
    local now full any
    now=$(date +%s)
    full=$(last_stop '| select(.type == "full")') || full=$now
    any=$(last_stop '') || any=$now
    if ((now - full >= full_every)); then
      say "full backup"; pgb backup --type=full || say "the full backup failed; next try in ${BACKUP_CHECK_SECONDS:-600} s"
    elif ((now - any >= diff_every)); then
      say "differential backup"; pgb backup --type=diff || say "the differential backup failed; next try in ${BACKUP_CHECK_SECONDS:-600} s"
    fi
    write_info
    [ "${BACKUP_ONCE:-}" = 1 ] && return 0
    sleep "${BACKUP_CHECK_SECONDS:-600}"
  done
}

restore() {
  if pg_isready -q -h "$PGSOCKET" -p "$PGPORT"; then
    echo "PostgreSQL is running on $PGDATA: stop the postgres service first" >&2
    exit 1
  fi
  local delta=()
  [ -n "$(ls -A "$PGDATA" 2>/dev/null)" ] && delta=(--delta)
  pgb restore "${delta[@]}" "$@"
}

drill() {
  local port=${BACKUP_DRILL_PORT:-5499} began recovered
  DRILL_DIR=$(mktemp -d "${TMPDIR:-/tmp}/itb-drill.XXXXXX")
  trap 'pg_ctl -D "$DRILL_DIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$DRILL_DIR"' EXIT
  local dir=$DRILL_DIR
  began=$(date +%s)
  pgb restore --pg1-path="$dir/data" "$@"
  pg_ctl -D "$dir/data" -l "$dir/log" -w -t 3600 \
    -o "-p $port -c listen_addresses='' -c unix_socket_directories=$dir -c archive_mode=off" start >/dev/null
  until [ "$(psql -h "$dir" -p "$port" -U "$PGUSER" -d postgres -Atc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; do
    sleep 1
  done
  recovered=$(date +%s)
  local visits
  visits=$(psql -h "$dir" -p "$port" -U "$PGUSER" -d "${POSTGRES_DB:-itbportal}" -Atc 'SELECT count(*) FROM pumps_refillvisit')
  say "drill: restored and recovered in $((recovered - began)) s; refill visits: $visits"
}

cmd=${1:-schedule}
shift || true
case "$cmd" in
  schedule) schedule ;;
  backup) pgb backup --type="${1:?full or diff}" && write_info ;;
  info) pgb info "$@" ;;
  restore) restore "$@" ;;
  drill) drill "$@" ;;
  *) echo "itb-backup: schedule | backup full|diff | info | restore ARGS | drill [ARGS]" >&2; exit 2 ;;
esac
