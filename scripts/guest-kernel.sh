#!/usr/bin/env bash
# Prepares a Debian stock kernel for QEMU guests and prints its directory: the kernel package
# (linux-image-amd64's current image) fetched with `apt-get download` and unpacked with
# `dpkg-deb -x` — never installed on this machine — its module tree indexed (busybox depmod),
# and a small initramfs of busybox-static, the modules the guest needs to mount this machine's
# root over 9p (read-only), and an /init that does so. The guest then runs this machine's own
# binaries (faultline, sshd, tc, ping) on its own kernel, as virtme-ng does; its modules
# (sch_netem, ifb, …) come from the unpacked tree, which the guest sees over the same 9p root.
#
# Idempotent: kept in .build/guest/RELEASE/ and made again only when absent. Needs
# busybox-static and apt's access to a Debian mirror; prints why not otherwise (exit 1).
set -euo pipefail
cd "$(dirname "$0")/.."
base="$PWD/.build/guest"
mkdir -p "$base"
fail() { echo "guest-kernel: $*" >&2; exit 1; }
[ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || fail "busybox-static is not installed"
busybox=$(command -v busybox)
file "$busybox" 2>/dev/null | grep -q "statically linked" || ldd "$busybox" 2>&1 | grep -q "not a dynamic" ||
  fail "$busybox is not statically linked (install busybox-static)"
# The image package linux-image-amd64 points at, e.g. linux-image-6.1.0-57-amd64.
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$pkg" ] || fail "apt knows no linux-image-amd64 (apt-get update?)"
release=${pkg#linux-image-}
dir="$base/$release"
# The initramfs is made again when this script is newer than it; the kernel only when absent.
if [ -f "$dir/ready" ] && [ "$dir/initramfs.cpio.gz" -nt "$0" ]; then echo "$dir"; exit 0; fi
if [ ! -f "$dir/tree/unpacked" ]; then
  rm -rf "$dir" && mkdir -p "$dir/tree"
  (cd "$dir" && apt-get download -q "$pkg" >/dev/null 2>"$dir/download.log") || fail "apt-get download $pkg: $(tail -1 "$dir/download.log")"
  dpkg-deb -x "$dir"/"$pkg"_*.deb "$dir/tree"
  rm -f "$dir"/"$pkg"_*.deb
  "$busybox" depmod -b "$dir/tree" "$release"
  touch "$dir/tree/unpacked"
fi
modules="$dir/tree/lib/modules/$release"
# The modules the initramfs loads, each after what it depends on (modules.dep), for: virtio's
# PCI transport, the 9p root and the overlay over it, and the network card.
wanted=(virtio_pci 9pnet_virtio 9p overlay virtio_net)
order=()
add() {
  local m=$1 path deps d
  path=$(awk -F: -v m="/$m.ko" '{ i = index($1, m) } i > 0 && i == length($1) - length(m) + 1 { print $1; exit }' "$modules/modules.dep")
  [ -n "$path" ] || return 0  # built in
  for seen in "${order[@]:-}"; do [ "$seen" = "$path" ] && return 0; done
  deps=$(awk -F: -v p="$path" '$1 == p { print $2; exit }' "$modules/modules.dep")
  for d in $deps; do add "$(basename "$d" .ko)"; done
  order+=("$path")
}
for m in "${wanted[@]}"; do add "$m"; done
initramfs="$dir/initramfs"
rm -rf "$initramfs" && mkdir -p "$initramfs"/{bin,dev,proc,sys,newroot,modules}
cp "$busybox" "$initramfs/bin/busybox"
: > "$initramfs/modules/order"
for p in "${order[@]}"; do
  cp "$modules/$p" "$initramfs/modules/"
  echo "$(basename "$p")" >> "$initramfs/modules/order"
done
cat > "$initramfs/init" <<'INIT'
#!/bin/busybox sh
# The guest's first process, all in busybox in memory (a program run from the 9p root costs a
# fifth of a second to load under emulation): loads the modules the root needs, mounts this
# machine's root over 9p read-only under an overlay whose writes stay in the guest's memory,
# with fresh /run and /root (this machine's /tmp is seen through the overlay: a test's files
# are there), puts the unpacked kernel's modules and configuration where
# its tools look, lets the kernel load modules through busybox's modprobe (this machine has no
# kmod), names the guest, brings up its network card with the address the command line gives
# (fl.addr=A.B.C.D/N), and hands PID 1 to the guest init the command line names (fl.init).
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /modules/order); do insmod "/modules/$m" || echo "guest: insmod $m failed"; done
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p" | tail -1; }
tree=$(arg fl.tree)
init=$(arg fl.init)
mkdir -p /lower /upper
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose root /lower || { echo "guest: no 9p root"; poweroff -f; }
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/data /upper/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work /newroot || { echo "guest: no overlay"; poweroff -f; }
for d in run root; do mount -t tmpfs -o mode=0755 tmpfs "/newroot/$d"; done
chmod 0700 /newroot/root
release=$(uname -r)
mkdir -p "/newroot/lib/modules/$release"
mount -o bind "/lower$tree/lib/modules/$release" "/newroot/lib/modules/$release"
mount -o bind "/lower$tree/boot" /newroot/boot
mkdir -p /newroot/run/fl-guest/bin /newroot/run/sshd
ln -s /usr/bin/busybox /newroot/run/fl-guest/bin/modprobe
echo /run/fl-guest/bin/modprobe > /proc/sys/kernel/modprobe
hostname "$(arg fl.name)"
ip link set lo up
ip addr add "$(arg fl.addr)" dev eth0
ip link set eth0 up
mount -o move /dev /newroot/dev
mkdir -p /newroot/dev/pts
mount -t devpts devpts /newroot/dev/pts
mount -o move /proc /newroot/proc
mount -o move /sys /newroot/sys
mount -t cgroup2 cgroup2 /newroot/sys/fs/cgroup
exec switch_root /newroot /bin/sh "$init"
INIT
chmod 755 "$initramfs/init"
(cd "$initramfs" && find . | "$busybox" cpio -o -H newc 2>/dev/null | gzip -1) > "$dir/initramfs.cpio.gz"
rm -rf "$initramfs"
# The kernel uncompressed (an ELF QEMU boots through its PVH entry, CONFIG_PVH=y): the image's
# own xz decompression took four of a boot's thirteen seconds under emulation.
python3 - "$dir/tree/boot/vmlinuz-$release" "$dir/vmlinux" <<'PY' || fail "no xz-compressed kernel found in vmlinuz-$release"
import lzma, sys
data = open(sys.argv[1], "rb").read()
start = data.find(b"\xfd7zXZ\x00")
assert start >= 0
elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[start:])
assert elf[:4] == b"\x7fELF"
open(sys.argv[2], "wb").write(elf)
PY
echo "$release" > "$dir/ready"
echo "$dir"
