# Real-data check: when ../shared/data/ml-latest-small exists, prep -> train
# 20 epochs -> eval, and LightGCN must beat the most-popular baseline on
# recall@20 and ndcg@20. Skipped with a message when the data is absent.
set -u
BIN=${LGCN_BIN:-bin}
data=../shared/data/ml-latest-small
if [ ! -f "$data/ratings.csv" ]; then
    echo "ok realdata_beats_pop # SKIP $data absent"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "not ok $1"; shift; printf '#   %s\n' "$@"; }

if ! "$BIN/lgcn-prep" --ratings "$data/ratings.csv" --movies "$data/movies.csv" -o "$tmp/ml" 2>"$tmp/prep.err"; then
    fail realdata_prep "$(cat "$tmp/prep.err")"
    exit 0
fi
# the summary names the real sizes: 610 users, all 9742 catalogue movies, 100836 ratings
if grep -q '610 users, 9742 movies' "$tmp/prep.err" &&
   [ "$(grep -o '[0-9]* train / [0-9]* test' "$tmp/prep.err" | awk '{print $1 + $4}')" = 100836 ]; then
    echo "ok realdata_prep"
else
    fail realdata_prep "$(cat "$tmp/prep.err")"
fi
"$BIN/lgcn-train" -d "$tmp/ml" --epochs 20 --eval-every 0 -q || { fail realdata_train "exit $?"; exit 0; }
"$BIN/lgcn-eval" -d "$tmp/ml" -k 20 --baseline pop --format json >"$tmp/eval.json" || { fail realdata_eval "exit $?"; exit 0; }
cat "$tmp/eval.json" | sed 's/^/# /'
get() { grep "\"model\":\"$1\"" "$tmp/eval.json" | sed "s/.*\"$2\":\([0-9.]*\).*/\1/"; }
lr=$(get lightgcn recall) pr=$(get pop recall) ln=$(get lightgcn ndcg) pn=$(get pop ndcg)
if awk -v a="$lr" -v b="$pr" -v c="$ln" -v d="$pn" 'BEGIN { exit !(a > b && c > d) }'; then
    echo "ok realdata_beats_pop (recall@20 $lr vs $pr, ndcg@20 $ln vs $pn)"
else
    fail realdata_beats_pop "recall@20 $lr vs pop $pr, ndcg@20 $ln vs pop $pn"
fi
