/* model.c - LightGCN numerics and the model file. */
#include "model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

#define MODEL_MAGIC "LGCNMODL"
#define MODEL_VERSION 2 /* 1: before users_fp (lgcn < 0.1.0 pre-release) */

/* ---- parameters -------------------------------------------------------- */

static void point_slab(lgcn_model *m)
{
    size_t nd = (size_t)(m->n_users + m->n_items) * m->dim;
    m->e0 = m->slab;
    m->m = m->slab + nd;
    m->v = m->slab + 2 * nd;
    m->final = m->slab + 3 * nd;
}

int lgcn_model_alloc(lgcn_model *m, uint32_t n_users, uint32_t n_items, uint32_t dim, uint32_t layers)
{
    memset(m, 0, sizeof *m);
    if (dim == 0 || (uint64_t)n_users + n_items == 0)
        return lgcn_error("empty model (%u users, %u movies, dim %u)", n_users, n_items, dim);
    uint64_t nd = ((uint64_t)n_users + n_items) * dim;
    if (nd > (UINT64_C(1) << 40))
        return lgcn_error("model too large");
    m->slab = lgcn_aligned_alloc((size_t)nd * 4 * sizeof(float));
    if (!m->slab)
        return -1;
    memset(m->slab, 0, (size_t)nd * 4 * sizeof(float));
    m->n_users = n_users;
    m->n_items = n_items;
    m->dim = dim;
    m->layers = layers;
    m->recall = m->ndcg = -1;
    point_slab(m);
    return 0;
}

static void free_slab(lgcn_model *m)
{
    free(m->slab);
    m->slab = NULL;
}

void lgcn_model_free(lgcn_model *m)
{
    free_slab(m);
    memset(m, 0, sizeof *m);
}

static void init_rows(float *e0, size_t n, lgcn_rng *r)
{
    for (size_t k = 0; k < n; k++)
        e0[k] = (float)(0.1 * lgcn_rng_normal(r));
}

void lgcn_model_init(lgcn_model *m, uint64_t seed)
{
    lgcn_rng r;
    lgcn_rng_seed(&r, seed);
    size_t nd = (size_t)(m->n_users + m->n_items) * m->dim;
    init_rows(m->e0, nd, &r);
    memset(m->m, 0, 2 * nd * sizeof(float));
    m->adam_t = 0;
}

int lgcn_model_add_users(lgcn_model *m, uint32_t k, uint64_t seed)
{
    uint32_t U = m->n_users, I = m->n_items, d = m->dim;
    if (k == 0)
        return 0;
    if ((uint64_t)U + k + I > UINT32_MAX)
        return lgcn_error("too many users");
    lgcn_model n;
    if (lgcn_model_alloc(&n, U + k, I, d, m->layers) != 0)
        return -1;
    float *src[4] = {m->e0, m->m, m->v, m->final}, *dst[4] = {n.e0, n.m, n.v, n.final};
    for (int s = 0; s < 4; s++) {
        memcpy(dst[s], src[s], (size_t)U * d * sizeof(float));
        memcpy(dst[s] + (size_t)(U + k) * d, src[s] + (size_t)U * d, (size_t)I * d * sizeof(float));
    }
    lgcn_rng r;
    lgcn_rng_seed(&r, seed);
    init_rows(n.e0 + (size_t)U * d, (size_t)k * d, &r);
    free_slab(m);
    m->slab = n.slab;
    m->n_users = U + k;
    point_slab(m);
    return 0;
}

int lgcn_model_copy(lgcn_model *dst, const lgcn_model *src)
{
    if (lgcn_model_alloc(dst, src->n_users, src->n_items, src->dim, src->layers) != 0)
        return -1;
    float *slab = dst->slab;
    *dst = *src;
    dst->slab = slab;
    point_slab(dst);
    memcpy(dst->slab, src->slab, (size_t)(src->n_users + src->n_items) * src->dim * 4 * sizeof(float));
    return 0;
}

/* ---- file -------------------------------------------------------------- */

int lgcn_model_save(const char *path, const lgcn_model *m)
{
    lgcn_writer w;
    if (lgcn_writer_open(&w, path, MODEL_MAGIC, MODEL_VERSION) != 0)
        return -1;
    lgcn_writer_u32(&w, m->dim);
    lgcn_writer_u32(&w, m->layers);
    lgcn_writer_u32(&w, m->n_users);
    lgcn_writer_u32(&w, m->n_items);
    lgcn_writer_f32(&w, m->lr);
    lgcn_writer_f32(&w, m->reg);
    lgcn_writer_u32(&w, m->batch);
    lgcn_writer_u32(&w, m->threads);
    lgcn_writer_u64(&w, m->seed);
    lgcn_writer_u32(&w, m->epochs);
    lgcn_writer_u32(&w, 0);
    lgcn_writer_u64(&w, m->adam_t);
    lgcn_writer_u64(&w, m->data_fp);
    lgcn_writer_u64(&w, m->data_gen);
    lgcn_writer_u64(&w, m->users_fp);
    lgcn_writer_f32(&w, m->recall);
    lgcn_writer_f32(&w, m->ndcg);
    size_t nd = (size_t)(m->n_users + m->n_items) * m->dim;
    lgcn_writer_put(&w, m->slab, 4 * nd * sizeof(float));
    return lgcn_writer_commit(&w);
}

static int model_load(const char *path, lgcn_model *m, int final_only)
{
    memset(m, 0, sizeof *m);
    lgcn_reader r;
    if (lgcn_reader_open(&r, path, MODEL_MAGIC, MODEL_VERSION, "model") != 0)
        return -1;
    if (r.version < MODEL_VERSION) {
        lgcn_reader_close(&r);
        return lgcn_error("'%s' was written by an earlier lgcn (model format %u); train again", path,
                          r.version);
    }
    lgcn_model h = {0};
    uint32_t pad;
    int rc = -1;
    if (lgcn_reader_u32(&r, &h.dim) || lgcn_reader_u32(&r, &h.layers) ||
        lgcn_reader_u32(&r, &h.n_users) || lgcn_reader_u32(&r, &h.n_items) ||
        lgcn_reader_f32(&r, &h.lr) || lgcn_reader_f32(&r, &h.reg) || lgcn_reader_u32(&r, &h.batch) ||
        lgcn_reader_u32(&r, &h.threads) || lgcn_reader_u64(&r, &h.seed) ||
        lgcn_reader_u32(&r, &h.epochs) || lgcn_reader_u32(&r, &pad) ||
        lgcn_reader_u64(&r, &h.adam_t) || lgcn_reader_u64(&r, &h.data_fp) ||
        lgcn_reader_u64(&r, &h.data_gen) || lgcn_reader_u64(&r, &h.users_fp) ||
        lgcn_reader_f32(&r, &h.recall) ||
        lgcn_reader_f32(&r, &h.ndcg))
        goto out;
    /* sizes against the file before allocating */
    uint64_t nd = ((uint64_t)h.n_users + h.n_items) * h.dim;
    if (h.dim == 0 || h.dim > 4096 || h.layers > 64 || nd == 0 ||
        nd > lgcn_reader_left(&r) / 16 || nd * 16 != lgcn_reader_left(&r)) {
        lgcn_error("'%s': header (%u users, %u movies, dim %u) does not match the file size", path,
                   h.n_users, h.n_items, h.dim);
        goto out;
    }
    /* copied out of the file's mapping: a long-running reader must not
     * depend on the file staying as it was (a truncation would SIGBUS) */
    *m = h;
    const uint8_t *params = lgcn_reader_take(&r, (size_t)nd * 16);
    size_t keep = final_only ? (size_t)nd * 4 : (size_t)nd * 16;
    m->slab = lgcn_aligned_alloc(keep);
    if (!m->slab)
        goto out;
    memcpy(m->slab, final_only ? params + (size_t)nd * 12 : params, keep);
    if (final_only) {
        m->e0 = m->m = m->v = NULL;
        m->final = m->slab;
    } else {
        point_slab(m);
    }
    /* the checksum vouches for the bytes; this catches a writer that
     * stored a diverged model. Exponent bits all ones = inf or NaN; no
     * early exit, so the loop vectorises. */
    {
        const uint32_t *bits = (const uint32_t *)(const void *)m->slab;
        uint32_t bad = 0;
        for (size_t k = 0; k < keep / 4; k++)
            bad |= ((bits[k] >> 23) & 0xffu) == 0xffu;
        if (bad) {
            lgcn_error("'%s': the model holds non-finite values", path);
            lgcn_model_free(m);
            goto out;
        }
    }
    rc = 0;
out:
    lgcn_reader_close(&r);
    return rc;
}

static uint64_t users_hash(const lgcn_dataset *ds, uint32_t n)
{
    return lgcn_hash_bytes(ds->user_raw, (size_t)n * sizeof *ds->user_raw);
}

int lgcn_model_load(const char *path, lgcn_model *m) { return model_load(path, m, 0); }

int lgcn_model_load_final(const char *path, lgcn_model *m) { return model_load(path, m, 1); }

int lgcn_model_check(const lgcn_model *m, const lgcn_dataset *ds)
{
    if (m->data_fp != lgcn_dataset_fingerprint(ds))
        return lgcn_error("the model was trained on another dataset (run lgcn-train on this one)");
    if (m->n_items != ds->n_items)
        return lgcn_error("the model has %u movies, the dataset %u", m->n_items, ds->n_items);
    if (m->n_users > ds->n_users || m->users_fp != users_hash(ds, m->n_users))
        return lgcn_error("the model's users are not this dataset's (a model of a copy of the "
                          "dataset that took other new users?)");
    return 0;
}

void lgcn_model_bind(lgcn_model *m, const lgcn_dataset *ds)
{
    m->data_fp = lgcn_dataset_fingerprint(ds);
    m->data_gen = ds->generation;
    m->users_fp = users_hash(ds, m->n_users < ds->n_users ? m->n_users : ds->n_users);
}

int lgcn_load_pair(const char *dir, const char *model_path, lgcn_dataset *ds, lgcn_model *m)
{
    memset(m, 0, sizeof *m);
    char *lock_path = lgcn_path_join(dir, "lock");
    if (!lock_path)
        return -1;
    int lk = lgcn_lock_shared(lock_path);
    free(lock_path);
    if (lk == -1)
        return -1;
    int rc = lgcn_dataset_load(dir, ds);
    if (rc == 0 && (lgcn_model_load_final(model_path, m) != 0 || lgcn_model_check(m, ds) != 0)) {
        lgcn_model_free(m);
        lgcn_dataset_free(ds);
        rc = -1;
    }
    lgcn_unlock(lk);
    return rc;
}

/* ---- numerics ---------------------------------------------------------- */

int lgcn_work_alloc(lgcn_work *w, uint32_t n, uint32_t dim)
{
    memset(w, 0, sizeof *w);
    size_t nd = (size_t)n * dim;
    float *s = lgcn_aligned_alloc(2 * nd * sizeof(float));
    w->mark = lgcn_calloc(n, 1);
    w->rows = lgcn_malloc((size_t)n * sizeof *w->rows);
    if (!s || !w->mark || !w->rows) {
        free(s);
        free(w->mark);
        free(w->rows);
        memset(w, 0, sizeof *w);
        return -1;
    }
    memset(s, 0, 2 * nd * sizeof(float));
    w->n = n;
    w->dim = dim;
    w->a = s;
    w->b = s + nd;
    return 0;
}

void lgcn_work_free(lgcn_work *w)
{
    free(w->a);
    free(w->mark);
    free(w->rows);
    memset(w, 0, sizeof *w);
}

void lgcn_propagate(const lgcn_graph *g, const float *x, float *out, uint32_t d, uint32_t layers,
                    lgcn_work *w)
{
    size_t nd = (size_t)g->n * d;
    /* out accumulates E_0 + ... + E_L (E_k in a or b in turn); the last
     * product folds in the 1/(L+1) and need not be stored. */
    memcpy(out, x, nd * sizeof(float));
    if (layers == 0)
        return;
    const float *prev = x;
    for (uint32_t k = 1; k < layers; k++) {
        float *cur = (k & 1) ? w->a : w->b;
        lgcn_spmm_ex(g, prev, cur, out, 1.0f, d);
        prev = cur;
    }
    lgcn_spmm_ex(g, prev, NULL, out, 1.0f / (float)(layers + 1), d);
}

/* Collect the batch's distinct rows into w->rows (first-appearance order). */
static void batch_rows(lgcn_work *w, uint32_t n_users, const uint32_t *users, const uint32_t *pos,
                       const uint32_t *neg, uint32_t B)
{
    w->nrows = 0;
    for (uint32_t b = 0; b < B; b++) {
        uint32_t r3[3] = {users[b], n_users + pos[b], n_users + neg[b]};
        for (int t = 0; t < 3; t++)
            if (!w->mark[r3[t]]) {
                w->mark[r3[t]] = 1;
                w->rows[w->nrows++] = r3[t];
            }
    }
    for (uint32_t k = 0; k < w->nrows; k++)
        w->mark[w->rows[k]] = 0;
}

double lgcn_batch_grad(const lgcn_graph *g, const float *e0, float *F, uint32_t d, uint32_t L,
                       const uint32_t *us, const uint32_t *is, const uint32_t *js, uint32_t B,
                       float reg, lgcn_work *w)
{
    size_t nd = (size_t)g->n * d;
    uint32_t U = g->n_users;
    float inv = 1.0f / (float)(L + 1);
    batch_rows(w, U, us, is, js, B);

    /* ---- forward: F_rows = (E0 + E1 + ... + EL)_rows / (L+1) ----
     * E_1..E_{L-1} are needed everywhere (the next layer reads them), E_L
     * only at the batch rows. F holds the running sum (full rows up to
     * E_{L-1}). */
    if (L == 0) {
        for (uint32_t k = 0; k < w->nrows; k++)
            memcpy(F + (size_t)w->rows[k] * d, e0 + (size_t)w->rows[k] * d, d * sizeof(float));
    } else {
        memcpy(F, e0, nd * sizeof(float));
        const float *prev = e0;
        for (uint32_t k = 1; k < L; k++) {
            float *cur = (k & 1) ? w->a : w->b;
            lgcn_spmm_ex(g, prev, cur, F, 1.0f, d);
            prev = cur;
        }
        lgcn_spmm_rows(g, prev, w->rows, w->nrows, F, inv, d);
    }

    /* ---- loss and dloss/dF, non-zero only at batch rows (into b) ---- */
    float *dF = w->b;
    memset(dF, 0, nd * sizeof(float));
    double loss = lgcn_bpr_forward_backward(F, U, d, us, is, js, B, dF);

    /* ---- backward: dE0 = (1/(L+1)) sum_k Â^k dF ----
     * hop 1 from the batch rows outward (a = Â dF), grad = dF + a; then
     * full hops a -> b -> ..., each folded into grad; the last with the
     * 1/(L+1) and without storing. */
    /* F is not needed any more: the gradient takes its place */
    float *grad = F;
    if (L == 0) {
        memcpy(grad, dF, nd * sizeof(float));
    } else {
        float *h = w->a;
        memset(h, 0, nd * sizeof(float));
        lgcn_spmm_scatter(g, dF, w->rows, w->nrows, h, d);
        memcpy(grad, h, nd * sizeof(float));
        for (uint32_t k = 0; k < w->nrows; k++) {
            float *gr = grad + (size_t)w->rows[k] * d;
            const float *fr = dF + (size_t)w->rows[k] * d;
            for (uint32_t q = 0; q < d; q++)
                gr[q] += fr[q];
        }
        if (L == 1) {
#pragma omp parallel for schedule(static)
            for (size_t q = 0; q < nd; q++)
                grad[q] *= inv;
        }
        /* dF (in b) is no longer needed: b and a now alternate as hops */
        const float *prev = h;
        for (uint32_t k = 2; k <= L; k++) {
            float *cur = (k & 1) ? w->a : w->b;
            if (k < L)
                lgcn_spmm_ex(g, prev, cur, grad, 1.0f, d);
            else
                lgcn_spmm_ex(g, prev, NULL, grad, inv, d);
            prev = cur;
        }
    }
    loss += lgcn_l2_forward_backward(e0, U, d, us, is, js, B, reg, grad);
    return loss;
}

static inline float dotf(const float *a, const float *b, uint32_t d)
{
    float s = 0.0f;
    for (uint32_t k = 0; k < d; k++)
        s += a[k] * b[k];
    return s;
}

/* softplus(x) = log(1 + e^x), computed without overflow. */
static inline double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

double lgcn_bpr_forward_backward(const float *F, uint32_t n_users, uint32_t d, const uint32_t *users,
                                 const uint32_t *pos, const uint32_t *neg, uint32_t B, float *dfinal)
{
    /* x = s_uj - s_ui; d softplus(x)/dx = sigmoid(x) =: c. With the 1/B mean:
     *   dF_u += c/B (F_j - F_i),  dF_i -= c/B F_u,  dF_j += c/B F_u.
     * Triples are processed in order (rows repeat across triples), which
     * keeps the accumulation deterministic. */
    double loss = 0.0;
    float invB = 1.0f / (float)B;
    for (uint32_t b = 0; b < B; b++) {
        const float *fu = F + (size_t)users[b] * d;
        const float *fi = F + (size_t)(n_users + pos[b]) * d;
        const float *fj = F + (size_t)(n_users + neg[b]) * d;
        double x = (double)dotf(fu, fj, d) - (double)dotf(fu, fi, d);
        loss += softplus(x);
        float c = (float)(1.0 / (1.0 + exp(-x))) * invB;
        float *gu = dfinal + (size_t)users[b] * d;
        float *gi = dfinal + (size_t)(n_users + pos[b]) * d;
        float *gj = dfinal + (size_t)(n_users + neg[b]) * d;
        for (uint32_t k = 0; k < d; k++) {
            float u = fu[k];
            gu[k] += c * (fj[k] - fi[k]);
            gi[k] -= c * u;
            gj[k] += c * u;
        }
    }
    return loss / B;
}

double lgcn_l2_forward_backward(const float *e0, uint32_t n_users, uint32_t d, const uint32_t *users,
                                const uint32_t *pos, const uint32_t *neg, uint32_t B, float reg,
                                float *grad)
{
    double sq = 0.0;
    float c = reg / (float)B;
    for (uint32_t b = 0; b < B; b++) {
        size_t rows[3] = {users[b], (size_t)n_users + pos[b], (size_t)n_users + neg[b]};
        for (int t = 0; t < 3; t++) {
            const float *e = e0 + rows[t] * d;
            float *g = grad + rows[t] * d;
            for (uint32_t k = 0; k < d; k++) {
                sq += (double)e[k] * e[k];
                g[k] += c * e[k];
            }
        }
    }
    return (double)reg * 0.5 * sq / B;
}

void lgcn_adam(float *p, const float *g, float *m, float *v, uint64_t n, float lr, uint64_t t,
               const uint8_t *rowmask, uint32_t d)
{
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    /* bias corrections 1 - beta^t, in double for large t */
    float bc1 = (float)(1.0 - pow(0.9, (double)t));
    float bc2s = (float)sqrt(1.0 - pow(0.999, (double)t));
    float step = lr / bc1;
#pragma omp parallel for schedule(static)
    for (uint64_t q = 0; q < n; q++) {
        if (rowmask && !rowmask[q / d])
            continue;
        float gq = g[q];
        float mq = b1 * m[q] + (1.0f - b1) * gq;
        float vq = b2 * v[q] + (1.0f - b2) * gq * gq;
        m[q] = mq;
        v[q] = vq;
        p[q] -= step * mq / (sqrtf(vq) / bc2s + eps);
    }
}
