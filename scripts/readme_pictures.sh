#!/usr/bin/env bash
# Refresh the README pictures (docs/img/): re-run the browser journeys, which screenshot every
# step into test-artifacts/journeys/, and copy three of those screenshots. Demo people only.
# Uses the same test environment as `make test`; override TEST_DATABASE_URL / TEST_REDIS_URL.
set -euo pipefail
cd "$(dirname "$0")/.."

TEST_DATABASE_URL="${TEST_DATABASE_URL:-${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/itbportal}}"
TEST_REDIS_URL="${TEST_REDIS_URL:-${REDIS_URL:-redis://127.0.0.1:6379/0}}"
ARTIFACTS=test-artifacts/journeys
NURSE="$ARTIFACTS/test_nurse_records_a_refill_with_a_dose_change_and_books_the_next_one"
PARENT="$ARTIFACTS/test_parent_sees_new_dates_opens_the_summary_and_switches_to_spanish"
FOLD="$ARTIFACTS/test_the_most_urgent_child_and_its_dates_are_on_the_first_screen[en-US]"
OFFLINE="$ARTIFACTS/test_the_card_and_the_dates_open_offline_and_sign_out_deletes_them"

DEBUG=true .venv/bin/python manage.py compile_catalogues  # the Spanish step needs the .mo files
rm -rf "$NURSE" "$PARENT" "$FOLD" "$OFFLINE"
env DEBUG=false SECRET_KEY=test-secret-key-not-for-production \
  DATABASE_URL="$TEST_DATABASE_URL" REDIS_URL="$TEST_REDIS_URL" CELERY_BROKER_URL="$TEST_REDIS_URL" \
  SMS_BACKEND=locmem EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend \
  ALLOWED_HOSTS=testserver,localhost,127.0.0.1 ITB_VAR_DIR="$PWD/var/test" SECURE_SSL_REDIRECT=false \
  .venv/bin/python -m pytest -q -p no:cacheprovider \
  tests/journeys/test_nurse_refill.py tests/journeys/test_parent_phone.py \
  "tests/journeys/test_phone_first_screen.py::test_the_most_urgent_child_and_its_dates_are_on_the_first_screen[en-US]" \
  tests/journeys/test_phone_first_screen.py::test_the_card_and_the_dates_open_offline_and_sign_out_deletes_them

mkdir -p docs/img
cp "$PARENT"/*-home-card.png docs/img/parent-home-card-phone.png
cp "$NURSE"/*-worklist.png docs/img/nurse-worklist.png
cp "$PARENT"/*-after-visit-summary.png docs/img/after-visit-summary.png
cp "$FOLD"/first-screen.png docs/img/parent-first-screen-phone.png
cp "$OFFLINE"/offline-card-screen.png docs/img/offline-card-phone.png
for picture in docs/img/*.png; do
  size=$(stat -c %s "$picture")
  if [ "$size" -gt 307200 ]; then echo "warning: $picture is $((size / 1024)) KB (keep it under ~300 KB)" >&2; fi
  echo "$picture $((size / 1024)) KB"
done
