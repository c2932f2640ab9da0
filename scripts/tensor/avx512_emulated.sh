#!/usr/bin/env bash
# avx512_emulated.sh runs a Go package's tests on an emulated AVX-512 CPU, so
# that the AVX-512 assembly of package tensor can be tested on machines
# without it (an AVX2-only Zen 3, say).
#
#   scripts/tensor/avx512_emulated.sh [--timeout SECONDS] [--env NAME=VALUE]... PKG [test flags...]
#
# It builds `CGO_ENABLED=0 go test -c PKG` (a static binary), boots Debian's
# kernel under Bochs 2.7 (CPU model tigerlake: AVX-512 F/CD/BW/DQ/VL and VNNI,
# no AVX512_BF16) with an initramfs whose init (avx512emu/init) runs the test
# binary with the test flags (such as -test.run 'Sgemm' -test.v) in a copy of
# the package's testdata, and prints the test output. It exits with the test
# binary's exit status; 125 when the harness itself fails (no boot, kernel
# panic, timeout, an AVX-512 flag missing in the guest, no HARNESS-EXIT line).
# Everything comes from Debian packages, fetched with `apt-get download` into
# $TEXTCLF_EMU_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/textclf-avx512emu)
# on the first run. Bochs runs one thread under nice -n 19.
#
# AVX512_BF16 (VDPBF16PS) needs a newer Bochs than Debian's: --bochs DIR runs
# one built from its source tree DIR (DIR/bochs and DIR/bios; configured
# with the x86-64, AVX and EVEX features, the nogui display and no
# debugger), and --cpu sapphire_rapids picks a CPU model with AVX512_BF16,
# which the guest must then report.
set -euo pipefail

usage() {
	cat >&2 <<'EOF'
usage: avx512_emulated.sh [--timeout SECONDS] [--env NAME=VALUE]... [--keep] [--bochs DIR] [--cpu MODEL] PKG [test flags...]
  --timeout SECONDS  wall-clock limit for the whole emulated run (default 1800)
  --env NAME=VALUE   set NAME in the test binary's environment (repeatable)
  --keep             keep the work directory (serial log, bochs log, ISO)
  --bochs DIR        a Bochs source tree built with nogui and no debugger
                     (DIR/bochs, DIR/bios) instead of Debian's Bochs 2.7
  --cpu MODEL        Bochs CPU model (default tigerlake; sapphire_rapids has
                     AVX512_BF16, in Bochs 3.0 and later)
Runs `go test -c PKG` under Bochs (CPU tigerlake, AVX-512 with VNNI) and exits
with the test binary's status; 125 if the harness itself fails.
EOF
	exit 2
}

die() {
	echo "avx512_emulated: $*" >&2
	exit 125
}

timeout=1800
keep=0
envs=()
bochs_dir=
cpu_model=tigerlake
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) [ $# -ge 2 ] || usage; timeout=$2; shift 2 ;;
	--timeout=*) timeout=${1#*=}; shift ;;
	--env) [ $# -ge 2 ] || usage; envs+=("$2"); shift 2 ;;
	--env=*) envs+=("${1#*=}"); shift ;;
	--keep) keep=1; shift ;;
	--bochs) [ $# -ge 2 ] || usage; bochs_dir=$2; shift 2 ;;
	--bochs=*) bochs_dir=${1#*=}; shift ;;
	--cpu) [ $# -ge 2 ] || usage; cpu_model=$2; shift 2 ;;
	--cpu=*) cpu_model=${1#*=}; shift ;;
	-h | --help) usage ;;
	--) shift; break ;;
	-*) echo "avx512_emulated: unknown flag $1" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || usage
pkg=$1
shift
[[ $timeout =~ ^[0-9]+$ ]] && [ "$timeout" -gt 0 ] || die "--timeout wants a positive number of seconds, got '$timeout'"
[[ $cpu_model =~ ^[a-z0-9_]+$ ]] || die "--cpu wants a Bochs CPU model name, got '$cpu_model'"
if [ -n "$bochs_dir" ]; then
	[ -x "$bochs_dir/bochs" ] && [ -f "$bochs_dir/bios/BIOS-bochs-latest" ] ||
		die "--bochs $bochs_dir: no bochs binary and bios/BIOS-bochs-latest there (build Bochs in that tree first)"
fi
for e in "${envs[@]}"; do
	[[ $e == [A-Za-z_]*=* ]] || die "--env wants NAME=VALUE, got '$e'"
done
for a in "$@"; do
	[[ $a != *$'\n'* ]] || die "test flags may not contain newlines"
done

here=$(cd "$(dirname "$0")" && pwd)
cache=${TEXTCLF_EMU_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/textclf-avx512emu}
root=$cache/root

# The Debian packages: Bochs, its BIOS images, isolinux, xorriso (and the
# libraries of these two that a Go build machine may not have), cpio and a
# cloud kernel (only its /boot is unpacked). The kernel is 6.12 (Debian 12
# has it as linux-image-6.12-cloud-amd64, Debian 13 as its default): Debian
# 12's 6.1 kernels, generic and cloud, hang under Bochs's tigerlake model
# (a loop of faults right after "LSM: Security Framework initializing"). The
# cloud kernel is compressed with zstd, which decompresses fast enough under
# emulation; the generic kernel's xz takes over a minute.
fetch_packages() {
	command -v apt-get >/dev/null || die "needs apt-get (Debian) to fetch bochs, xorriso, isolinux and the kernel"
	local kernel meta
	for meta in linux-image-6.12-cloud-amd64 linux-image-cloud-amd64; do
		kernel=$(apt-cache depends "$meta" 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { print $2; exit }')
		[ -z "$kernel" ] || break
	done
	[ -n "$kernel" ] || die "apt-cache knows neither linux-image-6.12-cloud-amd64 nor linux-image-cloud-amd64 (run apt-get update)"
	local pkgs=(bochs bochsbios vgabios isolinux syslinux-common xorriso libisoburn1 libburn4 libisofs6 libjte2 libsamplerate0 cpio "$kernel")
	local stamp="${pkgs[*]}"
	if [ -f "$cache/packages" ] && [ "$(cat "$cache/packages")" = "$stamp" ]; then
		return
	fi
	echo "avx512_emulated: fetching ${pkgs[*]} into $cache" >&2
	rm -rf "$cache/debs" "$root"
	mkdir -p "$cache/debs" "$root"
	(cd "$cache/debs" && apt-get download -q "${pkgs[@]}" >/dev/null 2>"$cache/apt.err") ||
		{ cat "$cache/apt.err" >&2; die "apt-get download failed (apt-get update may help)"; }
	local f
	for f in "$cache"/debs/*.deb; do
		case ${f##*/} in
		linux-image-*) dpkg-deb --fsys-tarfile "$f" | tar -x -C "$root" --wildcards './boot/*' ;;
		*) dpkg-deb -x "$f" "$root" ;;
		esac
	done
	echo "$stamp" >"$cache/packages"
}
fetch_packages

export LD_LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LTDL_LIBRARY_PATH=$root/usr/lib/x86_64-linux-gnu/bochs/plugins
# Debian's Bochs has no 'nogui' display and is built with the debugger: the
# RFB display with timeout=0 does not wait for a viewer, and the debugger
# script "c" starts the machine. A Bochs of --bochs has neither.
bochs=$root/usr/bin/bochs-bin
bios=$root/usr/share/bochs/BIOS-bochs-latest
display='rfb, options="timeout=0"'
debugger=1
if [ -n "$bochs_dir" ]; then
	bochs=$bochs_dir/bochs bios=$bochs_dir/bios/BIOS-bochs-latest display=nogui debugger=0
fi
xorriso=$root/usr/bin/xorriso
cpio=$root/bin/cpio
for b in "$bochs" "$xorriso"; do
	missing=$(ldd "$b" | awk '/not found/ { print $1 }')
	[ -z "$missing" ] || die "$b needs libraries this machine lacks: $missing (apt-get install ${b##*/} brings them)"
done
vmlinuz=$(ls "$root"/boot/vmlinuz-* 2>/dev/null | head -1)
[ -n "$vmlinuz" ] || die "no kernel in $root/boot"

work=$(mktemp -d "${TMPDIR:-/tmp}/avx512emu.XXXXXX")
bochs_pid=
cleanup() {
	if [ -n "$bochs_pid" ]; then kill "$bochs_pid" 2>/dev/null || true; fi
	if [ "$keep" = 1 ]; then echo "avx512_emulated: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# The initramfs: /init, the test binary, its flags and environment, and the
# package's testdata (tests run in the package directory, as with go test).
rd=$work/initramfs
mkdir -p "$rd/harness/pkg"
pkgdir=$(go list -f '{{.Dir}}' "$pkg") || die "go list $pkg failed"
# Go 1.26's Green Tea GC scans the heap with AVX-512 VBMI, GFNI and BITALG
# where the CPU has them; under Bochs 2.7 that corrupts the heap ("found
# pointer to free object", "found bad pointer in Go heap", also with no
# tensor assembly running), so both binaries are built without it. (Under
# Bochs 3.0's sapphire_rapids the tensor tests pass with it: a Bochs 2.7 bug.)
export GOEXPERIMENT=${GOEXPERIMENT:+$GOEXPERIMENT,}nogreenteagc CGO_ENABLED=0
echo "avx512_emulated: building $pkg (CGO_ENABLED=0 GOEXPERIMENT=$GOEXPERIMENT go test -c)" >&2
nice -n 19 go test -c -o "$rd/harness/test" "$pkg" || die "go test -c $pkg failed"
[ -f "$rd/harness/test" ] || die "$pkg has no tests"
nice -n 19 go build -o "$rd/init" "$here/avx512emu/init" || die "building the init failed"
if [ -d "$pkgdir/testdata" ]; then cp -R "$pkgdir/testdata" "$rd/harness/pkg/"; fi
# A package one level below the module root may read the root's testdata
# (../testdata), as model and train do: copy it beside.
modroot=$(cd "$pkgdir" && go list -m -f '{{.Dir}}')
if [ "$(dirname "$pkgdir")" = "$modroot" ] && [ "$pkgdir" != "$modroot" ] && [ -d "$modroot/testdata" ]; then
	cp -R "$modroot/testdata" "$rd/harness/"
fi
printf '%s\n' "$@" >"$rd/harness/args"
[ $# -gt 0 ] || : >"$rd/harness/args"
printf '%s\n' "${envs[@]}" >"$rd/harness/env"
[ ${#envs[@]} -gt 0 ] || : >"$rd/harness/env"
(cd "$rd" && find . | LC_ALL=C sort | "$cpio" -o -H newc --owner 0:0 --quiet) >"$work/initrd" || die "cpio failed"

# The boot CD: isolinux loads the kernel and the initramfs. clearcpuid works
# around Bochs 2.7's XSAVE leaf (CPUID 0xD): it lists PKRU with size 0 (a
# misspelt #if in cpuid.cc) and gives the standard size for the compacted
# format, and Linux then turns XSAVE (so AVX) off; without PKU, OSPKE, XSAVES
# and XSAVEC Linux uses the standard format and enables the AVX-512 state in
# XCR0 (init prints the flags Go sees). no5lvl keeps 4-level paging: Bochs
# 3.0's sapphire_rapids model has LA57, and Debian 13's Bochs 3.0 (the
# snapshot of February 2025) panics in its SMM restore when CR4.LA57 is on
# ("SMM restore: CR4 consistency check failed").
iso=$work/iso
mkdir -p "$iso/isolinux"
cp "$root/usr/lib/ISOLINUX/isolinux.bin" "$root/usr/lib/syslinux/modules/bios/ldlinux.c32" "$iso/isolinux/"
cp "$vmlinuz" "$iso/vmlinuz"
mv "$work/initrd" "$iso/initrd"
cat >"$iso/isolinux/isolinux.cfg" <<'EOF'
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd
  APPEND console=ttyS0 quiet mitigations=off tsc=reliable clearcpuid=ospke,pku,xsaves,xsavec no5lvl
EOF
"$xorriso" -as mkisofs -quiet -o "$work/boot.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table "$iso" 2>"$work/xorriso.err" ||
	{ cat "$work/xorriso.err" >&2; die "xorriso failed"; }
rm -rf "$iso" "$rd"

# clock: sync=none runs as fast as it can.
serial=$work/serial.log
cat >"$work/bochsrc" <<EOF
display_library: $display
megs: 1024
cpu: model=$cpu_model, count=1, ips=200000000, reset_on_triple_fault=0, ignore_bad_msrs=1
romimage: file=$bios, options=fastboot
vgaromimage: file=$root/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path=$work/boot.iso, status=inserted
boot: cdrom
clock: sync=none, time0=local
com1: enabled=1, mode=file, dev=$serial
log: $work/bochs.log
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
EOF
echo c >"$work/debugger.rc"
rc=()
if [ "$debugger" = 1 ]; then rc=(-rc "$work/debugger.rc"); fi
: >"$serial"
start=$SECONDS
echo "avx512_emulated: booting under Bochs (timeout ${timeout}s, logs in $work)" >&2
BXSHARE=$root/usr/share/bochs nice -n 19 "$bochs" -q -f "$work/bochsrc" "${rc[@]}" </dev/null >"$work/bochs.out" 2>&1 &
bochs_pid=$!

# Follow the serial console: print what init prints (from its first line on),
# stop at HARNESS-EXIT, HARNESS-ERROR, a kernel panic, Bochs's exit or the
# timeout.
printed=0 booted=0 result= init_at=0
fail() {
	echo "avx512_emulated: $*" >&2
	echo "---- last lines of the serial console ($serial) ----" >&2
	tail -n 30 "$serial" | tr -d '\r' >&2
	echo "---- last lines of the Bochs log ----" >&2
	tail -n 10 "$work/bochs.log" >&2 2>/dev/null || true
	keep=1
	exit 125
}
while :; do
	sleep 1
	lines=$(tr -d '\r' <"$serial" | wc -l)
	if [ "$booted" = 0 ] && grep -q '^HARNESS-INIT' <(tr -d '\r' <"$serial"); then
		booted=1
		printed=$(tr -d '\r' <"$serial" | grep -n '^HARNESS-INIT' | head -1 | cut -d: -f1)
		printed=$((printed - 1))
		init_at=$((SECONDS - start))
		echo "avx512_emulated: init started after ${init_at}s" >&2
	fi
	if [ "$booted" = 1 ] && [ "$lines" -gt "$printed" ]; then
		tr -d '\r' <"$serial" | sed -n "$((printed + 1)),${lines}p"
		printed=$lines
	fi
	if grep -q 'Kernel panic - not syncing' "$serial"; then fail "kernel panic after $((SECONDS - start))s"; fi
	if grep -q '^HARNESS-ERROR' <(tr -d '\r' <"$serial"); then fail "init failed"; fi
	if grep -q '^HARNESS-EXIT=' <(tr -d '\r' <"$serial"); then
		result=$(tr -d '\r' <"$serial" | sed -n 's/^HARNESS-EXIT=\([0-9]*\).*/\1/p' | head -1)
		break
	fi
	if ! kill -0 "$bochs_pid" 2>/dev/null; then fail "Bochs exited without a HARNESS-EXIT line (see $work/bochs.out)"; fi
	if [ $((SECONDS - start)) -ge "$timeout" ]; then fail "timeout: no HARNESS-EXIT line after ${timeout}s"; fi
done
# Print the rest of the serial output, then let the guest power off (Bochs
# quits on ACPI S5); kill it if it lingers.
sleep 1
tr -d '\r' <"$serial" | sed -n "$((printed + 1)),\$p"
for _ in $(seq 1 30); do
	kill -0 "$bochs_pid" 2>/dev/null || break
	sleep 1
done
if kill -0 "$bochs_pid" 2>/dev/null; then kill "$bochs_pid"; fi
wait "$bochs_pid" 2>/dev/null || true
bochs_pid=

# The guest must have seen the AVX-512 flags; else the test ran the wrong code.
cpuline=$(tr -d '\r' <"$serial" | grep '^HARNESS-CPU' | head -1)
need=(avx512f avx512vl avx512bw avx512dq avx512vnni)
if [ "$cpu_model" = sapphire_rapids ]; then need+=(avx512bf16); fi
for f in "${need[@]}"; do
	[[ " $cpuline " == *" $f=true "* ]] || fail "the guest CPU lacks $f: $cpuline"
done
# Bochs's log lines start with its tick count (one per instruction; idle
# time is skipped in ticks too, clock: sync=none).
ticks=$(awk '{ t = $1 } END { sub(/[a-z].*/, "", t); printf "%.0f", t }' "$work/bochs.log" 2>/dev/null || echo 0)
total=$((SECONDS - start))
echo "avx512_emulated: test exit status $result; init after ${init_at}s, tests $((total - init_at))s, ${total}s in all; $ticks Bochs ticks (~$((ticks / (total > 0 ? total : 1) / 1000000)) M/s)" >&2
exit "$result"
