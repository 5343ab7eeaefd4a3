/* topk.h - selecting the K best-scored candidates.
 * Order: higher score first; equal scores by ascending item ID, so the
 * result never depends on which items happen to be relevant. */
#ifndef LGCN_TOPK_H
#define LGCN_TOPK_H

#include <stdint.h>

typedef struct {
    float score;
    uint32_t item;
} lgcn_scored;

/* Select the top k of scores[0..n) skipping items with skip[i] != 0 (skip
 * may be NULL) and, when allow != NULL, items with allow[i] == 0.
 * Writes up to k entries to out[], best first; returns how many (less than
 * k when fewer candidates exist). O(n log k); no allocation (out is the heap).
 * NaN scores rank below every number (-inf included) and are returned only
 * when fewer than k other candidates exist. */
uint32_t lgcn_topk(const float *scores, uint32_t n, const uint8_t *skip, const uint8_t *allow,
                   uint32_t k, lgcn_scored *out);

#endif
