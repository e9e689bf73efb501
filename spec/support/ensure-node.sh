#!/bin/sh
# ensure-node.sh: make sure Node.js and npm exist, and that the test
# servers' npm packages are installed exactly as the lock file pins them.
cd "$(dirname "$0")/../servers" || exit 1
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Node.js and npm" >&2
    apt-get update -qq >&2 && \
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >&2 \
      || exit 1
  else
    echo "Node.js and npm are missing; install them with:" >&2
    echo "  sudo apt-get install -y nodejs npm" >&2
    exit 1
  fi
fi
[ -f package-lock.json ] || exit 0
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.stamp ]; then
  echo "installing the test servers' npm packages (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2 || exit 1
  touch node_modules/.stamp
fi
