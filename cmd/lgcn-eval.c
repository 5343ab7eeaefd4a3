/* lgcn-eval - full-ranking evaluation of a model on the test interactions. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdutil.h"
#include "dataset.h"
#include "eval.h"
#include "model.h"
#include "train.h"

static const char usage[] =
    "Usage: lgcn-eval -d DIR [-m FILE] [-k LIST] [--format tsv|json] [--baseline pop]\n"
    "\n"
    "Rank every movie for every user with at least one test interaction (the\n"
    "user's train movies masked) and print recall, precision, hit rate and NDCG\n"
    "at each K, averaged over those users.\n"
    "\n"
    "Options:\n"
    "  -d, --data DIR         dataset directory\n"
    "  -m, --model FILE       model file (default DIR/model.lgcn)\n"
    "  -k, --k LIST           comma-separated cut-offs (default 20)\n"
    "  -f, --format FMT       tsv (default: header + one row per model and K) or\n"
    "                         json (one object per line)\n"
    "  -b, --baseline pop     also evaluate the most-popular-in-train ranking\n"
    "  -t, --threads N        threads (default: all cores)\n"
    "  -h, --help             show this help\n"
    "  -V, --version          show the version\n"
    "\n"
    "Exit status: 0 success, 1 data or I/O error, 2 usage error.\n";

static int parse_ks(const char *s, uint32_t *ks, uint32_t *nk)
{
    char *copy = strdup(s);
    if (!copy)
        return -1;
    *nk = 0;
    int rc = 0;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*nk == 32) {
            rc = cmd_usage("-k: at most 32 cut-offs");
            break;
        }
        if (cmd_u32("-k", tok, 1, 100000, &ks[*nk]) != 0) {
            rc = -1;
            break;
        }
        ++*nk;
    }
    if (rc == 0 && *nk == 0)
        rc = cmd_usage("-k: empty list");
    free(copy);
    return rc == 0 ? 0 : -1;
}

static void print_rows(const char *model, const lgcn_metrics *mt, uint32_t nk, int json)
{
    for (uint32_t j = 0; j < nk; j++) {
        if (json)
            printf("{\"model\":\"%s\",\"k\":%u,\"recall\":%.6f,\"precision\":%.6f,"
                   "\"hit_rate\":%.6f,\"ndcg\":%.6f,\"users\":%u}\n",
                   model, mt[j].k, mt[j].recall, mt[j].precision, mt[j].hit_rate, mt[j].ndcg,
                   mt[j].users);
        else
            printf("%s\t%u\t%.6f\t%.6f\t%.6f\t%.6f\t%u\n", model, mt[j].k, mt[j].recall,
                   mt[j].precision, mt[j].hit_rate, mt[j].ndcg, mt[j].users);
    }
}

int main(int argc, char **argv)
{
    cmd_init("lgcn-eval");
    const char *dir = NULL, *model_opt = NULL;
    uint32_t ks[32] = {20}, nk = 1, threads = 0;
    int json = 0, pop = 0;
    static const struct option lo[] = {
        {"data", required_argument, 0, 'd'}, {"model", required_argument, 0, 'm'},
        {"k", required_argument, 0, 'k'}, {"format", required_argument, 0, 'f'},
        {"baseline", required_argument, 0, 'b'}, {"threads", required_argument, 0, 't'},
        {"help", no_argument, 0, 'h'}, {"version", no_argument, 0, 'V'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, ":d:m:k:f:b:t:hV", lo, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'm': model_opt = optarg; break;
        case 'k':
            if (parse_ks(optarg, ks, &nk) != 0)
                return EXIT_USAGE;
            break;
        case 'f':
            if (cmd_format(optarg, "json", &json) != 0)
                return EXIT_USAGE;
            break;
        case 'b':
            if (strcmp(optarg, "pop") != 0)
                return cmd_usage("--baseline: only 'pop' is known, not '%s'", optarg);
            pop = 1;
            break;
        case 't':
            if (cmd_u32("--threads", optarg, 1, 1024, &threads) != 0)
                return EXIT_USAGE;
            break;
        case 'h': return cmd_help(usage);
        case 'V': return cmd_version();
        default: return cmd_bad_option(c, argv);
        }
    }
    if (optind < argc)
        return cmd_usage("unexpected argument '%s'", argv[optind]);
    if (!dir)
        return cmd_usage("missing -d DIR");

    int rc = EXIT_DATA;
    lgcn_dataset ds;
    lgcn_model m = {0};
    lgcn_metrics mt[32], mp[32];
    char *model_path = cmd_model_path(dir, model_opt);
    if (!model_path)
        return cmd_fail();
    if (lgcn_load_pair(dir, model_path, &ds, &m) != 0) {
        free(model_path);
        return cmd_fail();
    }
    int nt = lgcn_set_threads((int)threads);
    if (m.n_users < ds.n_users) {
        cmd_msg("the model knows %u of the dataset's %u users (ratings were added after "
                "training); retrain with lgcn-train", m.n_users, ds.n_users);
        goto out;
    }
    if (lgcn_evaluate(&ds, m.final, m.final + (size_t)m.n_users * m.dim, m.dim, ks, nk, nt, mt) != 0 ||
        (pop && lgcn_evaluate_pop(&ds, ks, nk, nt, mp) != 0)) {
        cmd_fail();
        goto out;
    }
    if (mt[0].users == 0)
        cmd_msg("warning: no user has test interactions; every metric is 0");
    if (!json)
        printf("model\tk\trecall\tprecision\thit_rate\tndcg\tusers\n");
    print_rows("lightgcn", mt, nk, json);
    if (pop)
        print_rows("pop", mp, nk, json);
    rc = cmd_flush_stdout();
out:
    free(model_path);
    lgcn_model_free(&m);
    lgcn_dataset_free(&ds);
    return rc;
}
