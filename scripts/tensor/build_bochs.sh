#!/usr/bin/env bash
# build_bochs.sh builds a Bochs that emulates AVX512_BF16 (CPU model
# sapphire_rapids), for `avx512_emulated.sh --bochs DIR --cpu sapphire_rapids`.
#
#   scripts/tensor/build_bochs.sh DIR
#
# Debian 12's Bochs (2.7) has no AVX512_BF16; Debian 13 (trixie) packages
# Bochs 3.0. The source comes from that Debian package, through the machine's
# own Debian mirror (the URI its apt sources name):
#   1. `apt-get update` of trixie's source index into a private directory
#      (apt checks its signature with the machine's archive keyring);
#   2. the upstream tarball the index lists for bochs, downloaded by apt's
#      helper and checked against the index's SHA-256;
#   3. configured with the x86-64, AVX and EVEX features, the nogui display,
#      no plugins and no debugger, and built (make -j2: 1.6 minutes on an idle
#      2-core machine, 2.7 minutes of CPU).
# DIR then holds `bochs` and `bios/BIOS-bochs-latest` (Debian 12's bochsbios:
# Bochs 3.0 boots it). Nothing happens when DIR/bochs exists already. Needs
# apt-get, g++ and make; TEXTCLF_BOCHS_SUITE overrides the suite (trixie).
set -euo pipefail

die() { echo "build_bochs: $*" >&2; exit 1; }
[ $# -eq 1 ] || die "usage: build_bochs.sh DIR"
dir=$1
suite=${TEXTCLF_BOCHS_SUITE:-trixie}
if [ -x "$dir/bochs" ] && [ -f "$dir/bios/BIOS-bochs-latest" ]; then
	echo "build_bochs: $dir/bochs is there already"
	exit 0
fi

work=$(mktemp -d /tmp/build-bochs.XXXXXX)
trap 'rm -rf "$work"' EXIT

# The mirror of the machine's own release.
. /etc/os-release
uri=$(apt-get indextargets --format '$(CODENAME) $(REPO_URI)' | awk -v c="$VERSION_CODENAME" '$1 == c {print $2; exit}')
[ -n "$uri" ] || die "no apt source for Debian $VERSION_CODENAME on this machine"

mkdir -p "$work/lists/partial"
cat > "$work/src.sources" <<EOF
Types: deb-src
URIs: $uri
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# APT::Sandbox::User=root: the private directories are root's (apt would
# otherwise warn that it cannot download as its own user).
apt_opts=(-o "Dir::Etc::SourceList=$work/src.sources" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$work/lists"
	-o APT::Sandbox::User=root)
apt-get -qq "${apt_opts[@]}" update || die "apt-get update of $suite's sources failed"
index=$(find "$work/lists" -maxdepth 1 -name "*_${suite}_main_source_Sources*" | head -1)
[ -n "$index" ] || die "no source index for $suite"
# The bochs stanza: its Directory, Version, and the upstream tarball's SHA-256.
read -r directory version sha file < <(/usr/lib/apt/apt-helper cat-file "$index" | awk '
	/^Package: / { p = ($2 == "bochs") }
	p && /^Directory: / { d = $2 }
	p && /^Version: / { v = $2 }
	p && /^Checksums-Sha256:/ { s = 1; next }
	p && s && /^ / { if ($3 ~ /\.orig\.tar\./) { h = $1; f = $3 }; next }
	{ s = 0 }
	p && /^$/ { if (f != "") { print d, v, h, f; exit } }
	END { if (p && f != "") print d, v, h, f }')
[ -n "${file:-}" ] || die "no bochs source package in $suite"
echo "build_bochs: Debian $suite bochs $version ($file)"
/usr/lib/apt/apt-helper -o APT::Sandbox::User=root download-file "$uri$directory/$file" "$work/$file" "SHA256:$sha" >/dev/null ||
	die "downloading $file failed"
mkdir "$work/src"
tar -xf "$work/$file" -C "$work/src" --strip-components=1

(cd "$work" && apt-get download -qq -o APT::Sandbox::User=root bochsbios) || die "apt-get download bochsbios failed"
dpkg-deb -x "$work"/bochsbios_*.deb "$work/bios-pkg"

echo "build_bochs: configure and make (a few minutes)"
(
	cd "$work/src"
	./configure --enable-x86-64 --enable-cpu-level=6 --enable-avx --enable-evex \
		--enable-all-optimizations --enable-pci --with-nogui --disable-plugins >"$work/configure.log" 2>&1 ||
		{ tail -20 "$work/configure.log" >&2; exit 1; }
	make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -30 "$work/make.log" >&2; exit 1; }
) || die "building Bochs $version failed"

mkdir -p "$dir/bios"
cp "$work/bios-pkg/usr/share/bochs/BIOS-bochs-latest" "$dir/bios/"
cp "$work/src/bochs" "$dir/bochs.tmp" && mv "$dir/bochs.tmp" "$dir/bochs"
echo "build_bochs: $dir/bochs (Bochs $version)"
