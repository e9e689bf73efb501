#!/bin/sh
# ensure-debs.sh PACKAGE...: install the Debian packages that are missing
# when running as root, otherwise print the exact command and fail.
missing=""
for package in "$@"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)
  case "$status" in
    *" installed") ;;
    *) missing="$missing $package" ;;
  esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
  echo "installing missing Debian packages:$missing" >&2
  apt-get update -qq >&2 || exit 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2 || exit 1
  exit 0
fi
echo "missing Debian packages:$missing" >&2
echo "install them with: sudo apt-get install -y$missing" >&2
exit 1
