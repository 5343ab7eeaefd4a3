/* lgcn-rate - add ratings and let the model learn from them at once. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmdutil.h"
#include "dataset.h"
#include "rate.h"

static const char usage[] =
    "Usage: lgcn-rate -d DIR [-m FILE] [options] USER MOVIE RATING\n"
    "       lgcn-rate -d DIR [-m FILE] [options] -\n"
    "\n"
    "Store ratings in the dataset (a re-rating replaces the old value) and\n"
    "fine-tune the model on them, so the next lgcn-recommend reflects them.\n"
    "With '-', lines 'USER MOVIE RATING' are read from standard input (blank\n"
    "lines and lines starting with '#' are skipped); every line is checked\n"
    "before anything is written. A new USER is created.\n"
    "\n"
    "Options:\n"
    "  -d, --data DIR         dataset directory\n"
    "  -m, --model FILE       model file (default DIR/model.lgcn)\n"
    "      --steps N          fine-tuning steps (default 50; 0 = graph update only)\n"
    "      --lr X             fine-tuning learning rate (default 0.005)\n"
    "      --batch N          triples per fine-tuning step (default 512)\n"
    "      --seed N           fine-tuning seed (default 2020)\n"
    "  -t, --threads N        threads (default: all cores)\n"
    "  -q, --quiet            no summary on stderr\n"
    "  -h, --help             show this help\n"
    "  -V, --version          show the version\n"
    "\n"
    "Exit status: 0 success, 1 data error (nothing written), 2 usage error.\n";

/* Parse "USER MOVIE RATING" (whitespace separated) strictly. */
static int parse_entry(char *line, lgcn_rate_entry *e)
{
    char *f[4];
    int nf = 0;
    for (char *save = NULL, *tok = strtok_r(line, " \t\r\n,", &save); tok;
         tok = strtok_r(NULL, " \t\r\n,", &save)) {
        if (nf == 3)
            return lgcn_error("expected 'USER MOVIE RATING', found more fields");
        f[nf++] = tok;
    }
    if (nf != 3)
        return lgcn_error("expected 'USER MOVIE RATING', found %d field%s", nf, nf == 1 ? "" : "s");
    if (lgcn_parse_i64(f[0], INT64_MIN, INT64_MAX, "user ID", &e->user) != 0 ||
        lgcn_parse_i64(f[1], INT64_MIN, INT64_MAX, "movie ID", &e->movie) != 0 ||
        lgcn_parse_f64(f[2], -1e30, 1e30, "rating", &e->rating) != 0)
        return -1;
    return 0;
}

int main(int argc, char **argv)
{
    cmd_init("lgcn-rate");
    const char *dir = NULL, *model_opt = NULL;
    lgcn_rate_opts o = {.steps = 50, .batch = 512, .lr = 0.005f, .seed = 2020, .threads = 0};
    uint32_t threads = 0;
    int quiet = 0;
    enum { O_STEPS = 256, O_LR, O_BATCH, O_SEED };
    static const struct option lo[] = {
        {"data", required_argument, 0, 'd'}, {"model", required_argument, 0, 'm'},
        {"steps", required_argument, 0, O_STEPS}, {"lr", required_argument, 0, O_LR},
        {"batch", required_argument, 0, O_BATCH}, {"seed", required_argument, 0, O_SEED},
        {"threads", required_argument, 0, 't'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, 'h'}, {"version", no_argument, 0, 'V'}, {0, 0, 0, 0}};
    int c, bad = 0;
    /* '+': stop at the first operand, so a negative RATING or ID is not an option */
    while (!bad && (c = getopt_long(argc, argv, "+:d:m:t:qhV", lo, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'm': model_opt = optarg; break;
        case O_STEPS: bad = cmd_u32("--steps", optarg, 0, 1000000, &o.steps); break;
        case O_LR: bad = cmd_f32("--lr", optarg, 1e-12, 10.0, &o.lr); break;
        case O_BATCH: bad = cmd_u32("--batch", optarg, 1, 1u << 24, &o.batch); break;
        case O_SEED: bad = cmd_u64("--seed", optarg, &o.seed); break;
        case 't': bad = cmd_u32("--threads", optarg, 1, 1024, &threads); break;
        case 'q': quiet = 1; break;
        case 'h': return cmd_help(usage);
        case 'V': return cmd_version();
        default: return cmd_bad_option(c, argv);
        }
    }
    if (bad)
        return EXIT_USAGE;
    if (!dir)
        return cmd_usage("missing -d DIR");
    int nargs = argc - optind;
    int from_stdin = nargs == 1 && strcmp(argv[optind], "-") == 0;
    if (!from_stdin && nargs != 3)
        return cmd_usage("expected USER MOVIE RATING, or '-' to read them from standard input");
    o.threads = (int)threads;
    o.now = (int64_t)time(NULL);
    cmd_quiet(quiet);

    lgcn_rate_entry *e = NULL;
    unsigned long *lines = NULL; /* input line of each entry */
    size_t n = 0, cap = 0;
    int rc = EXIT_DATA;
    if (from_stdin) {
        char *line = NULL;
        size_t lcap = 0;
        unsigned long lineno = 0;
        while (getline(&line, &lcap, stdin) > 0) {
            lineno++;
            char *s = line;
            while (isspace((unsigned char)*s))
                s++;
            if (!*s || *s == '#')
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                lgcn_rate_entry *p = realloc(e, cap * sizeof *e);
                if (p)
                    e = p;
                unsigned long *q = realloc(lines, cap * sizeof *lines);
                if (q)
                    lines = q;
                if (!p || !q) {
                    cmd_msg("out of memory");
                    free(line);
                    goto out;
                }
            }
            if (parse_entry(s, &e[n]) != 0) {
                cmd_msg("stdin: line %lu: %s (nothing written)", lineno, lgcn_errmsg());
                free(line);
                goto out;
            }
            lines[n++] = lineno;
        }
        free(line);
        if (ferror(stdin)) {
            cmd_msg("cannot read standard input");
            goto out;
        }
        if (n == 0) {
            if (!quiet)
                cmd_msg("no ratings on standard input; nothing to do");
            rc = EXIT_OK;
            goto out;
        }
    } else {
        e = malloc(sizeof *e);
        if (!e)
            goto out;
        char buf[256];
        snprintf(buf, sizeof buf, "%s %s %s", argv[optind], argv[optind + 1], argv[optind + 2]);
        /* operands parsed one by one so spaces inside one are rejected */
        for (int k = 0; k < 3; k++)
            if (strpbrk(argv[optind + k], " \t,") || !*argv[optind + k]) {
                rc = cmd_usage("bad operand '%s'", argv[optind + k]);
                goto out;
            }
        if (parse_entry(buf, e) != 0) {
            rc = cmd_usage("%s", lgcn_errmsg());
            goto out;
        }
        n = 1;
    }
    char *model_path = cmd_model_path(dir, model_opt);
    lgcn_rate_result res;
    size_t bad_entry;
    if (!model_path) {
        cmd_fail();
        goto out;
    }
    if (lgcn_rate_commit(dir, model_path, e, n, &o, &res, &bad_entry) != 0) {
        if (from_stdin && bad_entry < n)
            cmd_msg("stdin: line %lu: %s (nothing written)", lines[bad_entry], lgcn_errmsg());
        else if (res.partial)
            cmd_msg("%s", lgcn_errmsg());
        else
            cmd_msg("%s (nothing written)", lgcn_errmsg());
        free(model_path);
        goto out;
    }
    free(model_path);
    if (!quiet)
        cmd_msg("stored %zu rating%s (%u new, %u replaced, %u new user%s); %s", n, n == 1 ? "" : "s",
                res.added, res.replaced, res.new_users, res.new_users == 1 ? "" : "s",
                res.steps ? "model fine-tuned" : "graph updated, model not fine-tuned");
    rc = EXIT_OK;
out:
    free(e);
    free(lines);
    return rc;
}
