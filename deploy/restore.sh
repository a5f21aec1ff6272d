#!/usr/bin/env bash
# Restores one backup written by deploy/backup.sh: checks its SHA-256 sums, replaces
# the database's contents with the dump (pg_restore --clean, in one transaction, so a
# failure leaves the database as it was) and the private uploads with the copy.
#
#   restore.sh 20270105T020000Z     (a folder name in BACKUP_DIR)
#
# Stop web, worker and beat first (docker compose stop web worker beat). The database
# comes from libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE); the
# uploads go to MEDIA_DIR.
set -euo pipefail

: "${BACKUP_DIR:?set BACKUP_DIR (where backups are written)}"
: "${MEDIA_DIR:?set MEDIA_DIR (the private uploads)}"
: "${PGDATABASE:?set PGDATABASE}"
if [ $# -ne 1 ]; then
  echo "usage: restore.sh BACKUP (one of these):" >&2
  ls -1 "$BACKUP_DIR" | grep -v '\.partial$' >&2 || true
  exit 2
fi
backup="$BACKUP_DIR/$1"
[ -f "$backup/SHA256SUMS" ] || { echo "no complete backup at $backup" >&2; exit 2; }
(cd "$backup" && sha256sum --check --quiet SHA256SUMS)

pg_restore --clean --if-exists --no-owner --no-privileges --exit-on-error \
  --single-transaction --dbname="$PGDATABASE" "$backup/database.dump"

mkdir -p "$MEDIA_DIR"
find "$MEDIA_DIR" -mindepth 1 -delete
tar --extract --gzip --numeric-owner --same-permissions --file="$backup/private-media.tar.gz" \
  -C "$MEDIA_DIR"
echo "restored $1 into database $PGDATABASE and $MEDIA_DIR"
