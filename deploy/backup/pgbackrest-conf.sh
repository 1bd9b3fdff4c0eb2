#!/usr/bin/env bash
# Prints the pgBackRest configuration of the deployment (README "Backups") from the environment.
# The compose file's postgres and backup services write it to /etc/pgbackrest/pgbackrest.conf at
# start (deploy/backup/entrypoint.sh); the restore test (tests/deploy/test_backup_restore.py) uses
# the same file with its own paths, so what the test restores is what production keeps.
#
#   BACKUP_CIPHER_PASS      the repositories' passphrase (aes-256-cbc), or BACKUP_CIPHER_PASS_FILE
#                           (a secret file holding it); required. Keep a copy
#                           outside this machine: without it no backup can be read.
#   BACKUP_REPO1_PATH       repo1, a volume: /var/lib/pgbackrest
#   BACKUP_RETENTION_FULL   full backups kept (weekly, so 4 = four weeks back): 4
#   BACKUP_RETENTION_DIFF   differential backups kept (daily): 7
#   BACKUP_S3_BUCKET        repo2 in an object store (S3), off while empty; with it
#                           BACKUP_S3_ENDPOINT, BACKUP_S3_REGION, BACKUP_S3_KEY,
#                           BACKUP_S3_KEY_SECRET, BACKUP_S3_PATH (/itbportal),
#                           BACKUP_S3_URI_STYLE (host), BACKUP_S3_RETENTION_FULL (4)
#   PGDATA, PGPORT, PGSOCKET  the cluster: /var/lib/postgresql/data, 5432, /var/run/postgresql
#   BACKUP_LOG_PATH, BACKUP_LOCK_PATH, BACKUP_SPOOL_PATH  pgBackRest's own files
set -euo pipefail
if [ -n "${BACKUP_CIPHER_PASS_FILE:-}" ]; then BACKUP_CIPHER_PASS="$(cat "$BACKUP_CIPHER_PASS_FILE")"; fi
: "${BACKUP_CIPHER_PASS:?set BACKUP_CIPHER_PASS or BACKUP_CIPHER_PASS_FILE (the backup passphrase)}"
cat <<CONF
[global]
repo1-path=${BACKUP_REPO1_PATH:-/var/lib/pgbackrest}
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=${BACKUP_CIPHER_PASS}
repo1-retention-full-type=count
repo1-retention-full=${BACKUP_RETENTION_FULL:-4}
repo1-retention-diff=${BACKUP_RETENTION_DIFF:-7}
compress-type=zst
start-fast=y
process-max=1
log-level-console=info
log-level-file=off
log-path=${BACKUP_LOG_PATH:-/var/log/pgbackrest}
lock-path=${BACKUP_LOCK_PATH:-/tmp/pgbackrest}
spool-path=${BACKUP_SPOOL_PATH:-/var/spool/pgbackrest}
CONF
if [ -n "${BACKUP_S3_BUCKET:-}" ]; then
  : "${BACKUP_S3_ENDPOINT:?set BACKUP_S3_ENDPOINT for repo2}"
  : "${BACKUP_S3_REGION:?set BACKUP_S3_REGION for repo2}"
  : "${BACKUP_S3_KEY:?set BACKUP_S3_KEY for repo2}"
  : "${BACKUP_S3_KEY_SECRET:?set BACKUP_S3_KEY_SECRET for repo2}"
  cat <<CONF
repo2-type=s3
repo2-path=${BACKUP_S3_PATH:-/itbportal}
repo2-s3-bucket=${BACKUP_S3_BUCKET}
repo2-s3-endpoint=${BACKUP_S3_ENDPOINT}
repo2-s3-region=${BACKUP_S3_REGION}
repo2-s3-key=${BACKUP_S3_KEY}
repo2-s3-key-secret=${BACKUP_S3_KEY_SECRET}
repo2-s3-uri-style=${BACKUP_S3_URI_STYLE:-host}
repo2-cipher-type=aes-256-cbc
repo2-cipher-pass=${BACKUP_CIPHER_PASS}
repo2-retention-full-type=count
repo2-retention-full=${BACKUP_S3_RETENTION_FULL:-4}
CONF
fi
cat <<CONF

[itbportal]
pg1-path=${PGDATA:-/var/lib/postgresql/data}
pg1-port=${PGPORT:-5432}
pg1-socket-path=${PGSOCKET:-/var/run/postgresql}
pg1-user=${PGUSER:-postgres}
CONF
