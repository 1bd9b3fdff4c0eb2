#!/usr/bin/env bash
# Writes pgBackRest's configuration from the environment (deploy/backup/pgbackrest-conf.sh), then
# starts PostgreSQL (the image's own entrypoint) or, for the backup service, `itb-backup` as the
# postgres user: schedule (the default), backup full|diff, info, restore ..., drill.
set -euo pipefail
install -d -m 0755 /etc/pgbackrest
(umask 077 && pgbackrest-conf > /etc/pgbackrest/pgbackrest.conf)
chown postgres:postgres /etc/pgbackrest/pgbackrest.conf
install -d -o postgres -g postgres -m 0755 /var/lib/itb-backup-info
install -d -o postgres -g postgres -m 0775 /var/run/postgresql
case "${1:-postgres}" in
  postgres) exec docker-entrypoint.sh "$@" ;;
  schedule | backup | info | restore | drill) exec gosu postgres itb-backup "$@" ;;
  *) exec "$@" ;;
esac
