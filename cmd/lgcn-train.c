/* lgcn-train - train a LightGCN model on a dataset directory. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdutil.h"
#include "dataset.h"
#include "graph.h"
#include "model.h"
#include "train.h"

static const char usage[] =
    "Usage: lgcn-train -d DIR [-m FILE] [options]\n"
    "\n"
    "Train LightGCN (He et al., SIGIR 2020) on the train interactions of DIR with\n"
    "BPR loss and Adam, and write the model (default DIR/model.lgcn). Progress goes\n"
    "to stderr.\n"
    "\n"
    "Options:\n"
    "  -d, --data DIR         dataset directory (from lgcn-prep)\n"
    "  -m, --model FILE       model file to write (default DIR/model.lgcn)\n"
    "  -e, --epochs N         maximum epochs (default 1000)\n"
    "      --dim N            embedding size (default 64)\n"
    "      --layers N         propagation layers (default 3)\n"
    "      --lr X             Adam learning rate (default 0.001)\n"
    "      --reg X            L2 weight on the batch's layer-0 embeddings (default 1e-4)\n"
    "      --batch N          triples per mini-batch (default 2048)\n"
    "      --seed N           seed of initialisation and sampling (default 2020)\n"
    "  -t, --threads N        threads (default: all cores)\n"
    "      --eval-every N     evaluate recall/ndcg@20 on test every N epochs and keep\n"
    "                         the best model (default 10; 0 = never)\n"
    "      --patience N       stop after N evaluations without improvement\n"
    "                         (default 5; 0 = run all epochs)\n"
    "      --log FILE         write one TSV row per epoch: epoch, loss, seconds,\n"
    "                         recall@20, ndcg@20 (empty when not evaluated), steps\n"
    "      --max-steps N      stop after N mini-batches in all, even mid-epoch\n"
    "                         (for timing runs on large data; default: no limit)\n"
    "  -q, --quiet            no progress output\n"
    "  -v, --verbose          a progress line for every epoch\n"
    "  -h, --help             show this help\n"
    "  -V, --version          show the version\n"
    "\n"
    "The same seed and thread count give a bit-identical model.\n"
    "Exit status: 0 success, 1 data or I/O error, 2 usage error.\n";

typedef struct {
    FILE *log;
    int log_failed;      /* errno of a failed log write, 0 = fine */
    const char *dir, *model_path, *lock_path;
    uint64_t generation; /* of the dataset trained on */
    uint64_t data_id;    /* its lineage id */
    uint64_t seed;
    int warned;
    int quiet, verbose;
    uint32_t every;   /* progress line every N epochs when not evaluating */
    uint32_t epochs;
} progress;

static int on_epoch(void *ctx, const lgcn_epoch_info *e)
{
    progress *p = ctx;
    if (p->log) {
        if (e->evaluated)
            fprintf(p->log, "%u\t%.6f\t%.4f\t%.6f\t%.6f\t%llu\n", e->epoch, e->loss, e->seconds,
                    e->recall, e->ndcg, (unsigned long long)e->steps);
        else
            fprintf(p->log, "%u\t%.6f\t%.4f\t\t\t%llu\n", e->epoch, e->loss, e->seconds,
                    (unsigned long long)e->steps);
        if (fflush(p->log) != 0 || ferror(p->log)) {
            p->log_failed = errno ? errno : EIO;
            return 1; /* the requested log cannot be written: stop */
        }
    }
    /* stderr: every evaluation, else every `every` epochs (all with -v) */
    int show = p->verbose || e->evaluated || e->epoch == 1 || e->epoch == p->epochs ||
               (p->every && e->epoch % p->every == 0);
    if (!p->quiet && show) {
        if (e->evaluated)
            fprintf(stderr, "%s: epoch %u  loss %.5f  %.2fs  recall@20 %.4f  ndcg@20 %.4f%s\n",
                    cmd_prog, e->epoch, e->loss, e->seconds, e->recall, e->ndcg,
                    e->improved ? "  (best)" : "");
        else
            fprintf(stderr, "%s: epoch %u  loss %.5f  %.2fs\n", cmd_prog, e->epoch, e->loss,
                    e->seconds);
    }
    return 0;
}

/* Write the kept model under the dataset lock, so a concurrent lgcn-rate
 * never interleaves with this write. If lgcn-rate committed ratings while
 * this model trained, the written model catches up with them (their users'
 * rows from the model lgcn-rate wrote, final embeddings over the current
 * graph) instead of dropping them. */
static int save_model(void *ctx, const lgcn_model *m)
{
    progress *p = ctx;
    int lk = lgcn_lock(p->lock_path);
    if (lk < 0)
        return -1;
    lgcn_dataset now;
    uint64_t id, gen;
    int rc = -1;
    /* one header read tells replaced, unchanged (the common case: a plain
     * save) or rated meanwhile (catch up) */
    if (lgcn_dataset_peek(p->dir, &id, &gen) != 0) {
        lgcn_unlock(lk);
        return -1;
    }
    if (id != p->data_id) {
        lgcn_unlock(lk);
        return lgcn_error("the dataset in '%s' was replaced during training (lgcn-prep --force): "
                          "the model is not written", p->dir);
    }
    if (gen == p->generation) {
        rc = lgcn_model_save(p->model_path, m);
        lgcn_unlock(lk);
        return rc;
    }
    if (lgcn_dataset_load(p->dir, &now) != 0) {
        lgcn_unlock(lk);
        return -1;
    }
    if (now.generation == p->generation) {
        rc = lgcn_model_save(p->model_path, m);
    } else {
        lgcn_model up, disk;
        int have_disk = lgcn_model_load(p->model_path, &disk) == 0;
        if (lgcn_model_copy(&up, m) == 0) {
            if (lgcn_model_catch_up(&up, &now, have_disk ? &disk : NULL, p->seed) == 0)
                rc = lgcn_model_save(p->model_path, &up);
            lgcn_model_free(&up);
        }
        if (have_disk)
            lgcn_model_free(&disk);
        if (rc == 0 && !p->warned) {
            cmd_msg("note: lgcn-rate added ratings during training; the model carries their users "
                    "over, and the next training learns from them fully");
            p->warned = 1;
        }
    }
    lgcn_dataset_free(&now);
    lgcn_unlock(lk);
    return rc;
}

int main(int argc, char **argv)
{
    cmd_init("lgcn-train");
    const char *dir = NULL, *model_opt = NULL, *log_path = NULL;
    uint32_t dim = 64, layers = 3, epochs = 1000, batch = 2048, eval_every = 10, patience = 5,
             threads = 0;
    float lr = 0.001f, reg = 1e-4f;
    uint64_t seed = 2020;
    int quiet = 0, verbose = 0;
    enum { O_DIM = 256, O_LAYERS, O_LR, O_REG, O_BATCH, O_SEED, O_EVAL, O_PAT, O_LOG, O_MAXSTEPS };
    uint64_t max_steps = 0;
    static const struct option lo[] = {
        {"data", required_argument, 0, 'd'}, {"model", required_argument, 0, 'm'},
        {"epochs", required_argument, 0, 'e'}, {"dim", required_argument, 0, O_DIM},
        {"layers", required_argument, 0, O_LAYERS}, {"lr", required_argument, 0, O_LR},
        {"reg", required_argument, 0, O_REG}, {"batch", required_argument, 0, O_BATCH},
        {"seed", required_argument, 0, O_SEED}, {"threads", required_argument, 0, 't'},
        {"eval-every", required_argument, 0, O_EVAL}, {"patience", required_argument, 0, O_PAT},
        {"log", required_argument, 0, O_LOG}, {"max-steps", required_argument, 0, O_MAXSTEPS},
        {"quiet", no_argument, 0, 'q'},
        {"verbose", no_argument, 0, 'v'},
        {"help", no_argument, 0, 'h'}, {"version", no_argument, 0, 'V'}, {0, 0, 0, 0}};
    int c, bad = 0;
    while (!bad && (c = getopt_long(argc, argv, ":d:m:e:t:qvhV", lo, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'm': model_opt = optarg; break;
        case 'e': bad = cmd_u32("--epochs", optarg, 0, 1000000, &epochs); break;
        case O_DIM: bad = cmd_u32("--dim", optarg, 1, 4096, &dim); break;
        case O_LAYERS: bad = cmd_u32("--layers", optarg, 0, 64, &layers); break;
        case O_LR: bad = cmd_f32("--lr", optarg, 1e-12, 10.0, &lr); break;
        case O_REG: bad = cmd_f32("--reg", optarg, 0.0, 1e6, &reg); break;
        case O_BATCH: bad = cmd_u32("--batch", optarg, 1, 1u << 26, &batch); break;
        case O_SEED: bad = cmd_u64("--seed", optarg, &seed); break;
        case 't': bad = cmd_u32("--threads", optarg, 1, 1024, &threads); break;
        case O_EVAL: bad = cmd_u32("--eval-every", optarg, 0, 1000000, &eval_every); break;
        case O_PAT: bad = cmd_u32("--patience", optarg, 0, 1000000, &patience); break;
        case O_LOG: log_path = optarg; break;
        case O_MAXSTEPS: bad = cmd_u64("--max-steps", optarg, &max_steps); break;
        case 'q': quiet = 1; break;
        case 'v': verbose = 1; break;
        case 'h': return cmd_help(usage);
        case 'V': return cmd_version();
        default: return cmd_bad_option(c, argv);
        }
    }
    if (bad)
        return EXIT_USAGE;
    if (optind < argc)
        return cmd_usage("unexpected argument '%s'", argv[optind]);
    if (!dir)
        return cmd_usage("missing -d DIR");
    cmd_quiet(quiet);

    int rc = EXIT_DATA;
    lgcn_dataset ds;
    lgcn_graph g = {0};
    lgcn_model m = {0};
    char *model_path = NULL, *lock_path = NULL;
    progress pr = {.quiet = quiet, .verbose = verbose, .epochs = epochs};
    if (lgcn_dataset_load(dir, &ds) != 0)
        return cmd_fail();
    if (!(model_path = cmd_model_path(dir, model_opt)) || !(lock_path = lgcn_path_join(dir, "lock")) ||
        lgcn_graph_build(&ds, &g) != 0 || lgcn_model_alloc(&m, ds.n_users, ds.n_items, dim, layers) != 0) {
        cmd_fail();
        goto out;
    }
    uint64_t counts[3];
    lgcn_dataset_count(&ds, counts);
    if (eval_every && counts[LGCN_TEST] == 0) {
        if (!quiet)
            cmd_msg("the dataset has no test interactions: not evaluating");
        eval_every = 0;
    }
    /* without evaluations, about 20 progress lines per run */
    pr.every = eval_every ? 0 : (epochs >= 20 ? epochs / 20 : 1);
    if (log_path) {
        pr.log = fopen(log_path, "w");
        if (!pr.log) {
            cmd_msg("cannot open '%s': %s", log_path, strerror(errno));
            goto out;
        }
        fprintf(pr.log, "epoch\tloss\tseconds\trecall@20\tndcg@20\tsteps\n");
    }
    /* fail now, not after hours of training, if the model cannot be written */
    {
        lgcn_writer probe;
        if (lgcn_writer_open(&probe, model_path, "LGCNPROB", 1) != 0) {
            cmd_fail();
            goto out;
        }
        lgcn_writer_abort(&probe);
    }
    lgcn_model_init(&m, seed);
    lgcn_model_bind(&m, &ds);
    pr.seed = seed;
    pr.dir = dir;
    pr.model_path = model_path;
    pr.lock_path = lock_path;
    pr.generation = ds.generation;
    pr.data_id = ds.id;
    lgcn_train_opts o = {.epochs = epochs, .batch = batch, .lr = lr, .reg = reg, .seed = seed,
                         .threads = (int)threads, .eval_every = eval_every, .patience = patience,
                         .max_steps = max_steps, .on_epoch = on_epoch, .save = save_model, .ctx = &pr};
    lgcn_train_result res;
    if (!quiet)
    {
        int nt = lgcn_set_threads((int)threads);
        cmd_msg("%u users, %u movies, %llu train interactions; dim %u, %u layers, %d thread%s",
                ds.n_users, ds.n_items, (unsigned long long)counts[LGCN_TRAIN], dim, layers, nt,
                nt == 1 ? "" : "s");
    }
    if (lgcn_train(&ds, &g, &m, &o, &res) != 0) {
        cmd_fail();
        goto out;
    }
    if (pr.log_failed) {
        cmd_msg("cannot write '%s': %s (training stopped after epoch %u)", log_path,
                strerror(pr.log_failed), res.epochs_run);
        goto out;
    }
    if (!quiet) {
        if (res.best_recall >= 0)
            cmd_msg("kept epoch %u of %u: recall@20 %.4f, ndcg@20 %.4f; %.1fs training (%.3fs/epoch)",
                    res.best_epoch, res.epochs_run, res.best_recall, res.best_ndcg, res.seconds,
                    res.epochs_run ? res.seconds / res.epochs_run : 0.0);
        else
            cmd_msg("trained %u epochs in %.1fs (%.3fs/epoch)", res.epochs_run, res.seconds,
                    res.epochs_run ? res.seconds / res.epochs_run : 0.0);
        cmd_msg("wrote %s", model_path);
    }
    rc = EXIT_OK;
out:
    if (pr.log && fclose(pr.log) != 0 && rc == EXIT_OK) {
        cmd_msg("cannot write '%s': %s", log_path, strerror(errno));
        rc = EXIT_DATA;
    }
    lgcn_model_free(&m);
    lgcn_graph_free(&g);
    lgcn_dataset_free(&ds);
    free(model_path);
    free(lock_path);
    return rc;
}
