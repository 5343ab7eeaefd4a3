/* lgcn-prep - turn MovieLens CSVs or LightGCN train/test files into a
 * dataset directory. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmdutil.h"
#include "dataset.h"
#include "prep.h"

static const char usage[] =
    "Usage: lgcn-prep --ratings ratings.csv [--movies movies.csv] -o DIR [options]\n"
    "       lgcn-prep --train train.txt --test test.txt -o DIR [options]\n"
    "\n"
    "Read MovieLens CSVs (userId,movieId,rating,timestamp and movieId,title,genres)\n"
    "or the LightGCN paper's train/test files (lines 'user item item ...') and write\n"
    "the dataset directory DIR: dataset.lgcn, users.ids, movies.ids. A summary goes\n"
    "to stderr.\n"
    "\n"
    "Options:\n"
    "  -r, --ratings FILE     MovieLens ratings.csv\n"
    "  -M, --movies FILE      MovieLens movies.csv (titles and genres)\n"
    "      --train FILE       LightGCN-format train file\n"
    "      --test FILE        LightGCN-format test file\n"
    "  -o, --output DIR       dataset directory to create\n"
    "      --test-frac F      per-user fraction of movies held out for test (default 0.2)\n"
    "      --seed N           seed of the train/test split (default 2020)\n"
    "      --min-rating R     only ratings >= R are interactions (default: all)\n"
    "  -f, --force            replace an existing dataset in DIR (its model is removed)\n"
    "  -q, --quiet            no summary or warnings\n"
    "  -h, --help             show this help\n"
    "  -V, --version          show the version\n"
    "\n"
    "Exit status: 0 success, 1 data or I/O error, 2 usage error.\n";

int main(int argc, char **argv)
{
    cmd_init("lgcn-prep");
    const char *ratings = NULL, *movies = NULL, *train = NULL, *test = NULL, *out = NULL;
    lgcn_prep_opts o = {.test_frac = 0.2, .seed = 2020, .min_rating = -INFINITY};
    int force = 0, quiet = 0, frac_given = 0, seed_given = 0;
    enum { O_TRAIN = 256, O_TEST, O_FRAC, O_SEED, O_MINR };
    static const struct option lo[] = {
        {"ratings", required_argument, 0, 'r'}, {"movies", required_argument, 0, 'M'},
        {"train", required_argument, 0, O_TRAIN}, {"test", required_argument, 0, O_TEST},
        {"output", required_argument, 0, 'o'}, {"test-frac", required_argument, 0, O_FRAC},
        {"seed", required_argument, 0, O_SEED}, {"min-rating", required_argument, 0, O_MINR},
        {"force", no_argument, 0, 'f'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'}, {"version", no_argument, 0, 'V'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, ":r:M:o:fqhV", lo, NULL)) != -1) {
        switch (c) {
        case 'r': ratings = optarg; break;
        case 'M': movies = optarg; break;
        case O_TRAIN: train = optarg; break;
        case O_TEST: test = optarg; break;
        case 'o': out = optarg; break;
        case O_FRAC:
            if (cmd_f64("--test-frac", optarg, 0.0, 0.99, &o.test_frac) != 0)
                return EXIT_USAGE;
            frac_given = 1;
            break;
        case O_SEED:
            if (cmd_u64("--seed", optarg, &o.seed) != 0)
                return EXIT_USAGE;
            seed_given = 1;
            break;
        case O_MINR:
            if (cmd_f64("--min-rating", optarg, -1e30, 1e30, &o.min_rating) != 0)
                return EXIT_USAGE;
            break;
        case 'f': force = 1; break;
        case 'q': quiet = 1; break;
        case 'h': return cmd_help(usage);
        case 'V': return cmd_version();
        default: return cmd_bad_option(c, argv);
        }
    }
    if (optind < argc)
        return cmd_usage("unexpected argument '%s'", argv[optind]);
    if (!out)
        return cmd_usage("missing -o DIR");
    if (ratings && (train || test))
        return cmd_usage("give either --ratings or --train/--test, not both");
    if (!ratings && !(train && test))
        return cmd_usage(train || test ? "--train and --test go together" : "missing --ratings FILE (or --train/--test)");
    if (movies && !ratings)
        return cmd_usage("--movies goes with --ratings");
    if (!ratings && (frac_given || seed_given || isfinite(o.min_rating)))
        return cmd_usage("--test-frac, --seed and --min-rating apply to --ratings input only");
    cmd_quiet(quiet);

    char *dspath = lgcn_path_join(out, "dataset.lgcn");
    struct stat st;
    if (!dspath)
        return cmd_fail();
    if (!force && stat(dspath, &st) == 0) {
        cmd_msg("'%s' already holds a dataset (use --force to replace it)", out);
        free(dspath);
        return EXIT_DATA;
    }
    free(dspath);

    lgcn_dataset ds;
    lgcn_prep_stats ps = {0};
    o.ratings_path = ratings;
    o.movies_path = movies;
    int rc = ratings ? lgcn_prep_movielens(&o, &ds, &ps) : lgcn_prep_lightgcn(train, test, &ds, &ps);
    if (rc != 0)
        return cmd_fail();
    /* under DIR/lock, like every writer, so a concurrent lgcn-rate or
     * lgcn-train save cannot interleave with the replacement */
    char *lock_path = NULL;
    int lk = -1;
    if ((mkdir(out, 0777) != 0 && errno != EEXIST && lgcn_error_errno("cannot create directory '%s'", out)) ||
        !(lock_path = lgcn_path_join(out, "lock")) || (lk = lgcn_lock(lock_path)) < 0 ||
        lgcn_dataset_save(out, &ds) != 0) {
        lgcn_unlock(lk);
        free(lock_path);
        lgcn_dataset_free(&ds);
        return cmd_fail();
    }
    if (force) {
        /* a model of the replaced dataset no longer fits: remove it */
        char *mp = lgcn_path_join(out, "model.lgcn");
        if (mp && remove(mp) == 0 && !quiet)
            cmd_msg("removed the old model '%s'", mp);
        free(mp);
    }
    lgcn_unlock(lk);
    free(lock_path);
    if (!quiet) {
        uint64_t n[3];
        lgcn_dataset_count(&ds, n);
        double density = ds.n_users && ds.n_items
                             ? (double)(n[LGCN_TRAIN] + n[LGCN_TEST]) / ((double)ds.n_users * ds.n_items)
                             : 0.0;
        cmd_msg("%u users, %u movies, %llu train / %llu test interactions, density %.5f", ds.n_users,
                ds.n_items, (unsigned long long)n[LGCN_TRAIN], (unsigned long long)n[LGCN_TEST], density);
        if (n[LGCN_HELD])
            cmd_msg("%llu ratings below --min-rating kept as seen, not as interactions",
                    (unsigned long long)n[LGCN_HELD]);
        if (!(ds.flags & LGCN_DS_IMPLICIT)) {
            char step[64] = "";
            if (ds.rating_step > 0)
                snprintf(step, sizeof step, " in steps of %g", ds.rating_step);
            cmd_msg("rating scale %g to %g%s, %u genres", ds.rating_min, ds.rating_max, step,
                    ds.n_genres);
        }
        cmd_msg("wrote %s/dataset.lgcn", out);
    }
    lgcn_dataset_free(&ds);
    return EXIT_OK;
}
