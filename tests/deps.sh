#!/bin/sh
# deps.sh PKG... -- install the Debian packages that are missing, saying so.
# Used by `make deps`, `make test` and `make demo`; runs apt-get through
# sudo when not root.
missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "cnsearch: installing missing packages:$missing" >&2
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null || { echo "cnsearch: apt-get update failed; install$missing by hand" >&2; exit 1; }
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
  { echo "cnsearch: could not install$missing; install them by hand" >&2; exit 1; }
