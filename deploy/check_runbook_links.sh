#!/usr/bin/env bash
# Every runbook_url of the shipped rules names a heading of docs/operations.md
# (GitHub's anchor: lower case, spaces as dashes, other punctuation dropped).
set -euo pipefail
rules="$1"
doc="$2"
anchors=$(grep -E '^#+ ' "$doc" | sed -E 's/^#+ +//' | tr 'A-Z' 'a-z' | sed -E 's/[^a-z0-9 -]//g; s/ /-/g')
status=0
for a in $(grep -oE 'operations\.md#[a-z0-9-]+' "$rules" | sed 's/.*#//' | sort -u); do
  if ! grep -qx -- "$a" <<<"$anchors"; then
    echo "runbook_url anchor #$a has no heading in $doc" >&2
    status=1
  fi
done
echo "checked $(grep -c runbook_url "$rules") runbook links"
exit "$status"
