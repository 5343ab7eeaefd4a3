/* test_model.c - graph, propagation, gradient check, Adam, sampler,
 * determinism and the model/dataset files. */
#define _GNU_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "graph.h"
#include "model.h"
#include "rng.h"
#include "test.h"
#include "train.h"
#include "util.h"

/* A dataset built by hand: pairs (u, i, side). */
static void make_ds(lgcn_dataset *ds, uint32_t U, uint32_t I, const uint32_t (*p)[3], size_t n)
{
    memset(ds, 0, sizeof *ds);
    ds->n_users = U;
    ds->n_items = I;
    ds->user_raw = malloc(U * sizeof(int64_t));
    ds->item_raw = malloc(I * sizeof(int64_t));
    for (uint32_t u = 0; u < U; u++)
        ds->user_raw[u] = 100 + 10 * (int64_t)u; /* raw IDs 100, 110, ... */
    for (uint32_t i = 0; i < I; i++)
        ds->item_raw[i] = 5000000000LL + i;
    ds->ratings = calloc(n ? n : 1, sizeof *ds->ratings);
    for (size_t k = 0; k < n; k++)
        ds->ratings[k] = (lgcn_rating){.user = p[k][0], .item = p[k][1], .rating = 4.0f,
                                       .side = p[k][2], .ts = (int64_t)k};
    ds->n_ratings = ds->cap_ratings = n;
    ds->item_genres = calloc(I, sizeof(uint64_t));
    ds->title_blob = calloc(1, 1);
    ds->title_blob_len = 1;
    ds->title_off = calloc(I, sizeof(uint64_t));
    ds->rating_min = 0.5f;
    ds->rating_max = 5.0f;
    ds->rating_step = 0.5f;
    ds->min_rating = -INFINITY;
    ds->id = 42;
    if (lgcn_dataset_index(ds) != 0)
        printf("# make_ds: %s\n", lgcn_errmsg());
}

/* 3 users, 5 movies; movie 4 has no train interaction. */
static const uint32_t tiny[][3] = {
    {0, 0, LGCN_TRAIN}, {0, 1, LGCN_TRAIN}, {0, 2, LGCN_TEST}, {1, 1, LGCN_TRAIN},
    {1, 2, LGCN_TRAIN}, {2, 3, LGCN_TRAIN}, {2, 0, LGCN_TEST},
};

static void graph_values(void)
{
    lgcn_dataset ds;
    lgcn_graph g;
    make_ds(&ds, 3, 5, tiny, 7);
    CHECK(lgcn_graph_build(&ds, &g) == 0);
    CHECK(g.n == 8 && g.nnz == 10);
    /* degrees: u0 2, u1 2, u2 1; i0 1, i1 2, i2 1, i3 1, i4 0 (node 3+i) */
    CHECK(lgcn_graph_degree(&g, 0) == 2 && lgcn_graph_degree(&g, 2) == 1);
    CHECK(lgcn_graph_degree(&g, 7) == 0);
    /* row u0: nodes 3 (i0) and 4 (i1) with 1/sqrt(2*1) and 1/sqrt(2*2) */
    CHECK(g.col[g.rowptr[0]] == 3 && g.col[g.rowptr[0] + 1] == 4);
    CHECK_NEAR(g.val[g.rowptr[0]], 0.70710678, 1e-7);
    CHECK_NEAR(g.val[g.rowptr[0] + 1], 0.5, 1e-7);
    /* row i1 (node 4): users 0 and 1, both 1/sqrt(2*2) */
    CHECK(g.col[g.rowptr[4]] == 0 && g.col[g.rowptr[4] + 1] == 1);
    CHECK_NEAR(g.val[g.rowptr[4] + 1], 0.5, 1e-7);
    /* u2 - i3: 1/sqrt(1*1) */
    CHECK_NEAR(g.val[g.rowptr[2]], 1.0, 1e-7);
    /* spmm: x = node index + 1 (d = 1): y_u0 = 0.7071*4 + 0.5*5 */
    float x[8], y[8];
    for (int k = 0; k < 8; k++)
        x[k] = (float)(k + 1);
    lgcn_spmm(&g, x, y, 1);
    CHECK_NEAR(y[0], 0.70710678 * 4 + 0.5 * 5, 1e-5);
    CHECK_NEAR(y[7], 0.0, 0.0); /* degree 0 -> 0, not NaN */
    CHECK_NEAR(y[6], 1.0 * 3, 1e-6); /* i3 <- u2 */
    lgcn_graph_free(&g);
    lgcn_dataset_free(&ds);
}

/* ---- double-precision reference of the whole loss ---------------------- */

typedef struct {
    uint32_t n, U, d, L;
    double *A; /* dense normalised adjacency [n x n] */
} ref_model;

static void ref_build(ref_model *r, const lgcn_dataset *ds, uint32_t d, uint32_t L)
{
    r->U = ds->n_users;
    r->n = ds->n_users + ds->n_items;
    r->d = d;
    r->L = L;
    r->A = calloc((size_t)r->n * r->n, sizeof(double));
    double *deg = calloc(r->n, sizeof(double));
    for (uint64_t k = 0; k < ds->n_ratings; k++)
        if (ds->ratings[k].side == LGCN_TRAIN) {
            deg[ds->ratings[k].user]++;
            deg[r->U + ds->ratings[k].item]++;
        }
    for (uint64_t k = 0; k < ds->n_ratings; k++)
        if (ds->ratings[k].side == LGCN_TRAIN) {
            uint32_t a = ds->ratings[k].user, b = r->U + ds->ratings[k].item;
            double v = 1.0 / sqrt(deg[a] * deg[b]);
            r->A[(size_t)a * r->n + b] = r->A[(size_t)b * r->n + a] = v;
        }
    free(deg);
}

/* out = (1/(L+1)) sum_k A^k x, densely in double: the forward map E0 -> F
 * and (A symmetric) the backward map dF -> dE0 */
static void ref_propagate(const ref_model *r, const double *x, double *out)
{
    size_t nd = (size_t)r->n * r->d;
    double *cur = malloc(nd * sizeof(double)), *nxt = malloc(nd * sizeof(double));
    memcpy(cur, x, nd * sizeof(double));
    memcpy(out, x, nd * sizeof(double));
    for (uint32_t k = 0; k < r->L; k++) {
        for (uint32_t a = 0; a < r->n; a++)
            for (uint32_t c = 0; c < r->d; c++) {
                double s = 0;
                for (uint32_t b = 0; b < r->n; b++)
                    s += r->A[(size_t)a * r->n + b] * cur[(size_t)b * r->d + c];
                nxt[(size_t)a * r->d + c] = s;
            }
        memcpy(cur, nxt, nd * sizeof(double));
        for (size_t q = 0; q < nd; q++)
            out[q] += cur[q];
    }
    for (size_t q = 0; q < nd; q++)
        out[q] /= (r->L + 1);
    free(cur);
    free(nxt);
}

/* loss of E0 (double) for triples, computed densely from the definition;
 * with grad != NULL also its analytic gradient (the plain reference that
 * the optimised kernels must match) */
static double ref_loss_grad(const ref_model *r, const double *e0, const uint32_t *us, const uint32_t *is,
                            const uint32_t *js, uint32_t B, double reg, double *grad)
{
    size_t nd = (size_t)r->n * r->d;
    double *F = malloc(nd * sizeof(double)), *dF = calloc(nd, sizeof(double));
    ref_propagate(r, e0, F);
    double loss = 0, sq = 0;
    for (uint32_t b = 0; b < B; b++) {
        size_t ru = us[b], ri = r->U + is[b], rj = r->U + js[b];
        const double *fu = F + ru * r->d, *fi = F + ri * r->d, *fj = F + rj * r->d;
        double x = 0;
        for (uint32_t c = 0; c < r->d; c++)
            x += fu[c] * fj[c] - fu[c] * fi[c];
        loss += log1p(exp(x));
        double sg = 1.0 / (1.0 + exp(-x)) / B; /* d softplus(x)/dx, with the 1/B mean */
        for (uint32_t c = 0; c < r->d; c++) {
            dF[ru * r->d + c] += sg * (fj[c] - fi[c]);
            dF[ri * r->d + c] -= sg * fu[c];
            dF[rj * r->d + c] += sg * fu[c];
        }
        size_t rows[3] = {ru, ri, rj};
        for (int t = 0; t < 3; t++)
            for (uint32_t c = 0; c < r->d; c++)
                sq += e0[rows[t] * r->d + c] * e0[rows[t] * r->d + c];
    }
    if (grad) {
        ref_propagate(r, dF, grad);
        for (uint32_t b = 0; b < B; b++) {
            size_t rows[3] = {us[b], r->U + is[b], r->U + js[b]};
            for (int t = 0; t < 3; t++)
                for (uint32_t c = 0; c < r->d; c++)
                    grad[rows[t] * r->d + c] += reg * e0[rows[t] * r->d + c] / B;
        }
    }
    free(F);
    free(dF);
    return loss / B + reg * 0.5 * sq / B;
}

static double ref_loss(const ref_model *r, const double *e0, const uint32_t *us, const uint32_t *is,
                       const uint32_t *js, uint32_t B, double reg)
{
    return ref_loss_grad(r, e0, us, is, js, B, reg, NULL);
}

static void gradient_check_layers(uint32_t L)
{
    lgcn_dataset ds;
    lgcn_graph g;
    make_ds(&ds, 3, 5, tiny, 7);
    lgcn_graph_build(&ds, &g);
    const uint32_t d = 3, B = 5;
    const float reg = 0.1f; /* large so the L2 term is visible in the check */
    /* triples; row 0 repeats to test accumulation, movie 4 (degree 0) is a negative */
    uint32_t us[5] = {0, 0, 1, 2, 1}, is[5] = {0, 1, 2, 3, 1}, js[5] = {3, 4, 0, 4, 3};
    lgcn_model m;
    lgcn_work w;
    lgcn_model_alloc(&m, 3, 5, d, L);
    lgcn_model_init(&m, 7);
    for (size_t q = 0; q < 8 * d; q++)
        m.e0[q] *= 10.0f; /* scores of order 1, so sigmoid is not flat */
    lgcn_work_alloc(&w, g.n, d);
    /* float kernels: the training step's forward, BPR, backward, L2 */
    double loss = lgcn_batch_grad(&g, m.e0, m.final, d, L, us, is, js, B, reg, &w);
    const float *grad = m.final; /* F's buffer holds the gradient now */
    /* the same gradient through the plain full-graph route: F = P E0,
     * dE0 = P dF + L2 (P = mean of Â^k, symmetric) */
    {
        float F[24], dF[24] = {0}, G[24];
        lgcn_work w2;
        lgcn_work_alloc(&w2, g.n, d);
        lgcn_propagate(&g, m.e0, F, d, L, &w2);
        double l2 = lgcn_bpr_forward_backward(F, 3, d, us, is, js, B, dF);
        lgcn_propagate(&g, dF, G, d, L, &w2);
        l2 += lgcn_l2_forward_backward(m.e0, 3, d, us, is, js, B, reg, G);
        CHECK_NEAR(l2, loss, 1e-6 * fabs(loss));
        for (int q = 0; q < 24; q++)
            CHECK_NEAR(G[q], grad[q], 1e-6 * fmax(1.0, fabs(G[q])));
        lgcn_work_free(&w2);
    }

    ref_model r;
    ref_build(&r, &ds, d, L);
    double e0[24];
    for (size_t q = 0; q < 24; q++)
        e0[q] = m.e0[q];
    double gref[24];
    double ref = ref_loss_grad(&r, e0, us, is, js, B, reg, gref);
    CHECK_NEAR(loss, ref, 1e-5 * fabs(ref));
    /* optimised float kernels against the plain double reference:
     * relative error <= 1e-5 (max-norm) on the gradient ... */
    double gmax = 0, gerr = 0;
    for (size_t q = 0; q < 24; q++) {
        gmax = fmax(gmax, fabs(gref[q]));
        gerr = fmax(gerr, fabs(gref[q] - grad[q]));
    }
    CHECK(gerr <= 1e-5 * gmax);
    printf("#   %u layers: loss %.9g (reference %.9g), gradient max error %.2e of max %.3g\n", L, loss,
           ref, gerr, gmax);
    /* ... and on the final embeddings F = P E0 */
    {
        double Fref[24], fmaxv = 0, ferr = 0;
        float F[24];
        lgcn_work w3;
        lgcn_work_alloc(&w3, g.n, d);
        lgcn_propagate(&g, m.e0, F, d, L, &w3);
        ref_propagate(&r, e0, Fref);
        for (size_t q = 0; q < 24; q++) {
            fmaxv = fmax(fmaxv, fabs(Fref[q]));
            ferr = fmax(ferr, fabs(Fref[q] - F[q]));
        }
        CHECK(ferr <= 1e-5 * fmaxv);
        lgcn_work_free(&w3);
    }
    /* central differences in double, h = 1e-6: truncation O(h^2) ~ 1e-12 */
    double maxerr = 0;
    int bad = 0;
    for (size_t q = 0; q < 24; q++) {
        double save = e0[q], h = 1e-6;
        e0[q] = save + h;
        double lp = ref_loss(&r, e0, us, is, js, B, reg);
        e0[q] = save - h;
        double lm = ref_loss(&r, e0, us, is, js, B, reg);
        e0[q] = save;
        /* the reference's analytic gradient must match its own finite
         * differences (both double), and the float kernels must too */
        double num = (lp - lm) / (2 * h), err = fabs(num - grad[q]) / fmax(1e-3, fabs(num));
        if (fabs(num - gref[q]) > 1e-6 * fmax(1.0, fabs(num))) {
            printf("#   reference grad[%zu]: analytic %.12g numeric %.12g\n", q, gref[q], num);
            bad = 1;
        }
        if (err > maxerr)
            maxerr = err;
        if (err > 1e-4) {
            printf("#   grad[%zu]: analytic %.8g numeric %.8g\n", q, grad[q], num);
            bad = 1;
        }
    }
    CHECK(!bad);
    printf("#   gradient check, %u layers: max relative error %.2e over 24 parameters\n", L, maxerr);
    /* the degree-0 movie gets gradient only from L2 + its own layer-0 term */
    CHECK(grad[7 * d] != 0.0f);
    free(r.A);
    lgcn_work_free(&w);
    lgcn_model_free(&m);
    lgcn_graph_free(&g);
    lgcn_dataset_free(&ds);
}

static void gradient_check(void) { gradient_check_layers(3); }
static void gradient_check_0_1_2_layers(void)
{
    gradient_check_layers(0);
    gradient_check_layers(1);
    gradient_check_layers(2);
}

static void propagate_matches_reference(void)
{
    /* F = (E0 + A E0 + A^2 E0 + A^3 E0)/4 with d = 1 by hand-free recurrence */
    lgcn_dataset ds;
    lgcn_graph g;
    make_ds(&ds, 3, 5, tiny, 7);
    lgcn_graph_build(&ds, &g);
    ref_model r;
    ref_build(&r, &ds, 1, 3);
    float x[8], out[8];
    double cur[8], nxt[8], F[8];
    for (int k = 0; k < 8; k++)
        F[k] = cur[k] = x[k] = (float)(k % 3) - 0.5f;
    for (int l = 0; l < 3; l++) {
        for (int a = 0; a < 8; a++) {
            nxt[a] = 0;
            for (int b = 0; b < 8; b++)
                nxt[a] += r.A[a * 8 + b] * cur[b];
        }
        for (int a = 0; a < 8; a++)
            F[a] += (cur[a] = nxt[a]);
    }
    lgcn_work w;
    lgcn_work_alloc(&w, 8, 1);
    lgcn_propagate(&g, x, out, 1, 3, &w);
    for (int a = 0; a < 8; a++)
        CHECK_NEAR(out[a], F[a] / 4, 1e-6);
    CHECK_NEAR(out[7], x[7] / 4.0, 1e-7); /* isolated movie: only layer 0 */
    lgcn_work_free(&w);
    free(r.A);
    lgcn_graph_free(&g);
    lgcn_dataset_free(&ds);
}

static void adam_by_hand(void)
{
    float p = 1.0f, g = 0.5f, m = 0, v = 0;
    /* t=1: m = 0.05, v = 0.00025; m^ = 0.5, v^ = 0.25; p -= 0.1 * 0.5/0.5 */
    lgcn_adam(&p, &g, &m, &v, 1, 0.1f, 1, NULL, 1);
    CHECK_NEAR(m, 0.05, 1e-7);
    CHECK_NEAR(v, 0.00025, 1e-8);
    CHECK_NEAR(p, 0.9, 1e-6);
    /* t=2, g=-1: m = -0.055, v = 0.00124975; step 0.1/0.19, denom sqrt(v/0.001999) */
    g = -1.0f;
    lgcn_adam(&p, &g, &m, &v, 1, 0.1f, 2, NULL, 1);
    double expect = 0.9 - 0.1 / 0.19 * -0.055 / (sqrt(0.00124975 / 0.001999) + 1e-8);
    CHECK_NEAR(p, expect, 1e-6); /* = 0.936610 */
    CHECK_NEAR(p, 0.936610, 1e-5);
    /* row mask: row 1 frozen */
    float P[4] = {1, 1, 1, 1}, G[4] = {1, 1, 1, 1}, M[4] = {0}, V[4] = {0};
    uint8_t mask[2] = {1, 0};
    lgcn_adam(P, G, M, V, 4, 0.1f, 1, mask, 2);
    CHECK_NEAR(P[0], 0.9, 1e-6);
    CHECK(P[2] == 1.0f && M[2] == 0.0f);
}

static void sampler_distribution(void)
{
    /* user 0 has movies {1, 3} of 6; user 1 has all 6 (never sampled) */
    uint32_t p[8][3] = {{0, 1, 0}, {0, 3, 0}};
    for (uint32_t i = 0; i < 6; i++)
        p[2 + i][0] = 1, p[2 + i][1] = i, p[2 + i][2] = LGCN_TRAIN;
    lgcn_dataset ds;
    lgcn_graph g;
    make_ds(&ds, 2, 6, (const uint32_t(*)[3])p, 8);
    lgcn_graph_build(&ds, &g);
    uint32_t na, *act = lgcn_active_users(&g, &na);
    CHECK(na == 1 && act[0] == 0);
    lgcn_rng r;
    lgcn_rng_seed(&r, 1);
    unsigned cnt_j[6] = {0}, cnt_i[6] = {0};
    const unsigned N = 60000;
    for (unsigned k = 0; k < N; k++) {
        uint32_t u, i, j;
        lgcn_sample(&g, act, na, &r, &u, &i, &j);
        CHECK(u == 0);
        cnt_i[i]++;
        cnt_j[j]++;
    }
    CHECK(cnt_j[1] == 0 && cnt_j[3] == 0); /* never a positive */
    /* each negative 1/4: 15000 +- 3 sigma (sigma = 106) */
    for (int j = 0; j < 6; j += (j == 0 || j == 2) ? 2 : 1)
        if (j != 1 && j != 3)
            CHECK(abs((int)cnt_j[j] - 15000) < 450);
    CHECK(abs((int)cnt_i[1] - 30000) < 500 && cnt_i[1] + cnt_i[3] == N);
    free(act);
    lgcn_graph_free(&g);
    lgcn_dataset_free(&ds);
}

/* random dataset: U users with 3..10 train movies out of I */
static void random_ds(lgcn_dataset *ds, uint32_t U, uint32_t I, uint64_t seed)
{
    lgcn_rng r;
    lgcn_rng_seed(&r, seed);
    uint32_t(*p)[3] = malloc((size_t)U * 14 * sizeof *p);
    size_t n = 0;
    for (uint32_t u = 0; u < U; u++) {
        uint32_t k = 3 + (uint32_t)lgcn_rng_below(&r, 8) + 3, start = (uint32_t)lgcn_rng_below(&r, I);
        for (uint32_t t = 0; t < k && t < I; t++) {
            uint32_t i = (start + t * 7) % I;
            p[n][0] = u, p[n][1] = i, p[n][2] = t < 3 && k > 5 ? LGCN_TEST : LGCN_TRAIN;
            n++;
        }
    }
    make_ds(ds, U, I, (const uint32_t(*)[3])p, n);
    free(p);
}

static int run_train(const lgcn_dataset *ds, int threads, uint32_t epochs, lgcn_model *m, double *first,
                     double *last);

static double first_loss, last_loss;
static int record_loss(void *ctx, const lgcn_epoch_info *e)
{
    (void)ctx;
    if (e->epoch == 1)
        first_loss = e->loss;
    last_loss = e->loss;
    return 0;
}

static int run_train(const lgcn_dataset *ds, int threads, uint32_t epochs, lgcn_model *m, double *first,
                     double *last)
{
    lgcn_graph g;
    if (lgcn_graph_build(ds, &g) != 0)
        return -1;
    lgcn_model_alloc(m, ds->n_users, ds->n_items, 16, 3);
    lgcn_model_init(m, 2020);
    lgcn_train_opts o = {.epochs = epochs, .batch = 64, .lr = 0.01f, .reg = 1e-4f, .seed = 9,
                         .threads = threads, .eval_every = 0, .on_epoch = record_loss};
    lgcn_train_result res;
    int rc = lgcn_train(ds, &g, m, &o, &res);
    *first = first_loss;
    *last = last_loss;
    lgcn_graph_free(&g);
    return rc;
}

static void training_deterministic_and_learns(void)
{
    lgcn_dataset ds;
    random_ds(&ds, 40, 60, 3);
    lgcn_model a, b, c;
    double f1, l1, f2, l2, f3, l3;
    CHECK(run_train(&ds, 1, 30, &a, &f1, &l1) == 0);
    CHECK(run_train(&ds, 1, 30, &b, &f2, &l2) == 0);
    CHECK(run_train(&ds, 2, 30, &c, &f3, &l3) == 0);
    size_t bytes = (size_t)(ds.n_users + ds.n_items) * 16 * 4 * sizeof(float);
    CHECK(memcmp(a.slab, b.slab, bytes) == 0); /* same seed, same threads */
    CHECK(memcmp(a.slab, c.slab, bytes) == 0); /* and across thread counts */
    CHECK(f1 == f2 && l1 == l2);
    CHECK(l1 < f1 * 0.8); /* the loss goes down */
    CHECK_NEAR(f1, log(2.0), 0.05); /* starts near softplus(0) */
    lgcn_model_free(&a);
    lgcn_model_free(&b);
    lgcn_model_free(&c);
    lgcn_dataset_free(&ds);
}

static char tmpdir[64];

static void model_file_roundtrip(void)
{
    lgcn_model m, n;
    lgcn_model_alloc(&m, 4, 6, 8, 3);
    lgcn_model_init(&m, 5);
    for (size_t q = 0; q < 10 * 8; q++)
        m.final[q] = (float)q, m.m[q] = 0.5f, m.v[q] = 0.25f;
    m.lr = 0.001f, m.reg = 1e-4f, m.batch = 2048, m.seed = 77, m.epochs = 12, m.adam_t = 99;
    m.data_fp = 0x1234, m.data_gen = 3, m.recall = 0.25f, m.ndcg = 0.5f;
    char *path = lgcn_path_join(tmpdir, "m.lgcn");
    CHECK(lgcn_model_save(path, &m) == 0);
    CHECK(lgcn_model_load(path, &n) == 0);
    CHECK(n.n_users == 4 && n.n_items == 6 && n.dim == 8 && n.layers == 3 && n.seed == 77);
    CHECK(n.adam_t == 99 && n.data_fp == 0x1234 && n.data_gen == 3 && n.epochs == 12);
    CHECK(memcmp(m.slab, n.slab, 10 * 8 * 4 * sizeof(float)) == 0);
    lgcn_model_free(&n);
    /* flip one byte in the middle: checksum mismatch */
    FILE *f = fopen(path, "r+b");
    fseek(f, 200, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, 200, SEEK_SET);
    fputc(ch ^ 1, f);
    fclose(f);
    CHECK(lgcn_model_load(path, &n) != 0);
    CHECK(strstr(lgcn_errmsg(), "checksum") != NULL);
    /* truncated file */
    CHECK(lgcn_model_save(path, &m) == 0);
    CHECK(truncate(path, 100) == 0);
    CHECK(lgcn_model_load(path, &n) != 0);
    /* not a model */
    f = fopen(path, "wb");
    fputs("userId,movieId,rating,timestamp\n1,2,3,4\n", f);
    fclose(f);
    CHECK(lgcn_model_load(path, &n) != 0);
    CHECK(strstr(lgcn_errmsg(), "not an lgcn model") != NULL);
    CHECK(lgcn_model_load("/nonexistent/m.lgcn", &n) != 0);
    CHECK(strstr(lgcn_errmsg(), "No such file") != NULL);
    unlink(path);
    free(path);
    /* add_user keeps rows: users then movies */
    lgcn_model_init(&m, 5);
    float movie0 = m.e0[4 * 8], user3 = m.e0[3 * 8];
    CHECK(lgcn_model_add_users(&m, 1, 1) == 0);
    CHECK(m.n_users == 5 && m.e0[5 * 8] == movie0 && m.e0[3 * 8] == user3);
    lgcn_model_free(&m);
}

static void dataset_file_roundtrip(void)
{
    lgcn_dataset ds, back;
    make_ds(&ds, 3, 5, tiny, 7);
    CHECK(lgcn_dataset_save(tmpdir, &ds) == 0);
    CHECK(lgcn_dataset_load(tmpdir, &back) == 0);
    CHECK(back.n_users == 3 && back.n_items == 5 && back.n_ratings == 7 && back.id == 42);
    CHECK(memcmp(back.ratings, ds.ratings, 7 * sizeof(lgcn_rating)) == 0);
    CHECK(lgcn_dataset_find_user(&back, 110) == 1);
    CHECK(lgcn_dataset_find_user(&back, 111) == -1);
    CHECK(lgcn_dataset_find_item(&back, 5000000004LL) == 4);
    CHECK(lgcn_dataset_fingerprint(&back) == lgcn_dataset_fingerprint(&ds));
    /* re-rating replaces; a new pair is inserted in order */
    int old;
    CHECK(lgcn_dataset_set_rating(&back, 1, 1, 2.5f, 99, &old) == 0 && old == LGCN_TRAIN);
    CHECK(back.n_ratings == 7);
    CHECK(lgcn_dataset_set_rating(&back, 1, 0, 3.0f, 100, &old) == 0 && old == -1);
    /* user 1's ratings start at index 3: the new (1, 0) goes there */
    CHECK(back.n_ratings == 8 && back.user_off[2] == 6 && back.ratings[3].item == 0 &&
          back.ratings[3].user == 1 && back.ratings[3].rating == 3.0f);
    int64_t nu = lgcn_dataset_add_user(&back, 105);
    CHECK(nu == 3 && lgcn_dataset_find_user(&back, 105) == 3 && lgcn_dataset_find_user(&back, 110) == 1);
    CHECK(lgcn_dataset_set_rating(&back, 3, 4, 5.0f, 101, &old) == 0 && back.user_off[4] == 9);
    CHECK(lgcn_dataset_save(tmpdir, &back) == 0);
    lgcn_dataset_free(&back);
    CHECK(lgcn_dataset_load(tmpdir, &back) == 0);
    CHECK(back.n_users == 4 && back.n_ratings == 9 && back.ratings[8].item == 4);
    lgcn_dataset_free(&back);
    /* a dataset with a corrupt byte is refused */
    char *p = lgcn_path_join(tmpdir, "dataset.lgcn");
    FILE *f = fopen(p, "r+b");
    fseek(f, 90, SEEK_SET);
    fputc(0x7f, f);
    fclose(f);
    CHECK(lgcn_dataset_load(tmpdir, &back) != 0);
    free(p);
    lgcn_dataset_free(&ds);
}

int main(void)
{
    if (test_tmpdir(tmpdir, "lgcn-test-model") != 0)
        return 1;
    RUN(graph_values);
    RUN(propagate_matches_reference);
    RUN(gradient_check);
    RUN(gradient_check_0_1_2_layers);
    RUN(adam_by_hand);
    RUN(sampler_distribution);
    RUN(training_deterministic_and_learns);
    RUN(model_file_roundtrip);
    RUN(dataset_file_roundtrip);
    test_rmtree(tmpdir);
    TEST_EXIT();
}
