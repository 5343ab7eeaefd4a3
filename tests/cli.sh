# CLI tests: run the five lgcn commands on testdata/ and check exit codes and
# exact outputs. Run from the repository root as `sh tests/cli.sh`, with
# LGCN_BIN naming the directory of the binaries (default bin). Prints
# "ok NAME" or "not ok NAME" plus "#" lines showing expected vs actual.
#
# Expected outputs live in testdata/golden/:
#   catalogue.tsv           movies.csv by hand as movie_id<TAB>title<TAB>genres
#                           (CSV quoting undone): every recommended row must match it
#   prep*.err               lgcn-prep's stderr summaries, the temp dir shown as TMP
#   eval-pop*.tsv           the popularity baseline, worked out by hand (see below)
#   list-genres.txt         lgcn-recommend --list-genres
#   recommend-u1.tsv        a snapshot of user 1's list after the tiny training used
#                           here (30 epochs, 1 thread, seed 2020); IDs, ranks, titles
#                           and genres are compared exactly, scores within $TOL.
#                           If training changes on purpose, regenerate it with
#                           lgcn-recommend -d DIR -u 1 -n 10 on such a model.
# Trainings are tiny (--epochs 30 --threads 1 --eval-every 0) so the whole run
# takes a few seconds even under AddressSanitizer. POSIX sh (dash).
set -u
BIN=${LGCN_BIN:-bin}
G=testdata/golden
TOL=0.0005   # score tolerance between builds (printed scores have 6 decimals)
TRAIN="--epochs 30 --threads 1 --eval-every 0 -q"
TAB=$(printf '\t')
HDR="user_id${TAB}rank${TAB}movie_id${TAB}score${TAB}title${TAB}genres"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lgcn-cli.XXXXXX") || {
    echo "not ok cli_setup"
    echo "# mktemp -d failed"
    exit 0
}
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

for c in prep train eval recommend rate; do
    if [ ! -x "$BIN/lgcn-$c" ]; then
        echo "not ok cli_setup"
        echo "# $BIN/lgcn-$c is missing (build with make, or set LGCN_BIN)"
        exit 0
    fi
done

# ---- test helpers ---------------------------------------------------------
# tbegin NAME; run CMD...; want_* checks...; tend. Failed checks append
# diagnostics to $tmp/diag; tend prints "ok"/"not ok" and the diagnostics.
stdin=/dev/null
tbegin() { name=$1; : >"$tmp/diag"; }
fail() { printf '%s\n' "$@" >>"$tmp/diag"; }
tend() {
    if [ -s "$tmp/diag" ]; then
        echo "not ok $name"
        sed 's/^/# /' "$tmp/diag"
    else
        echo "ok $name"
    fi
}
# run CMD...: stdout -> $tmp/out, stderr -> $tmp/err (the temp dir shown as
# TMP), exit status -> $rc. Standard input is $stdin (reset to /dev/null).
run() {
    last="$*"
    "$@" <"$stdin" >"$tmp/out" 2>"$tmp/err.raw"
    rc=$?
    stdin=/dev/null
    sed "s|$tmp|TMP|g" "$tmp/err.raw" >"$tmp/err"
}
# feed TEXT: the next run reads TEXT (printf format) on standard input.
feed() { printf "$1" >"$tmp/in"; stdin=$tmp/in; }
show() {
    fail "$1 of '$last' was:"
    if [ -s "$tmp/$1" ]; then
        head -n 25 "$tmp/$1" | sed 's/^/    /' >>"$tmp/diag"
    else
        fail "    (empty)"
    fi
}
want_rc() {
    if [ "$rc" != "$1" ]; then
        fail "\$ $last" "exit status: expected $1, got $rc"
        show err
    fi
}
# same out|err: compare with $tmp/exp exactly.
same() {
    if ! cmp -s "$tmp/exp" "$tmp/$1"; then
        fail "$1 of '$last' differs (-expected +actual):"
        diff -u "$tmp/exp" "$tmp/$1" | sed '1,2d; s/^/    /' | head -n 40 >>"$tmp/diag"
    fi
}
want_out() { printf '%s\n' "$@" >"$tmp/exp"; same out; }
want_err() { printf '%s\n' "$@" >"$tmp/exp"; same err; }
want_out_file() { cp "$1" "$tmp/exp"; same out; }
want_err_file() { cp "$1" "$tmp/exp"; same err; }
want_out_empty() { [ -s "$tmp/out" ] && { fail "stdout should be empty"; show out; }; :; }
want_err_empty() { [ -s "$tmp/err" ] && { fail "stderr should be empty"; show err; }; :; }
want_out_has() { grep -qF -- "$1" "$tmp/out" || { fail "stdout lacks: $1"; show out; }; }
want_err_has() { grep -qF -- "$1" "$tmp/err" || { fail "stderr lacks: $1"; show err; }; }
# A usage error: exit 2, nothing on stdout, stderr ends with the --help hint.
want_usage() {
    want_rc 2
    want_out_empty
    [ "$(tail -n 1 "$tmp/err")" = "Try '$1 --help' for more information." ] ||
        { fail "the last stderr line is not the --help hint"; show err; }
}
# header field of a dataset.lgcn (man/lgcn-files.5): ds_field FILE OFFSET u4|u8
ds_field() { od -A n -t "$3" -j "$2" -N "${3#u}" "$1" | tr -d ' '; }
n_ratings() { ds_field "$1/dataset.lgcn" 48 u8; }
n_users() { ds_field "$1/dataset.lgcn" 36 u4; }
generation() { ds_field "$1/dataset.lgcn" 24 u8; }
# lgcn-rate's summary: stored_msg N NEW REPLACED NEW_USERS [TAIL]
stored_msg() {
    _s=s _u=s
    [ "$1" = 1 ] && _s=
    [ "$4" = 1 ] && _u=
    echo "lgcn-rate: stored $1 rating$_s ($2 new, $3 replaced, $4 new user$_u); ${5:-model fine-tuned}"
}
want_eq() { # want_eq WHAT EXPECTED ACTUAL
    [ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
}

# check_recs N [GENRES] [USERS]: validate lgcn-recommend TSV output in
# $tmp/out (with header) against testdata/ratings.csv plus the extra
# "user,movie" pairs in $tmp/rated.extra and the catalogue: header exact;
# per user ranks 1..k, scores non-increasing, no rated movie, no repeat,
# title and genres as in the catalogue, every movie having one of GENRES
# (comma-separated, case-insensitive; empty = any), and k = min(N, number
# of unrated movies passing the filter). USERS (space-separated) are the
# users expected, in order.
cat >"$tmp/check_recs.awk" <<'EOF'
BEGIN { FS = "\t"; ng = split(tolower(genres), want, ",") }
FNR == 1 { file++ }
file == 1 { title[$1] = $2; gen[$1] = $3; nm++; mov[nm] = $1; next }
file == 2 {
    split($0, p, ",")
    if (!((p[1] SUBSEP p[2]) in rated)) { rated[p[1], p[2]] = 1; nrated[p[1]]++ }
    next
}
function ok_genre(m,    n, g, i, j) {
    if (ng == 0) return 1
    n = split(tolower(gen[m]), g, "|")
    for (i = 1; i <= n; i++) for (j = 1; j <= ng; j++) if (g[i] == want[j]) return 1
    return 0
}
function bad(msg) { printf "line %d: %s: %s\n", FNR, msg, $0; err = 1 }
file == 3 && FNR == 1 && header { if ($0 != hdr) bad("header"); next }
file == 3 {
    if (NF != 6) { bad("not 6 fields"); next }
    if ($1 != cur) { cur = $1; nu++; order[nu] = cur; k = 0 }
    k++; count[cur] = k
    if ($2 != k "") bad("rank should be " k)
    if ($4 !~ /^-?[0-9]+\.[0-9][0-9][0-9][0-9][0-9][0-9]$/) bad("score format")
    else if (k > 1 && $4 + 0 > prev + 0) bad("score above the previous one")
    prev = $4
    if (($1 SUBSEP $3) in rated) bad("movie rated by the user")
    if (($1 SUBSEP $3) in seen) bad("movie listed twice")
    seen[$1, $3] = 1
    if (!($3 in title)) bad("movie not in the catalogue")
    else {
        if ($5 != title[$3]) bad("title should be '" title[$3] "'")
        if ($6 != gen[$3]) bad("genres should be '" gen[$3] "'")
        if (!ok_genre($3)) bad("movie outside the genre filter")
    }
}
END {
    nw = split(users, wu, " ")
    if (nw != nu) { printf "%d users listed, expected %d (%s)\n", nu, nw, users; err = 1 }
    for (i = 1; i <= nu && i <= nw; i++)
        if (order[i] != wu[i]) { printf "user #%d is %s, expected %s\n", i, order[i], wu[i]; err = 1 }
    for (i = 1; i <= nu; i++) {
        u = order[i]; elig = 0
        for (j = 1; j <= nm; j++) if (!((u SUBSEP mov[j]) in rated) && ok_genre(mov[j])) elig++
        want_k = elig < n ? elig : n
        if (count[u] != want_k) {
            printf "user %s: %d rows, expected %d (%d eligible unrated movies, -n %d)\n", u, count[u], want_k, elig, n
            err = 1
        }
    }
    exit err
}
EOF
: >"$tmp/rated.extra"
check_recs() {
    cat testdata/ratings.csv "$tmp/rated.extra" >"$tmp/rated.all"
    awk -v n="$1" -v genres="${2:-}" -v users="${3:-}" -v header=1 -v hdr="$HDR" \
        -f "$tmp/check_recs.awk" "$G/catalogue.tsv" "$tmp/rated.all" "$tmp/out" >"$tmp/check.msg" 2>&1 ||
        { fail "\$ $last:"; sed 's/^/    /' "$tmp/check.msg" >>"$tmp/diag"; show out; }
}
rated() { printf '%s\n' "$@" >>"$tmp/rated.extra"; }   # rated USER,MOVIE...

# close_to FILE: $tmp/out equals FILE except column 4 (scores), which must be
# within $TOL (the header line is compared exactly).
close_to() {
    awk -v tol="$TOL" '
        BEGIN { FS = "\t" }
        NR == FNR { w[FNR] = $0; nw = FNR; next }
        {
            na = FNR
            if (!(FNR in w)) { printf "extra line %d: %s\n", FNR, $0; err = 1; next }
            n = split(w[FNR], f, "\t")
            if (n != NF) { printf "line %d has %d fields, expected %d\n", FNR, NF, n; err = 1; next }
            for (i = 1; i <= NF; i++) {
                if (i == 4 && FNR > 1) {
                    d = $i - f[i]
                    if (d < 0) d = -d
                    if ($i !~ /^-?[0-9]+\.[0-9]+$/ || d > tol) {
                        printf "line %d: score %s, expected %s +- %s\n", FNR, $i, f[i], tol; err = 1
                    }
                } else if (($i "") != (f[i] "")) {
                    printf "line %d field %d: \"%s\", expected \"%s\"\n", FNR, i, $i, f[i]; err = 1
                }
            }
        }
        END { if (na != nw) { printf "%d lines, expected %d\n", na, nw; err = 1 } exit err }
    ' "$1" "$tmp/out" >"$tmp/check.msg" 2>&1 ||
        { fail "\$ $last: not as $1:"; sed 's/^/    /' "$tmp/check.msg" >>"$tmp/diag"; }
}

# snapshot DIR / unchanged DIR: the dataset, ID and model files are
# byte-identical to the snapshot and no temporary file is left behind.
FILES="dataset.lgcn users.ids movies.ids model.lgcn"
snapshot() {
    rm -rf "$tmp/snap"
    mkdir "$tmp/snap"
    for f in $FILES; do cp "$1/$f" "$tmp/snap/$f"; done
}
unchanged() {
    for f in $FILES; do
        cmp -s "$tmp/snap/$f" "$1/$f" || fail "$f changed after the failed command '$last'"
    done
    for f in "$1"/*.tmp.*; do
        [ -e "$f" ] && fail "temporary file left behind: $f"
    done
    :
}

P=$BIN/lgcn-prep T=$BIN/lgcn-train E=$BIN/lgcn-eval R=$BIN/lgcn-recommend A=$BIN/lgcn-rate
RATINGS=testdata/ratings.csv MOVIES=testdata/movies.csv

# ---- every command: --help, --version, bad options ------------------------
for c in prep train eval recommend rate; do
    tbegin "${c}_help"
    run "$BIN/lgcn-$c" --help
    want_rc 0
    want_err_empty
    head -n 1 "$tmp/out" | grep -q "^Usage: lgcn-$c " || { fail "no 'Usage: lgcn-$c' first line"; show out; }
    want_out_has "Exit status: 0 success, 1 data"
    run "$BIN/lgcn-$c" -h
    want_rc 0
    tend

    tbegin "${c}_version"
    for v in --version -V; do
        run "$BIN/lgcn-$c" $v
        want_rc 0
        want_out "lgcn-$c (lgcn) 0.1.0"
        want_err_empty
    done
    tend

    tbegin "${c}_unknown_option"
    run "$BIN/lgcn-$c" --no-such-option
    want_usage "lgcn-$c"
    want_err "lgcn-$c: unknown option '--no-such-option'" "Try 'lgcn-$c --help' for more information."
    run "$BIN/lgcn-$c" -Z
    want_usage "lgcn-$c"
    want_err "lgcn-$c: unknown option '-Z'" "Try 'lgcn-$c --help' for more information."
    o=-d; [ "$c" = prep ] && o=-o
    run "$BIN/lgcn-$c" $o
    want_usage "lgcn-$c"
    want_err "lgcn-$c: option '$o' requires a value" "Try 'lgcn-$c --help' for more information."
    tend
done

tbegin missing_required_options
run $P -r $RATINGS
want_usage lgcn-prep
want_err "lgcn-prep: missing -o DIR" "Try 'lgcn-prep --help' for more information."
run $P -o "$tmp/x"
want_usage lgcn-prep
want_err "lgcn-prep: missing --ratings FILE (or --train/--test)" "Try 'lgcn-prep --help' for more information."
for c in train eval recommend rate; do
    run "$BIN/lgcn-$c"
    want_usage "lgcn-$c"
    want_err "lgcn-$c: missing -d DIR" "Try 'lgcn-$c --help' for more information."
done
run $R -d "$tmp/x"
want_usage lgcn-recommend
want_err "lgcn-recommend: missing -u USER (or --users FILE, or --list-genres)" \
    "Try 'lgcn-recommend --help' for more information."
[ -e "$tmp/x" ] && fail "a usage error created '$tmp/x'"
tend

tbegin missing_option_argument
run $P -r $RATINGS -o
want_usage lgcn-prep
for c in train eval recommend rate; do
    run "$BIN/lgcn-$c" -d
    want_usage "lgcn-$c"
done
tend

tbegin unexpected_operand
run $P -r $RATINGS -o "$tmp/x" extra
want_usage lgcn-prep
want_err "lgcn-prep: unexpected argument 'extra'" "Try 'lgcn-prep --help' for more information."
for c in train eval recommend; do
    run "$BIN/lgcn-$c" -d "$tmp/x" extra
    want_usage "lgcn-$c"
    want_err_has "lgcn-$c: unexpected argument 'extra'"
done
tend

# ---- lgcn-prep --------------------------------------------------------------
DS=$tmp/ds
tbegin prep_movielens
run $P --ratings $RATINGS --movies $MOVIES -o "$DS"
want_rc 0
want_out_empty
# 75 rows; user 2 rates movie 3 twice -> 74 pairs; 10 users, 18 movies;
# per-user test counts floor(0.2 n + 0.5) = 2,2,2,1,2,2,1,2,1,1 = 16;
# density 74 / (10 * 18) = 0.41111
want_err_file $G/prep.err
for f in dataset.lgcn users.ids movies.ids; do
    [ -s "$DS/$f" ] || fail "$DS/$f was not created"
done
want_eq "n_ratings in dataset.lgcn" 74 "$(n_ratings "$DS")"
want_eq "n_users in dataset.lgcn" 10 "$(n_users "$DS")"
want_eq "generation in dataset.lgcn" 0 "$(generation "$DS")"
tend

tbegin prep_refuses_overwrite
cp "$DS/dataset.lgcn" "$tmp/ds.orig"
run $P --ratings $RATINGS --movies $MOVIES -o "$DS" --test-frac 0.5
want_rc 1
want_out_empty
want_err "lgcn-prep: 'TMP/ds' already holds a dataset (use --force to replace it)"
cmp -s "$tmp/ds.orig" "$DS/dataset.lgcn" || fail "dataset.lgcn was modified"
tend

tbegin prep_force
DS2=$tmp/ds2
run $P -r $RATINGS -M $MOVIES -o "$DS2" -q
want_rc 0
want_err_empty
: >"$DS2/model.lgcn"
run $P -r $RATINGS -M $MOVIES -o "$DS2" --test-frac 0.5 --force
want_rc 0
want_err_has "lgcn-prep: removed the old model 'TMP/ds2/model.lgcn'"
# test counts floor(0.5 n + 0.5) for n = 9,8,8,6,8,8,6,8,6,7: 5+4+4+3+4+4+3+4+3+4 = 38
want_err_has "lgcn-prep: 10 users, 18 movies, 36 train / 38 test interactions, density 0.41111"
[ -e "$DS2/model.lgcn" ] && fail "--force left the old model"
# same input and options again: a byte-identical dataset (prep is deterministic)
run $P -r $RATINGS -M $MOVIES -o "$DS2" -f -q
want_rc 0
want_err_empty
cmp -s "$DS/dataset.lgcn" "$DS2/dataset.lgcn" || fail "prep --force with the default options differs from the first prep"
tend

tbegin prep_min_rating
run $P -r $RATINGS -M $MOVIES -o "$tmp/minr" --min-rating 3
want_rc 0
# 22 of the 74 pairs are rated below 3 (3,2,2,2,3,2,2,2,2,2 per user); the 52
# others split 1 test per user -> 42 / 10; density 52 / 180 = 0.28889
want_err_file $G/prep-min-rating.err
tend

tbegin prep_lightgcn
run $P --train testdata/lightgcn/train.txt --test testdata/lightgcn/test.txt -o "$tmp/lg"
want_rc 0
want_out_empty
# train: users 0..4 with 3+2+0+2+2 pairs (user 3 lists item 4 twice), test: 3
# pairs; 5 users, 6 items, density 12 / 30
want_err_file $G/prep-lightgcn.err
want_eq "n_ratings" 12 "$(n_ratings "$tmp/lg")"
tend

tbegin prep_lightgcn_errors
run $P --train testdata/lightgcn/train.txt --test testdata/lightgcn/test-overlap.txt -o "$tmp/lgx"
want_rc 1
want_err "lgcn-prep: testdata/lightgcn/train.txt: line 2 and testdata/lightgcn/test-overlap.txt: line 2: user 1, item 2 is in both the train and the test file"
run $P --train testdata/lightgcn/bad-token.txt --test testdata/lightgcn/test.txt -o "$tmp/lgx"
want_rc 1
want_err "lgcn-prep: testdata/lightgcn/bad-token.txt: line 1: 'x2' is not an item ID (a non-negative integer below 4294967295)"
[ -e "$tmp/lgx" ] && fail "a failed prep created its output directory"
run $P --train testdata/lightgcn/train.txt -o "$tmp/lgx"
want_usage lgcn-prep
want_err_has "lgcn-prep: --train and --test go together"
run $P --train testdata/lightgcn/train.txt --test testdata/lightgcn/test.txt --seed 3 -o "$tmp/lgx"
want_usage lgcn-prep
run $P -r $RATINGS --train testdata/lightgcn/train.txt --test testdata/lightgcn/test.txt -o "$tmp/lgx"
want_usage lgcn-prep
run $P --movies $MOVIES --train testdata/lightgcn/train.txt --test testdata/lightgcn/test.txt -o "$tmp/lgx"
want_usage lgcn-prep
tend

# bad inputs: file|expected message (after "lgcn-prep: testdata/bad/FILE: ")
while IFS='|' read -r f msg; do
    tbegin "prep_bad_${f%.csv}"
    case $f in
    movies-*) run $P -r $RATINGS -M testdata/bad/$f -o "$tmp/bad" ;;
    *) run $P -r testdata/bad/$f -M $MOVIES -o "$tmp/bad" ;;
    esac
    want_rc 1
    want_out_empty
    want_err "lgcn-prep: testdata/bad/$f: $msg"
    [ -e "$tmp/bad" ] && fail "a failed prep created its output directory"
    tend
done <<'EOF'
empty.csv|empty file (expected the header 'userId,movieId,rating,timestamp')
header-only.csv|no data rows after the header
header-wrong.csv|line 1: expected the header 'userId,movieId,rating,timestamp', found 'user,movie,rating,timestamp'
ratings-fields.csv|line 5: expected 4 fields (userId,movieId,rating,timestamp), found 3
ratings-nonnumeric.csv|line 3: movieId 'abc' is not an integer
ratings-rating.csv|line 4: rating 'five' is not a finite number
movies-fields.csv|line 3: expected 3 fields (movieId,title,genres), found 4
movies-header.csv|line 1: expected the header 'movieId,title,genres', found 'movieId,title'
movies-quote.csv|line 3: unterminated quoted field
movies-stray-quote.csv|line 4: malformed CSV (a quote inside an unquoted field, or text after a closing quote)
EOF

tbegin prep_edge_blank_lines
run $P -r testdata/edge/ratings-blank.csv -o "$tmp/blank"
want_rc 0
# blank lines skipped; (1,2) twice with the same timestamp (the later row
# wins); 2 users x 2 movies each of {1, 2, 999}, round(0.2 * 2) = 0 test
want_err "lgcn-prep: testdata/edge/ratings-blank.csv: 1 (user, movie) pairs are rated more than once (the latest rating is kept)" \
    "lgcn-prep: 2 users, 3 movies, 4 train / 0 test interactions, density 0.66667" \
    "lgcn-prep: rating scale 2 to 5 in steps of 1, 0 genres" \
    "lgcn-prep: wrote TMP/blank/dataset.lgcn"
tend

tbegin prep_edge_repeated_movie
run $P -r $RATINGS -M testdata/edge/movies-repeat.csv -o "$tmp/rep" -q
want_rc 0
want_err_empty
run $T -d "$tmp/rep" --epochs 2 --threads 1 --eval-every 0 -q
want_rc 0
run $R -d "$tmp/rep" -u 8 -n 20 --no-header
want_rc 0
# movie 1 keeps its first row; movies rated but not in the catalogue have no title
cut -f3,5,6 "$tmp/out" >"$tmp/out.cut"
grep -qx "1${TAB}First Title (1990)${TAB}Drama" "$tmp/out.cut" || { fail "movie 1 is not 'First Title (1990)', Drama"; show out; }
tend

tbegin prep_missing_file
run $P -r testdata/no-such.csv -o "$tmp/nofile"
want_rc 1
want_err "lgcn-prep: cannot open 'testdata/no-such.csv': No such file or directory"
run $P -r $RATINGS -M testdata/no-such.csv -o "$tmp/nofile"
want_rc 1
want_err "lgcn-prep: cannot open 'testdata/no-such.csv': No such file or directory"
[ -e "$tmp/nofile" ] && fail "a failed prep created its output directory"
tend

tbegin prep_strict_numbers
run $P -r $RATINGS -o "$tmp/num" --test-frac abc
want_usage lgcn-prep
want_err "lgcn-prep: --test-frac: 'abc' is not a number" "Try 'lgcn-prep --help' for more information."
run $P -r $RATINGS -o "$tmp/num" --test-frac 1.5
want_usage lgcn-prep
want_err "lgcn-prep: --test-frac: 1.5 is out of range [0, 0.99]" "Try 'lgcn-prep --help' for more information."
run $P -r $RATINGS -o "$tmp/num" --seed -1
want_usage lgcn-prep
want_err "lgcn-prep: --seed: -1 is out of range [0, 9223372036854775807]" "Try 'lgcn-prep --help' for more information."
for bad in "--test-frac 0.2x" "--test-frac ''" "--seed 1.5" "--seed 12abc" "--min-rating x"; do
    eval "run \$P -r \$RATINGS -o \"\$tmp/num\" $bad"
    want_usage lgcn-prep
done
[ -e "$tmp/num" ] && fail "a usage error created the output directory"
tend

# ---- lgcn-train -------------------------------------------------------------
tbegin train_tiny
run $T -d "$DS" $TRAIN
want_rc 0
want_out_empty
want_err_empty
[ -s "$DS/model.lgcn" ] || fail "no $DS/model.lgcn"
tend

tbegin train_deterministic
run $T -d "$DS" -m "$tmp/model2" $TRAIN
want_rc 0
cmp "$DS/model.lgcn" "$tmp/model2" >"$tmp/cmp.msg" 2>&1 ||
    { fail "two trainings with the same seed and threads differ:"; sed 's/^/    /' "$tmp/cmp.msg" >>"$tmp/diag"; }
run $T -d "$DS" -m "$tmp/model3" $TRAIN --seed 7
want_rc 0
cmp -s "$DS/model.lgcn" "$tmp/model3" && fail "--seed 7 gave the same model as the default seed"
tend

tbegin train_progress_and_log
run $T -d "$DS" -m "$tmp/model4" --epochs 20 --threads 1 --eval-every 10 --patience 0 --log "$tmp/train.tsv"
want_rc 0
want_out_empty
want_err_has "lgcn-train: 10 users, 18 movies, 58 train interactions; dim 64, 3 layers, 1 thread"
want_err_has "lgcn-train: wrote TMP/model4"
awk -F'\t' -v tab="$TAB" '
    NR == 1 { if ($0 != "epoch" tab "loss" tab "seconds" tab "recall@20" tab "ndcg@20" tab "steps") { print "bad header: " $0; e = 1 } next }
    {
        # 58 train interactions, batch 2048: one step an epoch
        if (NF != 6 || $1 != NR - 1 "" || $2 !~ /^[0-9]+\.[0-9]+$/ || $3 !~ /^[0-9]+\.[0-9]+$/ || $6 != "1") { print "bad row: " $0; e = 1 }
        ev = ($1 % 10 == 0)
        if (ev && ($4 !~ /^[0-9]\.[0-9]+$/ || $5 !~ /^[0-9]\.[0-9]+$/)) { print "epoch " $1 " should be evaluated: " $0; e = 1 }
        if (!ev && ($4 != "" || $5 != "")) { print "epoch " $1 " should not be evaluated: " $0; e = 1 }
    }
    END { if (NR != 21) { print NR - 1 " epoch rows, expected 20"; e = 1 } exit e }
' "$tmp/train.tsv" >"$tmp/check.msg" 2>&1 || { fail "--log file:"; sed 's/^/    /' "$tmp/check.msg" >>"$tmp/diag"; }
run $T -d "$DS" -m "$tmp/model5" $TRAIN --log "$tmp/train30.tsv"
want_eq "--log lines with --epochs 30 (header + rows)" 31 "$(wc -l <"$tmp/train30.tsv" | tr -d ' ')"
# --max-steps cuts mid-epoch: batch 20 -> 3 steps an epoch (58 triples), 4 in all
run $T -d "$DS" -m "$tmp/model6" --threads 1 --batch 20 --max-steps 4 --eval-every 10 --log "$tmp/steps.tsv"
want_rc 0
want_eq "--max-steps 4: steps per logged epoch" "3 1" "$(tail -n +2 "$tmp/steps.tsv" | cut -f6 | tr '\n' ' ' | sed 's/ $//')"
tend

tbegin train_progress_lines
# without evaluations about 20 progress lines (epoch 1, then every 40/20 = 2
# epochs); --verbose: one per epoch
run $T -d "$DS" -m "$tmp/model6" --epochs 40 --threads 1 --eval-every 0
want_rc 0
grep 'lgcn-train: epoch ' "$tmp/err" | awk '{ printf "%s ", $3 }' >"$tmp/epochs"
want_eq "epochs shown" "1 2 4 6 8 10 12 14 16 18 20 22 24 26 28 30 32 34 36 38 40 " "$(cat "$tmp/epochs")"
want_err_has "lgcn-train: trained 40 epochs in "
run $T -d "$DS" -m "$tmp/model7" --epochs 40 --threads 1 --eval-every 0 --verbose
want_rc 0
want_eq "epoch lines with --verbose" 40 "$(grep -c 'lgcn-train: epoch ' "$tmp/err")"
cmp -s "$tmp/model6" "$tmp/model7" || fail "--verbose changed the model"
tend

tbegin train_bad_values
run $T -d "$DS" --epochs x
want_usage lgcn-train
want_err "lgcn-train: --epochs: 'x' is not an integer" "Try 'lgcn-train --help' for more information."
run $T -d "$DS" --lr 0
want_usage lgcn-train
want_err "lgcn-train: --lr: 0 is out of range [1e-12, 10]" "Try 'lgcn-train --help' for more information."
run $T -d "$DS" --dim 0
want_usage lgcn-train
want_err "lgcn-train: --dim: 0 is out of range [1, 4096]" "Try 'lgcn-train --help' for more information."
for bad in "--epochs -1" "--epochs 1.5" "--threads 0" "--batch 0" "--lr abc" "--reg -1" "--seed x" "--patience ''"; do
    eval "run \$T -d \"\$DS\" $bad"
    want_usage lgcn-train
done
cmp -s "$DS/model.lgcn" "$tmp/model2" || fail "a usage error changed the model"
tend

tbegin train_missing_dataset
run $T -d "$tmp/nope" $TRAIN
want_rc 1
want_out_empty
want_err "lgcn-train: cannot open dataset directory 'TMP/nope': No such file or directory"
mkdir "$tmp/empty"
run $T -d "$tmp/empty" $TRAIN
want_rc 1
want_err "lgcn-train: cannot open 'TMP/empty/dataset.lgcn': No such file or directory"
tend

# ---- lgcn-eval --------------------------------------------------------------
# The popularity baseline by hand. The seeded split of testdata (T = test):
#   user 1: 1 2 3 7 12T 31 46T 102 9000000000   user 2: 1 2 3 12 20T 32T 103 200
#   user 3: 1 3 7 20 50T 104T 150 9000000000    user 5: 1 12 31 32 45T 46 50 102T
#   user 8: 2 7 31 45T 46 50 150T 200           user 13: 20 31 32 45T 46 103
#   user 21: 3 45 46T 101 102 103 104 150T      user 34: 12 31T 101 102 104 150
#   user 55: 7 32T 101 102 103 150 200          user 4000000000: 1 2 12T 20 45 101
# Train counts: 1:5; 2,3,7,31,101,102,103:4; 12,20,46,150,200:3;
# 32,45,50,104,9000000000:2. Pop order (count desc, then ID asc):
#   1 2 3 7 31 101 102 103 12 20 46 150 200 32 45 50 104 9000000000
# Each user's list skips their train movies; ranks of the test movies:
#   1: 12@3 46@5   2: 20@5 32@8   3: 50@11 104@12   5: 102@5 45@10
#   8: 150@8 45@10   13: 45@10   21: 46@7 150@8   34: 31@5   55: 32@8
#   4000000000: 12@6
# K=1: no test movie at rank 1 -> all 0.
# K=5: hits u1 2/2, u2 1/2, u5 1/2, u34 1/1: recall 3/10 = 0.3, precision
#   5/5/10 = 0.1, hit rate 0.4; with d(r) = 1/log2(r+1), IDCG2 = 1 + d(2):
#   ndcg = [(d3+d5)/IDCG2 + 2 d5/IDCG2 + d5] / 10 = 1.405021/10 = 0.140502.
# K=10: every user but 3 finds all test movies: recall 0.9, hit rate 0.9,
#   precision 14 hits /10/10 = 0.14; ndcg = [(d3+d5)/I2 + (d5+d8)/I2 + 0
#   + (d5+d10)/I2 + (d8+d10)/I2 + d10 + (d7+d8)/I2 + d5 + d8 + d6] / 10
#   = (0.543771 + 0.430622 + 0.414435 + 0.370666 + 0.289065 + 0.397809
#      + 0.386853 + 0.315465 + 0.356207) / 10 = 0.350490.
tbegin eval_tsv_pop
run $E -d "$DS" -k 1,5,10 --baseline pop
want_rc 0
want_err_empty
head -n 1 "$tmp/out" >"$tmp/out.head"
[ "$(cat "$tmp/out.head")" = "model${TAB}k${TAB}recall${TAB}precision${TAB}hit_rate${TAB}ndcg${TAB}users" ] ||
    { fail "TSV header is not as documented"; show out; }
want_eq "rows" 7 "$(wc -l <"$tmp/out" | tr -d ' ')"
sed -n '1p; /^pop/p' "$tmp/out" >"$tmp/out.pop"
cmp -s $G/eval-pop.tsv "$tmp/out.pop" ||
    { fail "pop rows differ from $G/eval-pop.tsv (-expected +actual):"; diff -u $G/eval-pop.tsv "$tmp/out.pop" | sed '1,2d; s/^/    /' >>"$tmp/diag"; }
# LightGCN rows: k = 1, 5, 10 in order, 10 users, metrics in [0, 1]; at K=1
# precision = hit rate = ndcg; recall and hit rate grow with K.
awk -F'\t' '
    NR == 1 || $1 != "lightgcn" { next }
    {
        n++
        split("1 5 10", ks, " ")
        if ($2 != ks[n] "" || $7 != "10" || NF != 7) { print "bad row: " $0; e = 1 }
        for (i = 3; i <= 6; i++)
            if ($i !~ /^[01]\.[0-9][0-9][0-9][0-9][0-9][0-9]$/ || $i > 1) { print "bad metric: " $0; e = 1 }
        if (n == 1 && ($4 != $5 || $5 != $6)) { print "at K=1 precision, hit rate and ndcg differ: " $0; e = 1 }
        if (n > 1 && ($3 < r || $5 < h)) { print "recall or hit rate fell with K: " $0; e = 1 }
        r = $3; h = $5
    }
    END { if (n != 3) { print n " lightgcn rows, expected 3"; e = 1 } exit e }
' "$tmp/out" >"$tmp/check.msg" 2>&1 || { fail "lightgcn rows:"; sed 's/^/    /' "$tmp/check.msg" >>"$tmp/diag"; }
cp "$tmp/out" "$tmp/eval.tsv"
tend

tbegin eval_threads_identical
run $E -d "$DS" -k 1,5,10 --baseline pop --threads 1
want_rc 0
cmp -s "$tmp/eval.tsv" "$tmp/out" || fail "--threads 1 changes the metrics"
run $E -d "$DS" -k 1,5,10 --baseline pop -t 2
cmp -s "$tmp/eval.tsv" "$tmp/out" || fail "--threads 2 changes the metrics"
tend

tbegin eval_json
run $E -d "$DS" -k 1,5,10 --baseline pop --format json
want_rc 0
want_err_empty
num='[0-9]+\.[0-9]{6}'
grep -Evx "\{\"model\":\"(lightgcn|pop)\",\"k\":[0-9]+,\"recall\":$num,\"precision\":$num,\"hit_rate\":$num,\"ndcg\":$num,\"users\":[0-9]+\}" \
    "$tmp/out" >"$tmp/out.badjson" && { fail "lines not of the documented JSON form:"; sed 's/^/    /' "$tmp/out.badjson" >>"$tmp/diag"; }
# the same figures as the TSV rows
v='\([0-9.]*\)'
sed "s/^{\"model\":\"\([a-z]*\)\",\"k\":$v,\"recall\":$v,\"precision\":$v,\"hit_rate\":$v,\"ndcg\":$v,\"users\":$v}\$/\\1$TAB\\2$TAB\\3$TAB\\4$TAB\\5$TAB\\6$TAB\\7/" \
    "$tmp/out" >"$tmp/out.j2t"
sed 1d "$tmp/eval.tsv" >"$tmp/exp"
cmp -s "$tmp/exp" "$tmp/out.j2t" || { fail "JSON values differ from the TSV ones:"; diff -u "$tmp/exp" "$tmp/out.j2t" | sed '1,2d; s/^/    /' >>"$tmp/diag"; }
tend

tbegin eval_default_k
run $E -d "$DS"
want_rc 0
want_eq "rows" 2 "$(wc -l <"$tmp/out" | tr -d ' ')"
sed -n 2p "$tmp/out" | grep -q "^lightgcn${TAB}20${TAB}.*${TAB}10\$" || { fail "expected one lightgcn row with k 20 and 10 users"; show out; }
tend

# LightGCN-format data by hand: train counts 0:2 1:2 2:2 3:1 4:1 5:1, so the
# pop order is 0 1 2 3 4 5; user 0 (train 0 1 2) ranks its test movie 3 first,
# user 3 (train 1 4) its test movie 0 first, user 1 (train 2 3) its test
# movie 5 fourth (after 0 1 4). K=1 and K=2: 2 of 3 users hit at rank 1:
# recall = hit rate = ndcg = 2/3, precision 2/3 and 1/3. K=6: recall 1,
# precision 3/6/3 = 1/6, ndcg (1 + 1 + 1/log2 5)/3 = 0.810226.
tbegin eval_pop_lightgcn_format
run $T -d "$tmp/lg" --epochs 5 --threads 1 --eval-every 0 -q
want_rc 0
run $E -d "$tmp/lg" -k 1,2,6 -b pop
want_rc 0
sed -n '1p; /^pop/p' "$tmp/out" >"$tmp/out.pop"
cmp -s $G/eval-pop-lightgcn.tsv "$tmp/out.pop" ||
    { fail "pop rows differ from $G/eval-pop-lightgcn.tsv (-expected +actual):"; diff -u $G/eval-pop-lightgcn.tsv "$tmp/out.pop" | sed '1,2d; s/^/    /' >>"$tmp/diag"; }
tend

tbegin eval_errors
run $E -d "$DS2"
want_rc 1
want_out_empty
want_err "lgcn-eval: cannot open 'TMP/ds2/model.lgcn': No such file or directory"
run $E -d "$tmp/nope"
want_rc 1
want_err "lgcn-eval: cannot open dataset directory 'TMP/nope': No such file or directory"
run $E -d "$tmp/minr" -m "$DS/model.lgcn"
want_rc 1
want_err "lgcn-eval: the model was trained on another dataset (run lgcn-train on this one)"
for bad in "-k 0" "-k x" "-k ''" "-k 5,x" "--format xml" "--baseline foo" "-t 0"; do
    eval "run \$E -d \"\$DS\" $bad"
    want_usage lgcn-eval
done
tend

# ---- lgcn-recommend -----------------------------------------------------------
tbegin recommend_user1_golden
run $R -d "$DS" -u 1 -n 10
want_rc 0
want_err_empty
close_to $G/recommend-u1.tsv
check_recs 10 "" 1
tend

tbegin recommend_exact_n_all_users
cut -d, -f1 $RATINGS | sed 1d | uniq >"$tmp/users"
feed "$(cat "$tmp/users")\n"
run $R -d "$DS" --users - -n 5
want_rc 0
want_err_empty
check_recs 5 "" "$(tr '\n' ' ' <"$tmp/users")"
tend

tbegin recommend_fewer_candidates
# user 34 rated 6 of the 18 movies: -n 20 lists the other 12 (incl. the
# titles with commas and quotes, the genre-less movie and movie 9000000000)
run $R -d "$DS" -u 34 -n 20
want_rc 0
check_recs 20 "" 34
want_eq "rows" 13 "$(wc -l <"$tmp/out" | tr -d ' ')"
cut -f3,5,6 "$tmp/out" >"$tmp/out.cut"
for row in "46${TAB}Movie, The \"Best\" (1999)${TAB}Comedy|Drama|Romance" \
    "200${TAB}Untitled Home Video (2020)${TAB}(no genres listed)" \
    "20${TAB}Heist, The (1995)${TAB}Action|Comedy" \
    "32${TAB}Paris, Again (2010)${TAB}Romance" \
    "9000000000${TAB}Far Future (3000)${TAB}Sci-Fi"; do
    grep -qxF -- "$row" "$tmp/out.cut" || { fail "no row: $row"; show out; }
done
cp "$tmp/out" "$tmp/rec-u34.tsv"
tend

tbegin recommend_large_ids
run $R -d "$DS" -u 4000000000 -n 3
want_rc 0
check_recs 3 "" 4000000000
tend

tbegin recommend_genre_filter
# user 1 has not rated Children movies 101 103 104 150: -n 3 gives exactly 3
run $R -d "$DS" -u 1 -n 3 --genre Children
want_rc 0
check_recs 3 Children 1
# several --genre options are OR'ed, any case: Comedy or Animation unrated
# by user 1 = 20 150 101 103 104
run $R -d "$DS" -u 1 -n 10 --genre comedy --genre ANIMATION
want_rc 0
check_recs 10 comedy,animation 1
sed 1d "$tmp/out" | cut -f3 | sort -n | tr '\n' ' ' >"$tmp/ids"
want_eq "Comedy|Animation movies for user 1" "20 101 103 104 150 " "$(cat "$tmp/ids")"
# the comma-separated form: Drama or Romance unrated by user 1 = 32 45 50
run $R -d "$DS" -u 1 -g 'drama, Romance'
want_rc 0
check_recs 10 drama,romance 1
# the filter keeps the unfiltered order: filtering the full list by hand
# (movies having Sci-Fi or Children) gives the same rows
run $R -d "$DS" -u 3 -n 20
awk -F'\t' 'NR == 1 || $6 ~ /(^|\|)(Sci-Fi|Children)(\||$)/' "$tmp/out" >"$tmp/exp"
run $R -d "$DS" -u 3 -n 20 -g sci-fi -g children
awk -F'\t' -v OFS='\t' 'NR > 1 { $2 = "" } { print }' "$tmp/exp" >"$tmp/exp.norank"
awk -F'\t' -v OFS='\t' 'NR > 1 { $2 = "" } { print }' "$tmp/out" >"$tmp/out.norank"
cmp -s "$tmp/exp.norank" "$tmp/out.norank" ||
    { fail "genre-filtered rows are not the filtered full list:"; diff -u "$tmp/exp.norank" "$tmp/out.norank" | sed '1,2d; s/^/    /' >>"$tmp/diag"; }
check_recs 20 sci-fi,children 3
tend

tbegin recommend_unknown_genre
run $R -d "$DS" -u 1 --genre Horror
want_rc 1
want_err "lgcn-recommend: unknown genre 'Horror' (known genres: Action, Adventure, Animation, Children, Comedy, Drama, Romance, Sci-Fi)"
run $R -d "$DS" -u 1 --genre Drama --genre Nope
want_rc 1
want_err_has "unknown genre 'Nope'"
tend

tbegin recommend_unknown_user
run $R -d "$DS" -u 99
want_rc 1
want_out_empty
want_err "lgcn-recommend: unknown user 99"
run $R -d "$DS" -u 1x
want_rc 2
want_out_empty
want_err "lgcn-recommend: -u: '1x' is not an integer" "Try 'lgcn-recommend --help' for more information."
run $R -d "$DS" -u ''
want_rc 2
want_err_has "is not an integer"
tend

tbegin recommend_users_stdin
feed '1\n99\n\n# a comment\n  4000000000  \n'
run $R -d "$DS" --users - -n 4
want_rc 1
want_err "lgcn-recommend: stdin: line 2: unknown user 99"
check_recs 4 "" "1 4000000000"
printf '55\n2\n' >"$tmp/userlist"
run $R -d "$DS" --users "$tmp/userlist" -n 2 --no-header
want_rc 0
want_err_empty
{ echo "$HDR"; cat "$tmp/out"; } >"$tmp/out.h" && mv "$tmp/out.h" "$tmp/out"
check_recs 2 "" "55 2"
run $R -d "$DS" --users "$tmp/no-such-list"
want_rc 1
want_err "lgcn-recommend: cannot open 'TMP/no-such-list': No such file or directory"
tend

tbegin recommend_jsonl
run $R -d "$DS" -u 34 -n 20 --format jsonl
want_rc 0
want_err_empty
want_eq "jsonl lines" 12 "$(wc -l <"$tmp/out" | tr -d ' ')"
# one line exactly, with rank and score taken from the TSV run
r46=$(awk -F'\t' '$3 == 46 { print $2 "," $4 }' "$tmp/rec-u34.tsv")
grep -qxF "{\"user_id\":34,\"rank\":${r46%,*},\"movie_id\":46,\"score\":${r46#*,},\"title\":\"Movie, The \\\"Best\\\" (1999)\",\"genres\":[\"Comedy\",\"Drama\",\"Romance\"]}" "$tmp/out" ||
    { fail "no exact JSONL line for movie 46 (rank ${r46%,*}, score ${r46#*,})"; show out; }
grep -q '"movie_id":200,"score":-\{0,1\}[0-9.]*,"title":"Untitled Home Video (2020)","genres":\[\]}$' "$tmp/out" ||
    { fail "movie 200 should have \"genres\":[]"; show out; }
# every line: the TSV row in JSON (titles unescaped, genres joined with |)
awk -v tab="$TAB" '
    {
        if (!match($0, /,"genres":\[[^]]*\]\}$/)) { print "bad line: " $0; e = 1; next }
        g = substr($0, RSTART + 11, RLENGTH - 13); gsub(/"/, "", g); gsub(/,/, "|", g)
        if (g == "") g = "(no genres listed)"
        head = substr($0, 1, RSTART - 1)
        if (!match(head, /,"title":".*"$/)) { print "no title: " $0; e = 1; next }
        t = substr(head, RSTART + 10, RLENGTH - 11); gsub(/\\"/, "\"", t)
        head = substr(head, 1, RSTART - 1)
        if (head !~ /^\{"user_id":-?[0-9]+,"rank":[0-9]+,"movie_id":-?[0-9]+,"score":-?[0-9]+\.[0-9]+$/) { print "bad fields: " $0; e = 1; next }
        gsub(/"[a-z_]+":/, "", head); sub(/^\{/, "", head); gsub(/,/, tab, head)
        print head tab t tab g
    }
    END { exit e }' "$tmp/out" >"$tmp/out.j2t" || { fail "JSONL lines:"; sed 's/^/    /' "$tmp/out.j2t" >>"$tmp/diag"; }
sed 1d "$tmp/rec-u34.tsv" >"$tmp/exp"
cmp -s "$tmp/exp" "$tmp/out.j2t" || { fail "JSONL rows differ from the TSV rows:"; diff -u "$tmp/exp" "$tmp/out.j2t" | sed '1,2d; s/^/    /' >>"$tmp/diag"; }
run $R -d "$DS" -u 4000000000 -n 1 -f jsonl
grep -q '^{"user_id":4000000000,"rank":1,"movie_id":' "$tmp/out" || { fail "user 4000000000 in JSONL"; show out; }
tend

tbegin recommend_list_genres
run $R -d "$DS2" --list-genres   # needs no model
want_rc 0
want_err_empty
want_out_file $G/list-genres.txt
run $R -d "$tmp/lg" --list-genres
want_rc 0
want_out_empty
tend

tbegin recommend_usage_errors
for bad in "-u 1 -n 0" "-u 1 -n x" "-u 1 --users -" "--list-genres -u 1" "-u 1 --format xml"; do
    eval "run \$R -d \"\$DS\" $bad"
    want_usage lgcn-recommend
done
tend

tbegin recommend_data_errors
run $R -d "$DS2" -u 1
want_rc 1
want_err "lgcn-recommend: cannot open 'TMP/ds2/model.lgcn': No such file or directory"
run $R -d "$tmp/nope" -u 1
want_rc 1
want_err "lgcn-recommend: cannot open dataset directory 'TMP/nope': No such file or directory"
run $R -d "$tmp/minr" -m "$DS/model.lgcn" -u 1
want_rc 1
want_err "lgcn-recommend: the model was trained on another dataset (run lgcn-train on this one)"
tend

tbegin recommend_min_rating_held
# ratings below --min-rating are not interactions but are never recommended
run $T -d "$tmp/minr" --epochs 2 --threads 1 --eval-every 0 -q
want_rc 0
cut -d, -f1 $RATINGS | sed 1d | uniq >"$tmp/users"
feed "$(cat "$tmp/users")\n"
run $R -d "$tmp/minr" --users - -n 20
want_rc 0
check_recs 20 "" "$(tr '\n' ' ' <"$tmp/users")"
tend

# ---- lgcn-rate ----------------------------------------------------------------
RT=$tmp/rt
cp -R "$DS" "$RT"
cp "$RT/model.lgcn" "$tmp/model.before-rate"

tbegin rate_new_rating
run $A -d "$RT" 1 20 4.5
want_rc 0
want_out_empty
want_err "$(stored_msg 1 1 0 0)"
want_eq "n_ratings" 75 "$(n_ratings "$RT")"
want_eq "generation" 1 "$(generation "$RT")"
cmp -s "$RT/model.lgcn" "$tmp/model.before-rate" && fail "the model was not fine-tuned"
rated 1,20
run $R -d "$RT" -u 1 -n 20
want_rc 0
check_recs 20 "" 1
cp "$RT/dataset.lgcn" "$tmp/ds.after-new"
tend

tbegin rate_rerating_replaces
run $E -d "$RT" -k 5,10 -b pop
cp "$tmp/out" "$tmp/eval.before"
run $A -d "$RT" 1 20 3
want_rc 0
want_err "$(stored_msg 1 0 1 0)"
want_eq "n_ratings after re-rating" 75 "$(n_ratings "$RT")"
want_eq "generation" 2 "$(generation "$RT")"
want_eq "dataset size after re-rating" "$(wc -c <"$tmp/ds.after-new")" "$(wc -c <"$RT/dataset.lgcn")"
# re-rating a test pair (user 1, movie 12) keeps it a test pair: the popularity
# baseline (train counts, test sets) does not move
run $A -d "$RT" -q 1 12 2
want_rc 0
want_err_empty
want_eq "n_ratings after re-rating a test pair" 75 "$(n_ratings "$RT")"
run $E -d "$RT" -k 5,10 -b pop
want_rc 0
grep '^pop' "$tmp/eval.before" >"$tmp/exp"
grep '^pop' "$tmp/out" >"$tmp/out.pop"
cmp -s "$tmp/exp" "$tmp/out.pop" || { fail "re-ratings changed the pop baseline:"; diff -u "$tmp/exp" "$tmp/out.pop" | sed '1,2d; s/^/    /' >>"$tmp/diag"; }
tend

tbegin rate_invalid_nothing_written
snapshot "$RT"
run $A -d "$RT" 1 99999 3
want_rc 1
want_err "lgcn-rate: movie 99999 is not in the catalogue (nothing written)"
unchanged "$RT"
run $A -d "$RT" 1 45 7
want_rc 1
want_err "lgcn-rate: rating 7 is outside the dataset's scale 1 to 5 (nothing written)"
unchanged "$RT"
run $A -d "$RT" 1 45 3.25
want_rc 1
want_err "lgcn-rate: rating 3.25 is not on the dataset's scale (1 to 5 in steps of 0.5) (nothing written)"
unchanged "$RT"
run $A -d "$RT" 1 45 0.5
want_rc 1
want_err_has "outside the dataset's scale"
run $A -d "$RT" -- 1 45 -3
want_rc 1
want_err "lgcn-rate: rating -3 is outside the dataset's scale 1 to 5 (nothing written)"
unchanged "$RT"
tend

tbegin rate_usage_nothing_written
snapshot "$RT"
run $A -d "$RT" 1 45
want_usage lgcn-rate
want_err "lgcn-rate: expected USER MOVIE RATING, or '-' to read them from standard input" "Try 'lgcn-rate --help' for more information."
run $A -d "$RT" 1 45 3 4
want_usage lgcn-rate
run $A -d "$RT"
want_usage lgcn-rate
run $A -d "$RT" 1 x 3
want_usage lgcn-rate
want_err "lgcn-rate: movie ID: 'x' is not an integer" "Try 'lgcn-rate --help' for more information."
run $A -d "$RT" 1x 45 3
want_usage lgcn-rate
want_err_has "lgcn-rate: user ID: '1x' is not an integer"
run $A -d "$RT" 1 45 abc
want_usage lgcn-rate
want_err "lgcn-rate: rating: 'abc' is not a number" "Try 'lgcn-rate --help' for more information."
run $A -d "$RT" 1 45 nan
want_usage lgcn-rate
run $A -d "$RT" '1 2' 45 3
want_usage lgcn-rate
want_err_has "lgcn-rate: bad operand '1 2'"
run $A -d "$RT" --steps x 1 45 3
want_usage lgcn-rate
unchanged "$RT"
tend

tbegin rate_batch_bad_line
snapshot "$RT"
feed '9998 1 5\n# fine so far\n9998 99999 4\n9998 2 4\n'
run $A -d "$RT" -
want_rc 1
want_err "lgcn-rate: stdin: line 3: movie 99999 is not in the catalogue (nothing written)"
unchanged "$RT"
feed '9998 1 5\n9998 2 4 extra\n'
run $A -d "$RT" -
want_rc 1
want_err "lgcn-rate: stdin: line 2: expected 'USER MOVIE RATING', found more fields (nothing written)"
unchanged "$RT"
feed '9998 1 5\n\n9998 2 4.75\n'
run $A -d "$RT" -
want_rc 1
want_err "lgcn-rate: stdin: line 3: rating 4.75 is not on the dataset's scale (1 to 5 in steps of 0.5) (nothing written)"
unchanged "$RT"
run $R -d "$RT" -u 9998
want_rc 1
want_err "lgcn-recommend: unknown user 9998"
tend

tbegin rate_new_user_stdin
cp "$RT/model.lgcn" "$tmp/model.old"
feed '# a new user\n9999 1 5\n\n9999 101 4\n9999,46,3.5\n'
run $A -d "$RT" -
want_rc 0
want_out_empty
want_err "$(stored_msg 3 3 0 1)"
want_eq "n_users" 11 "$(n_users "$RT")"
want_eq "n_ratings" 78 "$(n_ratings "$RT")"
rated 9999,1 9999,101 9999,46
run $R -d "$RT" -u 9999 -n 5
want_rc 0
want_err_empty
check_recs 5 "" 9999
run $R -d "$RT" -u 9999 -n 20 --genre Romance
want_rc 0
check_recs 20 Romance 9999
# the new user is served, and evaluation still runs over the 10 test users
run $E -d "$RT" -k 5
want_rc 0
sed -n 2p "$tmp/out" | grep -q "${TAB}10\$" || { fail "eval should still count 10 users"; show out; }
tend

tbegin rate_stale_model
# a model written before the new user: serves the old users, refuses the new one
run $R -d "$RT" -m "$tmp/model.old" -u 1 -n 3
want_rc 0
check_recs 3 "" 1
run $R -d "$RT" -m "$tmp/model.old" -u 9999
want_rc 1
want_err "lgcn-recommend: user 9999 joined after the model was trained (run lgcn-rate or lgcn-train)"
run $E -d "$RT" -m "$tmp/model.old"
want_rc 1
want_err "lgcn-eval: the model knows 10 of the dataset's 11 users (ratings were added after training); retrain with lgcn-train"
tend

tbegin rate_large_ids
run $A -d "$RT" -q 4000000000 9000000000 4.5
want_rc 0
run $A -d "$RT" 90000000000 9000000000 5
want_rc 0
want_err "$(stored_msg 1 1 0 1)"
rated 4000000000,9000000000 90000000000,9000000000
feed '4000000000\n90000000000\n'
run $R -d "$RT" --users - -n 20
want_rc 0
check_recs 20 "" "4000000000 90000000000"
tend

tbegin rate_steps_0
run $A -d "$RT" --steps 0 5 200 3
want_rc 0
want_err "$(stored_msg 1 1 0 0 'graph updated, model not fine-tuned')"
rated 5,200
run $R -d "$RT" -u 5 -n 20
want_rc 0
check_recs 20 "" 5
tend

tbegin rate_implicit_dataset
run $A -d "$tmp/lg" 2 4 2
want_rc 1
want_err "lgcn-rate: rating 2: this dataset holds implicit feedback, the rating must be 1 (nothing written)"
run $A -d "$tmp/lg" 2 4 1
want_rc 0
run $R -d "$tmp/lg" -u 2 -n 10 --no-header
want_rc 0
cut -f3 "$tmp/out" | sort -n | tr '\n' ' ' >"$tmp/ids"
want_eq "movies recommended to user 2 after rating 4" "0 1 2 3 5 " "$(cat "$tmp/ids")"
tend

tbegin rate_missing_files
run $A -d "$tmp/nope" 1 1 4
want_rc 1
want_err_has "(nothing written)"
[ -e "$tmp/nope" ] && fail "lgcn-rate created '$tmp/nope'"
run $A -d "$DS2" 1 1 4
want_rc 1
want_err "lgcn-rate: cannot open 'TMP/ds2/model.lgcn': No such file or directory (nothing written)"
tend

tbegin rate_concurrent
CC=$tmp/cc
cp -R "$DS" "$CC"
$A -d "$CC" 1 20 4 >"$tmp/c1" 2>&1 &
p1=$!
$A -d "$CC" 2 7 3 >"$tmp/c2" 2>&1 &
p2=$!
$A -d "$CC" 3 2 5 >"$tmp/c3" 2>&1 &
p3=$!
$A -d "$CC" 13 1 2.5 >"$tmp/c4" 2>&1 &
p4=$!
# a watchdog, so a lock that is never released fails the test instead of
# hanging it (short sleeps: nothing lingers once it is stopped)
(
    i=0
    while [ $i -lt 60 ]; do sleep 1; i=$((i + 1)); done
    kill $p1 $p2 $p3 $p4
) >/dev/null 2>&1 &
dog=$!
k=0
for p in $p1 $p2 $p3 $p4; do
    k=$((k + 1))
    wait "$p"
    r=$?
    [ "$r" = 0 ] || { fail "rater $k exited with $r:"; sed 's/^/    /' "$tmp/c$k" >>"$tmp/diag"; }
    [ "$(cat "$tmp/c$k")" = "$(stored_msg 1 1 0 0)" ] ||
        { fail "rater $k said:"; sed 's/^/    /' "$tmp/c$k" >>"$tmp/diag"; }
done
kill "$dog" 2>/dev/null
wait "$dog" 2>/dev/null
last="4 concurrent lgcn-rate"
want_eq "n_ratings after 4 concurrent raters" 78 "$(n_ratings "$CC")"
want_eq "generation after 4 concurrent raters" 4 "$(generation "$CC")"
: >"$tmp/rated.extra"
rated 1,20 2,7 3,2 13,1
feed '1\n2\n3\n13\n'
run $R -d "$CC" --users - -n 20
want_rc 0
want_err_empty
check_recs 20 "" "1 2 3 13"
run $E -d "$CC" -k 5 -b pop
want_rc 0
want_err_empty
for f in "$CC"/*.tmp.*; do
    [ -e "$f" ] && fail "temporary file left behind: $f"
done
tend
