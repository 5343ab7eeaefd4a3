/* graph.c - building Â and multiplying by it. */
#include "graph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void lgcn_graph_free(lgcn_graph *g)
{
    free(g->rowptr);
    free(g->col);
    free(g->val);
    memset(g, 0, sizeof *g);
}

int lgcn_graph_build(const lgcn_dataset *ds, lgcn_graph *g)
{
    memset(g, 0, sizeof *g);
    uint32_t U = ds->n_users, I = ds->n_items;
    if ((uint64_t)U + I > UINT32_MAX)
        return lgcn_error("too many users + movies for one graph");
    uint32_t n = U + I;
    g->n_users = U;
    g->n_items = I;
    g->n = n;
    g->rowptr = lgcn_calloc((size_t)n + 1, sizeof *g->rowptr);
    if (!g->rowptr)
        return -1;
    /* degrees -> row pointers (counting sort; ratings are sorted by user then
     * item, so filling in rating order leaves every row sorted by column) */
    for (uint64_t k = 0; k < ds->n_ratings; k++) {
        const lgcn_rating *r = &ds->ratings[k];
        if (r->side != LGCN_TRAIN)
            continue;
        g->rowptr[r->user + 1]++;
        g->rowptr[U + r->item + 1]++;
    }
    for (uint32_t v = 0; v < n; v++)
        g->rowptr[v + 1] += g->rowptr[v];
    g->nnz = g->rowptr[n];
    g->col = lgcn_malloc((size_t)g->nnz * sizeof *g->col);
    g->val = lgcn_malloc((size_t)g->nnz * sizeof *g->val);
    uint64_t *fill = lgcn_malloc((size_t)n * sizeof *fill);
    if (!g->col || !g->val || !fill) {
        free(fill);
        lgcn_graph_free(g);
        return -1;
    }
    memcpy(fill, g->rowptr, (size_t)n * sizeof *fill);
    for (uint64_t k = 0; k < ds->n_ratings; k++) {
        const lgcn_rating *r = &ds->ratings[k];
        if (r->side != LGCN_TRAIN)
            continue;
        uint32_t a = r->user, b = U + r->item;
        g->col[fill[a]++] = b;
        g->col[fill[b]++] = a;
    }
    free(fill);
    /* val = 1/sqrt(deg r * deg c), in double so the stored float is the
     * correctly rounded value. Every stored entry has both degrees >= 1. */
    for (uint32_t r = 0; r < n; r++) {
        double dr = (double)(g->rowptr[r + 1] - g->rowptr[r]);
        for (uint64_t p = g->rowptr[r]; p < g->rowptr[r + 1]; p++) {
            uint32_t c = g->col[p];
            double dc = (double)(g->rowptr[c + 1] - g->rowptr[c]);
            g->val[p] = (float)(1.0 / sqrt(dr * dc));
        }
    }
    return 0;
}

/* 8 floats as one GCC/Clang vector; aligned(4) makes loads and stores
 * unaligned-safe. The compiler maps it to one AVX register, or two SSE ones. */
typedef float v8f __attribute__((vector_size(32), aligned(4)));

/* Row r of Â x for d = 64, written to y (if y) and folded into acc as
 * acc_r = (acc_r + (Â x)_r) * scale (if acc). The 64-float accumulator lives
 * in eight vector registers; each neighbour row is streamed once, in CSR
 * order, so the sum is the same whatever thread computes it. */
static inline void row64(const lgcn_graph *g, const float *restrict x, uint32_t r, float *restrict y,
                         float *restrict acc, float scale)
{
    v8f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, a4 = {0}, a5 = {0}, a6 = {0}, a7 = {0};
    for (uint64_t p = g->rowptr[r]; p < g->rowptr[r + 1]; p++) {
        const v8f *xc = (const v8f *)(x + (size_t)g->col[p] * 64);
        float w = g->val[p];
        a0 += w * xc[0], a1 += w * xc[1], a2 += w * xc[2], a3 += w * xc[3];
        a4 += w * xc[4], a5 += w * xc[5], a6 += w * xc[6], a7 += w * xc[7];
    }
    if (y) {
        v8f *yr = (v8f *)(y + (size_t)r * 64);
        yr[0] = a0, yr[1] = a1, yr[2] = a2, yr[3] = a3, yr[4] = a4, yr[5] = a5, yr[6] = a6, yr[7] = a7;
    }
    if (acc) {
        v8f *ar = (v8f *)(acc + (size_t)r * 64);
        ar[0] = (ar[0] + a0) * scale, ar[1] = (ar[1] + a1) * scale;
        ar[2] = (ar[2] + a2) * scale, ar[3] = (ar[3] + a3) * scale;
        ar[4] = (ar[4] + a4) * scale, ar[5] = (ar[5] + a5) * scale;
        ar[6] = (ar[6] + a6) * scale, ar[7] = (ar[7] + a7) * scale;
    }
}

/* The same for any d, through a row buffer t[d]. */
static inline void row_any(const lgcn_graph *g, const float *restrict x, uint32_t r, float *restrict y,
                           float *restrict acc, float scale, uint32_t d, float *restrict t)
{
    for (uint32_t k = 0; k < d; k++)
        t[k] = 0.0f;
    for (uint64_t p = g->rowptr[r]; p < g->rowptr[r + 1]; p++) {
        const float *xc = x + (size_t)g->col[p] * d;
        float w = g->val[p];
        for (uint32_t k = 0; k < d; k++)
            t[k] += w * xc[k];
    }
    if (y)
        for (uint32_t k = 0; k < d; k++)
            y[(size_t)r * d + k] = t[k];
    if (acc)
        for (uint32_t k = 0; k < d; k++)
            acc[(size_t)r * d + k] = (acc[(size_t)r * d + k] + t[k]) * scale;
}

void lgcn_spmm_ex(const lgcn_graph *g, const float *x, float *y, float *acc, float scale, uint32_t d)
{
    /* Dynamic chunks balance rows of very different degree. */
    if (d == 64) {
#pragma omp parallel for schedule(dynamic, 256)
        for (uint32_t r = 0; r < g->n; r++)
            row64(g, x, r, y, acc, scale);
        return;
    }
#pragma omp parallel
    {
        float *t = malloc((size_t)d * sizeof *t);
#pragma omp for schedule(dynamic, 256)
        for (uint32_t r = 0; r < g->n; r++)
            if (t)
                row_any(g, x, r, y, acc, scale, d, t);
        free(t);
    }
}

void lgcn_spmm(const lgcn_graph *g, const float *x, float *y, uint32_t d)
{
    lgcn_spmm_ex(g, x, y, NULL, 1.0f, d);
}

void lgcn_spmm_rows(const lgcn_graph *g, const float *x, const uint32_t *rows, uint32_t nrows,
                    float *acc, float scale, uint32_t d)
{
    if (d == 64) {
#pragma omp parallel for schedule(dynamic, 64)
        for (uint32_t k = 0; k < nrows; k++)
            row64(g, x, rows[k], NULL, acc, scale);
        return;
    }
#pragma omp parallel
    {
        float *t = malloc((size_t)d * sizeof *t);
#pragma omp for schedule(dynamic, 64)
        for (uint32_t k = 0; k < nrows; k++)
            if (t)
                row_any(g, x, rows[k], NULL, acc, scale, d, t);
        free(t);
    }
}

void lgcn_spmm_scatter(const lgcn_graph *g, const float *x, const uint32_t *rows, uint32_t nrows,
                       float *y, uint32_t d)
{
    /* Sequential on purpose: rows share neighbours, and a fixed order of the
     * += keeps the result deterministic. It touches only the listed rows'
     * edges, a small part of the graph for a mini-batch. */
    for (uint32_t k = 0; k < nrows; k++) {
        uint32_t c = rows[k];
        const float *xc = x + (size_t)c * d;
        for (uint64_t p = g->rowptr[c]; p < g->rowptr[c + 1]; p++) {
            float *yr = y + (size_t)g->col[p] * d;
            float w = g->val[p];
            for (uint32_t q = 0; q < d; q++)
                yr[q] += w * xc[q];
        }
    }
}
