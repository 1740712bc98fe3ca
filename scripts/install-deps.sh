#!/usr/bin/env bash
# Installs the Debian packages faultline builds against and its demo and tests use.
# Idempotent: installs only what is missing. Needs root (apt).
set -euo pipefail

packages=(
  pkg-config
  libcurl4-openssl-dev                              # HTTP probes (CCurl)
  libnl-3-dev libnl-route-3-dev libnl-nf-3-dev      # netlink: qdiscs, links (CNetlink)
  iproute2 nftables procps                          # host tooling and residue checks
  python3                                           # test and demo targets (http.server)
  supervisor                                        # the local demo's real process supervisor
  redis-server redis-sentinel                       # the Redis Sentinel lab (make demo)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run as root (apt-get needs it): sudo $0" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian's supervisor package starts a system-wide supervisord where an init system runs its
# scripts; the demo runs its own instance and never needs that one.
