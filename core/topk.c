/* topk.c - bounded-heap selection of the K best-scored items.
 *
 * Order ("better"): higher score, or equal score and lower item ID.  The
 * result is therefore a pure function of the scores: which items happen to
 * be relevant never influences how ties fall.
 *
 * NaN scores are treated as worse than every number, -INFINITY included:
 * a NaN item is returned only when fewer than k non-NaN candidates exist,
 * and then after all of them (NaN items among themselves by ascending ID).
 * NaN has no place in a total order under `<`, so the main scan ignores NaN
 * items altogether and a second pass picks them up only when needed.
 *
 * Method: out[] holds a min-heap of at most k entries whose root is the
 * WORST entry kept so far.  A new candidate enters only when it is better
 * than the root.  Because items are scanned in ascending ID, every new item
 * has a higher ID than everything already in the heap, so on a tied score
 * the newcomer always loses: "better than the root" reduces to the single
 * float comparison s > root.score, which is also false for NaN.  That one
 * comparison is all the common path (a score below the current cut-off)
 * costs; skip/allow are consulted only for the few items that pass it.
 * At the end the heap is sorted in place (heapsort), best first.
 * O(n + m log k) for m heap insertions (m << n for random order), no
 * allocation. */
#include "topk.h"

#include <stddef.h>

/* a is worse than b (ranks after it).  Heap entries are never NaN. */
static inline int worse(lgcn_scored a, lgcn_scored b)
{
    return a.score < b.score || (a.score == b.score && a.item > b.item);
}

/* Restore the heap below position i (the root is the worst entry). */
static inline void sift_down(lgcn_scored *h, uint32_t n, uint32_t i)
{
    lgcn_scored x = h[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && worse(h[c + 1], h[c]))
            c++;
        if (!worse(h[c], x))
            break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
}

static inline void sift_up(lgcn_scored *h, uint32_t i)
{
    lgcn_scored x = h[i];
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!worse(x, h[p]))
            break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static inline int excluded(const uint8_t *skip, const uint8_t *allow, uint32_t i)
{
    return (skip && skip[i]) || (allow && !allow[i]);
}

uint32_t lgcn_topk(const float *scores, uint32_t n, const uint8_t *skip, const uint8_t *allow,
                   uint32_t k, lgcn_scored *out)
{
    if (k == 0 || n == 0)
        return 0;

    uint32_t cnt = 0, i = 0, nan_seen = 0;

    /* Fill phase: the first k eligible non-NaN items all enter. */
    for (; i < n && cnt < k; i++) {
        float s = scores[i];
        if (s != s) {
            nan_seen = 1;
            continue;
        }
        if (excluded(skip, allow, i))
            continue;
        out[cnt].score = s;
        out[cnt].item = i;
        sift_up(out, cnt);
        cnt++;
    }

    /* Steady state: the heap is full; the root is the cut-off. */
    if (cnt == k) {
        float thr = out[0].score;
        for (; i < n; i++) {
            float s = scores[i];
            if (!(s > thr)) /* common path; also rejects NaN and ties (see above) */
                continue;
            if (excluded(skip, allow, i))
                continue;
            out[0].score = s;
            out[0].item = i;
            sift_down(out, k, 0);
            thr = out[0].score;
        }
    }

    /* Heapsort: repeatedly move the worst entry to the end -> best first. */
    for (uint32_t end = cnt; end > 1; end--) {
        lgcn_scored t = out[0];
        out[0] = out[end - 1];
        out[end - 1] = t;
        sift_down(out, end - 1, 0);
    }

    /* Too few numeric candidates: append NaN items, ascending ID. They can
     * only have been met in the fill phase, which ran over all n items. */
    if (cnt < k && nan_seen) {
        for (uint32_t j = 0; j < n && cnt < k; j++) {
            float s = scores[j];
            if (s == s || excluded(skip, allow, j))
                continue;
            out[cnt].score = s;
            out[cnt].item = j;
            cnt++;
        }
    }
    return cnt;
}
