/* model.h - LightGCN parameters, numerics and the model file.
 *
 * Shapes: N = n_users + n_items nodes, d = dim. All matrices are row-major
 * [N x d] floats, users first (node u), then movies (node n_users + i).
 *
 * The model (He et al., SIGIR 2020):
 *   E_0            learned embeddings (the only parameters)
 *   E_k = Â E_{k-1}, k = 1..L
 *   F   = (E_0 + E_1 + ... + E_L) / (L + 1)      final embeddings
 *   s(u, i) = F_u . F_i
 * BPR loss of a batch of B triples (u, i, j), i a train movie of u, j not:
 *   loss = 1/B sum_b softplus(s(u,j) - s(u,i))
 *        + reg * 1/2 (|E0_u|^2 + |E0_i|^2 + |E0_j|^2) / B   (summed over the batch)
 * Since Â is symmetric, dloss/dE_0 = (1/(L+1)) sum_k Â^k dloss/dF + the L2 term:
 * the backward pass is the same propagation applied to the gradient.
 * Parameters are updated with Adam (PyTorch's formulation). */
#ifndef LGCN_MODEL_H
#define LGCN_MODEL_H

#include <stdint.h>
#include "dataset.h"
#include "graph.h"

typedef struct {
    uint32_t dim, layers;
    uint32_t n_users, n_items;
    /* hyperparameters and provenance, recorded in the file */
    float lr, reg;
    uint32_t batch, threads;
    uint64_t seed;
    uint32_t epochs;        /* epochs trained (of the kept model) */
    uint64_t adam_t;        /* Adam steps taken */
    uint64_t data_fp;       /* lgcn_dataset_fingerprint of the training data */
    uint64_t data_gen;      /* dataset generation the model last learned from */
    uint64_t users_fp;      /* hash of the original IDs of the model's users */
    float recall, ndcg;     /* test recall/ndcg@20 when kept (-1 = not evaluated) */
    /* one slab [4 x N x d]: e0 | adam m | adam v | final F */
    float *slab;
    float *e0, *m, *v, *final;
} lgcn_model;

/* Allocate (zeroed) for the given sizes. */
int lgcn_model_alloc(lgcn_model *m, uint32_t n_users, uint32_t n_items, uint32_t dim, uint32_t layers);
void lgcn_model_free(lgcn_model *m);
/* E_0 ~ N(0, 0.1^2) from `seed`; Adam moments zeroed. */
void lgcn_model_init(lgcn_model *m, uint64_t seed);
/* Add k user rows (E_0 ~ N(0, 0.1^2) from seed, zero moments) after the
 * existing users, before the movie rows; one reallocation. The caller
 * recomputes final. */
int lgcn_model_add_users(lgcn_model *m, uint32_t k, uint64_t seed);
/* Deep copy (dst is allocated). */
int lgcn_model_copy(lgcn_model *dst, const lgcn_model *src);

int lgcn_model_save(const char *path, const lgcn_model *m);
int lgcn_model_load(const char *path, lgcn_model *m);
/* For serving (eval, recommend): only the final embeddings are kept
 * (m->e0, m->m, m->v are NULL; m->final points to the slab). */
int lgcn_model_load_final(const char *path, lgcn_model *m);
/* Can this model serve/learn from ds? Same data lineage and movies, and its
 * users are the dataset's first m->n_users users (it may know fewer users
 * than the dataset: users added since it was written). */
int lgcn_model_check(const lgcn_model *m, const lgcn_dataset *ds);
/* Record ds (fingerprint, generation, user IDs) as the model's data. */
void lgcn_model_bind(lgcn_model *m, const lgcn_dataset *ds);
/* Load DIR's dataset and the model file (lgcn_model_load_final: final
 * embeddings only) as one consistent pair (under a shared DIR/lock, so
 * never between the two renames of a writer) and lgcn_model_check them.
 * On error nothing needs freeing. */
int lgcn_load_pair(const char *dir, const char *model_path, lgcn_dataset *ds, lgcn_model *m);

/* Scratch for training steps over graph g: two [N x d] matrices and the
 * batch's distinct rows. */
typedef struct {
    uint32_t n, dim;
    float *a, *b;     /* [N x d] layer buffers */
    uint8_t *mark;    /* [N] row is in the batch */
    uint32_t *rows;   /* [N] the batch's distinct rows (users, n_users + movies) */
    uint32_t nrows;
} lgcn_work;

int lgcn_work_alloc(lgcn_work *w, uint32_t n, uint32_t dim);
void lgcn_work_free(lgcn_work *w);

/* out = (1/(L+1)) sum_{k=0..L} Â^k x over all rows.  x, out: [N x d].
 * Used to compute the final embeddings F from E0 (and, Â being symmetric,
 * it is also the backward map from dloss/dF to dloss/dE0). */
void lgcn_propagate(const lgcn_graph *g, const float *x, float *out, uint32_t d, uint32_t layers,
                    lgcn_work *w);

/* Loss and gradient of one mini-batch, the work of a training step.
 * Forward: E_1..E_{L-1} over the whole graph, the last layer only at the
 * batch's rows (all the loss reads), F at those rows written to F_out.
 * Backward: dloss/dF is non-zero only at batch rows, so its first hop is
 * pushed outward from them (lgcn_spmm_scatter); the remaining L-1 hops are
 * full products. Returns the batch loss (mean softplus + L2).
 * FG: [N x d] scratch that first holds F (valid at the batch rows) and on
 * return holds dloss/dE0 (BPR + L2) for every row: F is dead once the loss
 * is known, so the gradient reuses its memory. */
double lgcn_batch_grad(const lgcn_graph *g, const float *e0, float *FG, uint32_t d, uint32_t layers,
                       const uint32_t *users, const uint32_t *pos, const uint32_t *neg, uint32_t B,
                       float reg, lgcn_work *w);

/* BPR forward+backward on final embeddings F for B triples.
 * users[b], pos[b], neg[b]: user and movie IDs (movies 0-based; their node is
 * n_users + id). Adds dloss/dF into dfinal (which the caller zeroed) and
 * returns the batch's mean softplus term (without L2). */
double lgcn_bpr_forward_backward(const float *F, uint32_t n_users, uint32_t d, const uint32_t *users,
                                 const uint32_t *pos, const uint32_t *neg, uint32_t B, float *dfinal);

/* L2 term on layer-0 rows: returns reg * 1/2 sum(|e0_u|^2+|e0_i|^2+|e0_j|^2) / B
 * and adds its gradient reg * e0_row / B into grad for every occurrence. */
double lgcn_l2_forward_backward(const float *e0, uint32_t n_users, uint32_t d, const uint32_t *users,
                                const uint32_t *pos, const uint32_t *neg, uint32_t B, float reg,
                                float *grad);

/* Adam (beta1 0.9, beta2 0.999, eps 1e-8; t = step number >= 1) on n
 * parameters, PyTorch's update: p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps).
 * When rowmask != NULL only rows r (of d floats) with rowmask[r] != 0 move. */
void lgcn_adam(float *p, const float *g, float *m, float *v, uint64_t n, float lr, uint64_t t,
               const uint8_t *rowmask, uint32_t d);

#endif
