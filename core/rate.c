/* rate.c - incremental learning from new ratings. */
#include "rate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "graph.h"
#include "model.h"
#include "train.h"
#include "util.h"

int lgcn_rate_check(const lgcn_dataset *ds, const lgcn_rate_entry *e, size_t n, size_t *bad)
{
    for (size_t k = 0; k < n; k++) {
        *bad = k;
        double r = e[k].rating;
        if (lgcn_dataset_find_item(ds, e[k].movie) < 0)
            return lgcn_error("movie %lld is not in the catalogue", (long long)e[k].movie);
        /* a small tolerance absorbs decimal->binary rounding ("3.3") */
        double tol = 1e-6 * (fabs(ds->rating_max) + 1.0);
        if (!isfinite(r) || r < ds->rating_min - tol || r > ds->rating_max + tol) {
            if (ds->rating_min == ds->rating_max)
                return lgcn_error("rating %g: this dataset holds implicit feedback, the rating must be %g",
                                  r, ds->rating_min);
            return lgcn_error("rating %g is outside the dataset's scale %g to %g", r, ds->rating_min,
                              ds->rating_max);
        }
        if (ds->rating_step > 0) {
            double q = (r - ds->rating_min) / ds->rating_step;
            if (fabs(q - nearbyint(q)) > 1e-4)
                return lgcn_error("rating %g is not on the dataset's scale (%g to %g in steps of %g)", r,
                                  ds->rating_min, ds->rating_max, ds->rating_step);
        }
    }
    return 0;
}

int lgcn_rate_commit(const char *dir, const char *model_path, const lgcn_rate_entry *e, size_t n,
                     const lgcn_rate_opts *o, lgcn_rate_result *res, size_t *bad)
{
    memset(res, 0, sizeof *res);
    *bad = SIZE_MAX;
    struct stat st;
    if (stat(dir, &st) != 0)
        return lgcn_error_errno("cannot open dataset directory '%s'", dir);
    char *lock_path = lgcn_path_join(dir, "lock");
    if (!lock_path)
        return -1;
    int lk = lgcn_lock(lock_path);
    free(lock_path);
    if (lk < 0)
        return -1;
    int rc = -1;
    lgcn_dataset ds;
    lgcn_model m = {0};
    lgcn_graph g = {0};
    uint32_t *users = NULL, *items = NULL;
    float *vals = NULL;
    int *old = NULL;
    uint8_t *rowmask = NULL;
    if (lgcn_dataset_load(dir, &ds) != 0) {
        lgcn_unlock(lk);
        return -1;
    }
    if (lgcn_model_load(model_path, &m) != 0 || lgcn_model_check(&m, &ds) != 0)
        goto out;
    if (lgcn_rate_check(&ds, e, n, bad) != 0)
        goto out;
    /* 1. the dataset, in memory: new users first, then all ratings at once */
    users = lgcn_malloc((n ? n : 1) * sizeof *users);
    items = lgcn_malloc((n ? n : 1) * sizeof *items);
    vals = lgcn_malloc((n ? n : 1) * sizeof *vals);
    old = lgcn_malloc((n ? n : 1) * sizeof *old);
    if (!users || !items || !vals || !old)
        goto out;
    for (size_t k = 0; k < n; k++) {
        int64_t u = lgcn_dataset_find_user(&ds, e[k].user);
        if (u < 0) {
            if ((u = lgcn_dataset_add_user(&ds, e[k].user)) < 0)
                goto out;
            res->new_users++;
        }
        users[k] = (uint32_t)u;
        items[k] = (uint32_t)lgcn_dataset_find_item(&ds, e[k].movie);
        /* on the scale's grid exactly (lgcn_rate_check allowed a rounding slack) */
        double r = e[k].rating;
        if (ds.rating_step > 0)
            r = ds.rating_min + nearbyint((r - ds.rating_min) / ds.rating_step) * ds.rating_step;
        vals[k] = (float)r;
    }
    if (lgcn_dataset_set_ratings(&ds, users, items, vals, n, o->now, old) != 0)
        goto out;
    for (size_t k = 0; k < n; k++) {
        if (old[k] < 0)
            res->added++;
        else
            res->replaced++;
    }
    ds.generation++;
    /* 2. the model: rows for users it does not know yet (new ones, or ones
     * added since it was trained), then fine-tuning on the new graph */
    if (lgcn_model_add_users(&m, ds.n_users - m.n_users, o->seed ^ ds.generation) != 0 ||
        lgcn_graph_build(&ds, &g) != 0 || !(rowmask = lgcn_calloc(g.n, 1)))
        goto out;
    for (size_t k = 0; k < n; k++) {
        rowmask[users[k]] = 1;
        rowmask[ds.n_users + items[k]] = 1;
    }
    lgcn_set_threads(o->threads);
    int steps = lgcn_finetune(&g, &m, users, (uint32_t)n, rowmask, o->steps, o->batch, o->lr, o->seed);
    if (steps < 0)
        goto out;
    res->steps = (uint32_t)steps;
    lgcn_model_bind(&m, &ds);
    /* 3. durable: dataset first (a crash before the model is written leaves
     * a model that still serves every user it knows), then the model */
    if (lgcn_dataset_save(dir, &ds) != 0)
        goto out;
    res->generation = ds.generation;
    if (lgcn_model_save(model_path, &m) != 0) {
        char msg[900];
        snprintf(msg, sizeof msg, "%s", lgcn_errmsg());
        lgcn_error("the ratings are stored, but the model could not be written: %s (the old "
                   "model still serves the users it knows; run lgcn-rate or lgcn-train again)", msg);
        res->partial = 1;
        goto out;
    }
    rc = 0;
out:
    free(items);
    free(vals);
    free(old);
    free(users);
    free(rowmask);
    lgcn_graph_free(&g);
    lgcn_model_free(&m);
    lgcn_dataset_free(&ds);
    lgcn_unlock(lk);
    return rc;
}
