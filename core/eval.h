/* eval.h - full-ranking evaluation (recall, precision, hit rate, NDCG @K). */
#ifndef LGCN_EVAL_H
#define LGCN_EVAL_H

#include <stdint.h>
#include "dataset.h"

typedef struct {
    uint32_t k;
    double recall;    /* mean over evaluated users of hits / |test(u)| */
    double precision; /* mean of hits / K */
    double hit_rate;  /* mean of [hits > 0] */
    double ndcg;      /* mean of DCG / IDCG, discount 1/log2(rank+1), IDCG over min(K,|test|) */
    uint32_t users;   /* users with >= 1 test item */
} lgcn_metrics;

/* Metrics of one ranked list: ranked[0..n) item IDs best first; rel(item) is
 * tested with the sorted array test[0..ntest). Adds the user's values into
 * acc[j] for each K = ks[j] (acc[j].users += 1). A user with ntest == 0 is
 * not evaluated: nothing is added. */
void lgcn_metrics_add(const uint32_t *ranked, uint32_t n, const uint32_t *test, uint32_t ntest,
                      const uint32_t *ks, uint32_t nk, lgcn_metrics *acc);

/* Evaluate scores s(u, i) = user_vec[u] . item_vec[i] (row-major, `dim`
 * floats per row) for every user with >= 1 LGCN_TEST rating, ranking all
 * items except the user's LGCN_TRAIN items. ks[0..nk) are the cut-offs
 * (each >= 1); out[j] receives the averaged metrics for ks[j].
 * Scores are computed in blocks of users with cblas_sgemm and reduced to the
 * top max(ks) at once; `threads` workers (>= 1) select in parallel.
 * user_vec has ds->n_users rows, item_vec ds->n_items rows. */
int lgcn_evaluate(const lgcn_dataset *ds, const float *user_vec, const float *item_vec,
                  uint32_t dim, const uint32_t *ks, uint32_t nk, int threads, lgcn_metrics *out);

/* Most-popular baseline: score = number of LGCN_TRAIN ratings of the item. */
int lgcn_evaluate_pop(const lgcn_dataset *ds, const uint32_t *ks, uint32_t nk, int threads,
                      lgcn_metrics *out);

#endif
