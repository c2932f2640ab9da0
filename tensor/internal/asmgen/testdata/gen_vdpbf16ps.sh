#!/bin/sh
# Writes vdpbf16ps.txt: the encodings GNU as (binutils) gives VDPBF16PS
# zmm(dst), zmm(src1), zmm(src2) for register triples that exercise every
# extension bit (R, R', X, B, V'), one "dst src1 src2 bytes…" line each. The
# asmgen test checks encodeVDPBF16PS against them. Needs as and objdump.
set -eu
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
triples="0 6 2
1 7 2
11 17 31
27 20 9
8 15 16
31 31 31
5 24 12
16 0 7"
echo "$triples" | while read -r d s1 s2; do
	echo "vdpbf16ps %zmm$s2, %zmm$s1, %zmm$d" # AT&T order: src2, src1, dst
done > "$tmp/enc.s"
as -o "$tmp/enc.o" "$tmp/enc.s"
objdump -d "$tmp/enc.o" | grep vdpbf16ps | cut -f2 | sed 's/ *$//' > "$tmp/bytes"
{
	echo "# dst src1 src2: bytes, from $(as --version | head -1) (gen_vdpbf16ps.sh)"
	echo "$triples" | paste -d' ' - "$tmp/bytes"
} > vdpbf16ps.txt.tmp
mv vdpbf16ps.txt.tmp vdpbf16ps.txt
