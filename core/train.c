/* train.c - BPR training of LightGCN. */
#include "train.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int lgcn_set_threads(int n)
{
    if (n <= 0)
        n = lgcn_ncpu();
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    return n;
}

uint32_t *lgcn_active_users(const lgcn_graph *g, uint32_t *n)
{
    uint32_t *a = lgcn_malloc((size_t)(g->n_users ? g->n_users : 1) * sizeof *a);
    if (!a)
        return NULL;
    uint32_t k = 0;
    for (uint32_t u = 0; u < g->n_users; u++) {
        uint32_t deg = lgcn_graph_degree(g, u);
        if (deg > 0 && deg < g->n_items)
            a[k++] = u;
    }
    *n = k;
    return a;
}

void lgcn_sample(const lgcn_graph *g, const uint32_t *active, uint32_t n_active, lgcn_rng *r,
                 uint32_t *u_out, uint32_t *i_out, uint32_t *j_out)
{
    uint32_t U = g->n_users;
    uint32_t u = active[lgcn_rng_below(r, n_active)];
    const uint32_t *pos = g->col + g->rowptr[u]; /* node ids U + item, ascending */
    uint32_t deg = lgcn_graph_degree(g, u);
    uint32_t i = pos[lgcn_rng_below(r, deg)] - U;
    /* j: the q-th movie (0-based) of the complement of u's positives,
     * q uniform in [0, n_items - deg).  With positives p_0 < p_1 < ..., the
     * number of non-positives below p_k is p_k - k, so j = q + c where c is
     * the count of k with p_k - k <= q (found by binary search). */
    uint32_t q = (uint32_t)lgcn_rng_below(r, g->n_items - deg);
    uint32_t lo = 0, hi = deg;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (pos[mid] - U - mid <= q)
            lo = mid + 1;
        else
            hi = mid;
    }
    *u_out = u;
    *i_out = i;
    *j_out = q + lo;
}

/* One optimisation step on triples (us, is, js)[0..B). Returns the loss.
 * m->final is the step's scratch (F, then the gradient): during training
 * it does not hold final embeddings; they are recomputed when needed. */
static double train_step(const lgcn_graph *g, lgcn_model *m, lgcn_work *w, const uint32_t *us,
                         const uint32_t *is, const uint32_t *js, uint32_t B, float lr, float reg,
                         const uint8_t *rowmask)
{
    double loss = lgcn_batch_grad(g, m->e0, m->final, m->dim, m->layers, us, is, js, B, reg, w);
    m->adam_t++;
    lgcn_adam(m->e0, m->final, m->m, m->v, (uint64_t)g->n * m->dim, lr, m->adam_t, rowmask, m->dim);
    return loss;
}

static int evaluate20(const lgcn_dataset *ds, const lgcn_graph *g, lgcn_model *m, lgcn_work *w,
                      int threads, double *recall, double *ndcg)
{
    static const uint32_t k20 = 20;
    lgcn_metrics mt;
    lgcn_propagate(g, m->e0, m->final, m->dim, m->layers, w);
    if (lgcn_evaluate(ds, m->final, m->final + (size_t)m->n_users * m->dim, m->dim, &k20, 1, threads,
                      &mt) != 0)
        return -1;
    *recall = mt.recall;
    *ndcg = mt.ndcg;
    return 0;
}

static void set_provenance(lgcn_model *m, const lgcn_train_opts *o, int threads, uint32_t epoch,
                           double recall, double ndcg)
{
    m->lr = o->lr;
    m->reg = o->reg;
    m->batch = o->batch;
    m->seed = o->seed;
    m->threads = (uint32_t)threads;
    m->epochs = epoch;
    m->recall = (float)recall;
    m->ndcg = (float)ndcg;
}

int lgcn_train(const lgcn_dataset *ds, const lgcn_graph *g, lgcn_model *m, const lgcn_train_opts *o,
               lgcn_train_result *res)
{
    memset(res, 0, sizeof *res);
    res->best_recall = res->best_ndcg = -1;
    if (m->n_users != g->n_users || m->n_items != g->n_items)
        return lgcn_error("internal: model and graph sizes differ");
    if (o->batch == 0)
        return lgcn_error("batch size must be positive");
    uint32_t n_active;
    uint32_t *active = lgcn_active_users(g, &n_active);
    if (!active)
        return -1;
    if (n_active == 0) {
        free(active);
        return g->nnz ? lgcn_error("every user with train interactions has rated every movie: "
                                   "there are no negatives to sample")
                      : lgcn_error("no user has a train interaction to learn from");
    }
    uint64_t n_train = g->nnz / 2;
    uint32_t d = m->dim;
    uint32_t B = (uint32_t)(n_train < o->batch ? n_train : o->batch);
    int threads = lgcn_set_threads(o->threads);
    lgcn_work w;
    uint32_t *trip = lgcn_malloc((size_t)B * 3 * sizeof *trip);
    if (!trip || lgcn_work_alloc(&w, g->n, d) != 0) {
        free(active);
        free(trip);
        return -1;
    }
    uint32_t *us = trip, *is = trip + B, *js = trip + 2 * B;
    lgcn_rng rng;
    lgcn_rng_seed(&rng, o->seed ^ 0x5EEDB9Bull);
    uint32_t since_best = 0;
    uint64_t steps_done = 0;
    int rc = 0;
    for (uint32_t ep = 1; ep <= o->epochs; ep++) {
        double t0 = lgcn_now();
        /* an epoch = as many triples as train interactions, in batches of
         * B; each batch is drawn just before its step (the draws do not
         * depend on the model, so this is the same sequence as drawing the
         * whole epoch first, without its memory) */
        double loss = 0;
        uint64_t nb = 0;
        int cut = 0;
        for (uint64_t s = 0; s < n_train; s += B, nb++) {
            if (o->max_steps && steps_done == o->max_steps) {
                cut = 1;
                break;
            }
            uint32_t nb_trip = (uint32_t)(n_train - s < B ? n_train - s : B);
            for (uint32_t k = 0; k < nb_trip; k++)
                lgcn_sample(g, active, n_active, &rng, &us[k], &is[k], &js[k]);
            loss += train_step(g, m, &w, us, is, js, nb_trip, o->lr, o->reg, NULL);
            steps_done++;
        }
        if (nb == 0)
            break; /* max_steps reached exactly at the end of the last epoch */
        lgcn_epoch_info info = {.epoch = ep, .loss = loss / (double)nb, .seconds = lgcn_now() - t0,
                                .steps = nb};
        res->seconds += info.seconds;
        res->epochs_run = ep;
        if (!isfinite(info.loss)) {
            rc = lgcn_error("training diverged at epoch %u (loss %g); try a smaller --lr", ep, info.loss);
            break;
        }
        int stop = cut;
        if (o->eval_every && ep % o->eval_every == 0 && !cut) {
            if (evaluate20(ds, g, m, &w, threads, &info.recall, &info.ndcg) != 0) {
                rc = -1;
                break;
            }
            info.evaluated = 1;
            if (info.recall > res->best_recall) {
                res->best_recall = info.recall;
                res->best_ndcg = info.ndcg;
                res->best_epoch = ep;
                info.improved = 1;
                since_best = 0;
                /* the kept model goes out now (m->final is fresh) */
                set_provenance(m, o, threads, ep, info.recall, info.ndcg);
                if (o->save && o->save(o->ctx, m) != 0) {
                    rc = -1;
                    break;
                }
            } else if (o->patience && ++since_best >= o->patience) {
                stop = 1;
            }
        }
        if (o->on_epoch && o->on_epoch(o->ctx, &info))
            stop = 1;
        if (stop)
            break;
    }
    if (rc == 0 && res->best_epoch == 0) {
        /* never evaluated: the last epoch is the model */
        res->best_epoch = res->epochs_run;
        lgcn_propagate(g, m->e0, m->final, d, m->layers, &w);
        set_provenance(m, o, threads, res->epochs_run, -1, -1);
        if (o->save && o->save(o->ctx, m) != 0)
            rc = -1;
    }
    lgcn_work_free(&w);
    free(active);
    free(trip);
    return rc;
}

int lgcn_finetune(const lgcn_graph *g, lgcn_model *m, const uint32_t *users, uint32_t n,
                  const uint8_t *rowmask, uint32_t steps, uint32_t batch, float lr, uint64_t seed)
{
    if (m->n_users != g->n_users || m->n_items != g->n_items)
        return lgcn_error("internal: model and graph sizes differ");
    uint32_t d = m->dim;
    lgcn_work w;
    if (lgcn_work_alloc(&w, g->n, d) != 0)
        return -1;
    /* only users that can be sampled */
    uint32_t *active = lgcn_malloc((size_t)(n ? n : 1) * sizeof *active), na = 0;
    uint32_t *trip = lgcn_malloc((size_t)batch * 3 * sizeof *trip);
    if (!active || !trip) {
        free(active);
        free(trip);
        lgcn_work_free(&w);
        return -1;
    }
    for (uint32_t k = 0; k < n; k++) {
        uint32_t deg = lgcn_graph_degree(g, users[k]);
        if (deg > 0 && deg < g->n_items)
            active[na++] = users[k];
    }
    lgcn_rng rng;
    lgcn_rng_seed(&rng, seed);
    uint32_t taken = na ? steps : 0;
    for (uint32_t s = 0; s < taken; s++) {
        for (uint32_t b = 0; b < batch; b++)
            lgcn_sample(g, active, na, &rng, &trip[b], &trip[batch + b], &trip[2 * batch + b]);
        train_step(g, m, &w, trip, trip + batch, trip + 2 * batch, batch, lr, m->reg, rowmask);
    }
    lgcn_propagate(g, m->e0, m->final, d, m->layers, &w);
    free(active);
    free(trip);
    lgcn_work_free(&w);
    return (int)taken;
}

int lgcn_model_catch_up(lgcn_model *m, const lgcn_dataset *now, const lgcn_model *disk, uint64_t seed)
{
    uint32_t U = m->n_users, d = m->dim;
    /* only a later generation of the same dataset: same lineage and movies,
     * the model's users a prefix of the current ones */
    if (lgcn_model_check(m, now) != 0)
        return lgcn_error("the dataset no longer matches the model being trained (replaced?)");
    if (lgcn_model_add_users(m, now->n_users - U, seed) != 0)
        return -1;
    if (disk && disk->dim == d && disk->n_items == m->n_items && lgcn_model_check(disk, now) == 0) {
        /* rows of the users lgcn-rate added: their fine-tuned E0 and moments */
        for (uint32_t u = U; u < now->n_users && u < disk->n_users; u++)
            for (int s = 0; s < 3; s++) {
                float *dst = (s == 0 ? m->e0 : s == 1 ? m->m : m->v) + (size_t)u * d;
                const float *src = (s == 0 ? disk->e0 : s == 1 ? disk->m : disk->v) + (size_t)u * d;
                memcpy(dst, src, d * sizeof(float));
            }
    }
    lgcn_graph g;
    lgcn_work w;
    if (lgcn_graph_build(now, &g) != 0)
        return -1;
    if (lgcn_work_alloc(&w, g.n, d) != 0) {
        lgcn_graph_free(&g);
        return -1;
    }
    lgcn_propagate(&g, m->e0, m->final, d, m->layers, &w);
    lgcn_work_free(&w);
    lgcn_graph_free(&g);
    lgcn_model_bind(m, now);
    return 0;
}
