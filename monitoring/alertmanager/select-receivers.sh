#!/bin/sh
# Writes the Alertmanager config with only the receivers whose secrets exist.
#   select-receivers.sh CONFIG SECRETS_DIR OUT
# Blocks between "# requires: FILE" and "# end requires" in CONFIG are kept
# when SECRETS_DIR/FILE exists and is not empty, and left out otherwise, with
# one log line each on stderr. POSIX sh and awk only: it runs in the
# Alertmanager image's busybox (Kubernetes init container, compose entrypoint).
set -eu
config=$1 secrets=$2 out=$3
awk -v secrets="$secrets" '
  function present(file,   line, ok) {
    ok = (getline line < file) > 0
    close(file)
    return ok
  }
  /^[ \t]*# requires: / {
    name = $0; sub(/^[ \t]*# requires: /, "", name); sub(/[ \t]+$/, "", name)
    keep = present(secrets "/" name)
    if (!keep && !(name in said)) {
      said[name] = 1
      printf "select-receivers: %s/%s is missing or empty: the parts of the config that need it are left out\n", secrets, name > "/dev/stderr"
    }
    skipping = !keep
    next
  }
  /^[ \t]*# end requires/ { skipping = 0; next }
  !skipping { print }
' "$config" > "$out.tmp"
mv "$out.tmp" "$out"
