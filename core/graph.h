/* graph.h - the symmetric-normalised user-movie graph Â = D^-1/2 A D^-1/2.
 *
 * Nodes: users 0..n_users-1, then movie i as node n_users + i.
 * A is the bipartite adjacency of the TRAIN interactions (A[u][U+i] =
 * A[U+i][u] = 1), D its degree matrix. Â is stored in CSR with the
 * normalisation folded into the values: val = 1 / sqrt(deg(r) deg(c)).
 * Rows are sorted by column, so a user's row lists the user's train movies in
 * ascending order (the sampler reads positives from it). A node of degree 0
 * has an empty row: Â maps it to 0, never inf/NaN. */
#ifndef LGCN_GRAPH_H
#define LGCN_GRAPH_H

#include <stdint.h>
#include "dataset.h"

typedef struct {
    uint32_t n_users, n_items;
    uint32_t n;        /* n_users + n_items */
    uint64_t nnz;      /* 2 x train interactions */
    uint64_t *rowptr;  /* [n+1] */
    uint32_t *col;     /* [nnz] node indices */
    float *val;        /* [nnz] */
} lgcn_graph;

/* Build Â from ds's LGCN_TRAIN ratings. */
int lgcn_graph_build(const lgcn_dataset *ds, lgcn_graph *g);
void lgcn_graph_free(lgcn_graph *g);

/* Number of train movies of user u, and a pointer to their node indices
 * (n_users + movie, ascending). */
static inline uint32_t lgcn_graph_degree(const lgcn_graph *g, uint32_t node)
{
    return (uint32_t)(g->rowptr[node + 1] - g->rowptr[node]);
}

/* y = Â x.  x, y: [n x d] row-major, must not alias. Rows are independent,
 * so the result is bit-identical for any thread count (OpenMP). */
void lgcn_spmm(const lgcn_graph *g, const float *x, float *y, uint32_t d);

/* y = Â x (skipped when y is NULL) fused with acc = (acc + Â x) * scale
 * (skipped when acc is NULL): one pass instead of two. */
void lgcn_spmm_ex(const lgcn_graph *g, const float *x, float *y, float *acc, float scale, uint32_t d);

/* Only for rows[0..nrows) (distinct): acc_r = (acc_r + (Â x)_r) * scale. */
void lgcn_spmm_rows(const lgcn_graph *g, const float *x, const uint32_t *rows, uint32_t nrows,
                    float *acc, float scale, uint32_t d);

/* y += Â x where x is zero outside rows[0..nrows) (distinct): pushes each
 * listed row to its neighbours (Â is symmetric), costing only the listed
 * rows' edges. Sequential, in list order (deterministic). */
void lgcn_spmm_scatter(const lgcn_graph *g, const float *x, const uint32_t *rows, uint32_t nrows,
                       float *y, uint32_t d);

#endif
