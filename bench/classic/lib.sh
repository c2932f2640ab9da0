# Shared by the classic benchmarks (run.sh, quantize.sh, vectors.sh): source
# it after setting DATA (the datasets directory) and WORK (the work
# directory). It builds textclf into $WORK/textclf (BIN), writes the
# benchmark splits into $WORK/data with bench/classic/prep, finds Debian's
# fasttext (FT) and defines the helpers below.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mkdir -p "$WORK"
BIN="$WORK/textclf"
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$BIN" ./cmd/textclf && go run ./bench/classic/prep -datasets "$DATA" -out "$WORK/data")
FT=$(command -v fasttext) || { echo "fasttext not installed (apt-get install -y fasttext)" >&2; exit 1; }
THREADS=2

# secs CMD…: run CMD, print its wall time in seconds (its output is dropped).
secs() { /usr/bin/time -f %e -o "$WORK/time" "$@" >/dev/null 2>"$WORK/log" || { cat "$WORK/log" >&2; exit 1; }; cat "$WORK/time"; }
# tc_acc MODEL DATA: textclf's accuracy of MODEL on DATA.
tc_acc() { "$BIN" eval --model "$1" --data "$2" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["accuracy"])'; }
# median and mean of the space-separated numbers on standard input.
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END{print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
mean() { tr ' ' '\n' | grep . | awk '{s+=$1} END{printf "%.4f", s/NR}'; }
