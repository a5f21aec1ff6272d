#!/usr/bin/env bash
# One backup of the clinic: a pg_dump of the database (custom format, one consistent
# snapshot) and a copy of the private uploads, in BACKUP_DIR/<UTC time>/ with their
# SHA-256 sums. Written under a ".partial" name and renamed when complete, so a backup
# cut short is never mistaken for one that restores. Keeps the newest BACKUP_KEEP.
#
# The database comes from libpq's variables (PGHOST, PGPORT, PGUSER, PGPASSWORD,
# PGDATABASE); the uploads from MEDIA_DIR. In docker-compose.yml the "backup" service
# runs this every BACKUP_INTERVAL_HOURS; restore with deploy/restore.sh.
set -euo pipefail

: "${BACKUP_DIR:?set BACKUP_DIR (where backups are written)}"
: "${MEDIA_DIR:?set MEDIA_DIR (the private uploads)}"
: "${PGDATABASE:?set PGDATABASE}"
keep="${BACKUP_KEEP:-14}"
case "$keep" in
  '' | *[!0-9]* | 0) echo "BACKUP_KEEP must be a whole number of at least 1, not '$keep'." >&2; exit 2 ;;
esac

mkdir -p "$BACKUP_DIR"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
while [ -e "$BACKUP_DIR/$stamp" ] || [ -e "$BACKUP_DIR/$stamp.partial" ]; do
  sleep 1
  stamp="$(date -u +%Y%m%dT%H%M%SZ)"
done
partial="$BACKUP_DIR/$stamp.partial"
trap 'rm -rf "$partial"' EXIT
mkdir "$partial"

# The database first: a file the dump refers to was uploaded before it, so it is in
# the copy below unless deleted in between; files uploaded meanwhile are extra.
pg_dump --format=custom --no-owner --no-privileges --file="$partial/database.dump"
tar --create --gzip --numeric-owner --file="$partial/private-media.tar.gz" -C "$MEDIA_DIR" .
(cd "$partial" && sha256sum database.dump private-media.tar.gz > SHA256SUMS)

mv "$partial" "$BACKUP_DIR/$stamp"
trap - EXIT
echo "backup written: $BACKUP_DIR/$stamp"

# Only completed backups (no ".partial") count; the oldest beyond BACKUP_KEEP go.
find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '????????T??????Z' | sort -r \
  | tail -n +"$((keep + 1))" | while read -r old; do
      rm -rf "$old"
      echo "backup removed: $old"
    done
