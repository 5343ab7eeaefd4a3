# Run the EXAMPLES of the man pages, like jq's manual tests.
#
# Usage (from the top of the source tree): sh tests/man-examples.sh
# LGCN_BIN names the directory of the lgcn-* binaries (default bin).
#
# In each man/lgcn-<page>.1, every line of the EXAMPLES section that lies in
# a .nf/.fi block and starts with "$ " is a command; the other lines there
# are sample output and are not checked. The roff escapes \- \e \(aq \(dq \&
# are undone before the command runs (no other escapes, no continuation
# lines). The pages run in this fixed order, all in one temporary directory
# that holds a symlink to testdata/:
#
#   prep       creates the datasets (ml, from testdata/ratings.csv and
#              testdata/movies.csv, is the one the later pages use)
#   train      trains ml/model.lgcn (and small.lgcn, train.tsv) on ml
#   eval       reads ml and the models of the train page
#   recommend  reads ml and ml/model.lgcn
#   rate       updates ml and ml/model.lgcn (last: it changes them)
#
# so an example may rely on what the examples before it made. Each command
# runs with sh -c, standard input from /dev/null and $LGCN_BIN first on PATH.
# Prints "ok man_example_<page>_<n>" when the n-th command of the page exits
# with status 0, else "not ok man_example_<page>_<n>" followed by the
# command, its exit status and its standard error as "#" lines.
set -u
root=$(cd "$(dirname "$0")/.." && pwd) || exit 2
bin=${LGCN_BIN:-bin}
case $bin in
/*) ;;
*) if [ -d "$bin" ]; then bin=$(cd "$bin" && pwd); else bin=$root/$bin; fi ;;
esac
cd "$root" || exit 2

if [ ! -x "$bin/lgcn-prep" ]; then
    echo "not ok man_examples"
    echo "#   no lgcn-prep in $bin (run make, or set LGCN_BIN)"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lgcn-man.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' INT TERM
mkdir "$tmp/run" || exit 2
ln -s "$root/testdata" "$tmp/run/testdata" || exit 2

failed=0
for page in prep train eval recommend rate; do
    man=man/lgcn-$page.1
    if [ ! -f "$man" ]; then
        echo "not ok man_example_$page"
        echo "#   $man is missing"
        failed=1
        continue
    fi
    # the "$ " lines of the .nf blocks of EXAMPLES, roff escapes undone
    awk '
        /^\.SH/ { ex = ($0 ~ /^\.SH +"?EXAMPLES"?[ \t]*$/); nf = 0; next }
        ex && /^\.nf/ { nf = 1; next }
        ex && /^\.fi/ { nf = 0; next }
        ex && nf && /^\$ / { print substr($0, 3) }
    ' "$man" | sed -e 's/\\-/-/g' -e "s/\\\\(aq/'/g" -e 's/\\(dq/"/g' \
        -e 's/\\&//g' -e 's/\\e/\\/g' >"$tmp/commands"
    if [ ! -s "$tmp/commands" ]; then
        echo "not ok man_example_$page"
        echo "#   $man has no \"\$ \" command lines in EXAMPLES"
        failed=1
        continue
    fi
    n=0
    while IFS= read -r cmd; do
        n=$((n + 1))
        (cd "$tmp/run" && PATH="$bin:$PATH" && export PATH &&
            exec sh -c "$cmd") </dev/null >"$tmp/stdout" 2>"$tmp/stderr"
        status=$?
        if [ "$status" -eq 0 ]; then
            echo "ok man_example_${page}_$n"
        else
            failed=1
            echo "not ok man_example_${page}_$n"
            printf '#   $ %s\n' "$cmd"
            echo "#   exit status $status; stderr:"
            sed 's/^/#   /' "$tmp/stderr"
        fi
    done <"$tmp/commands"
done
exit "$failed"
