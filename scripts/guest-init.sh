#!/bin/sh
# PID 1 of a QEMU guest once its initramfs (scripts/guest-kernel.sh) has mounted this machine's
# root and brought up the network: starts sshd with the configuration in fl.dir (the harness
# writes it there), says on the console that the guest is up, and stays PID 1 as faultline's own
# lab host init, which reaps orphans and ends everything on SIGTERM.
arg() { tr ' ' '\n' < /proc/cmdline | sed -n "s/^$1=//p" | tail -1; }
# What systemd does at boot: the cgroup v2 controllers offered to the root's children, so a
# service's cgroup (made by the test, as a unit's would be) has cpu.max, memory.max, io.max.
echo "+cpu +memory +io" > /sys/fs/cgroup/cgroup.subtree_control || echo "guest: no cgroup v2 controllers"
/usr/sbin/sshd -f "$(arg fl.dir)/sshd_config" -E /run/fl-guest/sshd.log || { echo "guest: sshd did not start:"; cat /run/fl-guest/sshd.log; }
echo "faultline-guest: up $(cut -d' ' -f1 /proc/uptime) s after boot, kernel $(uname -r)"
exec "$(arg fl.faultline)" lab host-init --ready-file /run/fl-guest/ready
