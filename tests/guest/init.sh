#!/bin/sh
# SPDX-License-Identifier: MIT
# /init of dartlab's Linux guest (scripts/build-guest.sh puts it into the initramfs; protocol and
# layout: docs/guest-image.md). Busybox sh, PID 1.
#
#  - `dartlab.shell` on the kernel command line: an interactive shell on the serial console.
#  - `dartlab.probe`: prints "probe ok" and powers off (run-guest.sh's KVM check).
#  - otherwise: runs the scenario /scenario/run.sh (appended to the initramfs by
#    scripts/run-guest.sh) with its working directory /results, then sends /results as a tar
#    archive through the results channel (an ivshmem-plain BAR, tool ivshmem-put) and powers off.
# Nothing is loaded here: the scenario loads the modules it needs, in the order it tests
# (apple_dma before nvme, or after). Neither the scenario nor the results need a driver module.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export HOME=/root

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp

say() { echo "dartlab-init: $*"; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }

# The first line run-guest.sh waits for: the kernel's own clock at the start of /init.
say "init at $(uptime_s) s (kernel $(uname -r))"

# run-guest.sh's check that KVM really runs this kernel: booting this far is the proof.
if grep -qw dartlab.probe /proc/cmdline; then
  say "probe ok"
  poweroff -f
fi

if grep -qw dartlab.shell /proc/cmdline; then
  say "interactive shell: modules in /lib/modules/$(uname -r) (modprobe nvme; insmod .../extra/apple_dma.ko),"
  say "tools in /bin, debugfs mounted; 'poweroff -f' (or Ctrl-a x in QEMU) leaves"
  # cttyhack opens the real console device (ttyS0) so that the shell gets job control.
  setsid cttyhack sh -l
  poweroff -f
fi

mkdir -p /results
cd /results || exit 1
if [ -f /scenario/run.sh ]; then
  say "scenario start at $(uptime_s) s"
  # Its output goes to the console (live, and into run-guest.sh's console.log) and to
  # /results/scenario.log; large data belongs in files under /results, not on the console.
  # shellcheck disable=SC3040  # busybox ash has pipefail: the scenario's status, not tee's
  set -o pipefail
  sh /scenario/run.sh 2>&1 | tee /results/scenario.log
  status=$?
  # shellcheck disable=SC3040
  set +o pipefail
  say "scenario exit $status at $(uptime_s) s"
else
  say "no /scenario/run.sh and no dartlab.shell on the command line: nothing to run"
  status=127
fi
echo "$status" > /results/status
cd /

if tar -c -f /tmp/results.tar -C /results . && ivshmem-put "$status" < /tmp/results.tar; then
  say "results sent ($(wc -c < /tmp/results.tar) bytes) at $(uptime_s) s"
else
  say "error: could not send the results"
fi
sync
poweroff -f
