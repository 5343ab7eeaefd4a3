/* test_eval.c - top-K selection and ranking metrics.
 *
 * Expected values are worked out by hand in the comments; L3 = log2(3),
 * L5 = log2(5), L6 = log2(6) (log2(2) = 1 and log2(4) = 2 are written out).
 * The randomized tests compare lgcn_evaluate with a naive reference
 * (double-precision scores, full qsort ranking, same tie rule). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "rng.h"
#include "test.h"
#include "topk.h"
#include "util.h"

#define L3 log2(3.0)
#define L5 log2(5.0)
#define L6 log2(6.0)
#define TOL 1e-12

/* ---- lgcn_topk ---------------------------------------------------------- */

static void test_topk_basic(void)
{
    /* item:            0     1     2     3     4     5 */
    float s[6] = {0.5f, 2.0f, -1.0f, 2.0f, 3.0f, 0.0f};
    lgcn_scored out[10];

    /* 4 (3.0) first, then the tie 1 vs 3 at 2.0: lower ID first. */
    CHECK(lgcn_topk(s, 6, NULL, NULL, 3, out) == 3);
    CHECK(out[0].item == 4 && out[0].score == 3.0f);
    CHECK(out[1].item == 1 && out[1].score == 2.0f);
    CHECK(out[2].item == 3 && out[2].score == 2.0f);

    /* k > n: everything, fully sorted: 4, 1, 3, 0 (0.5), 5 (0), 2 (-1). */
    uint32_t want[6] = {4, 1, 3, 0, 5, 2};
    CHECK(lgcn_topk(s, 6, NULL, NULL, 10, out) == 6);
    for (int r = 0; r < 6; r++)
        CHECK(out[r].item == want[r]);

    /* k = 1 */
    CHECK(lgcn_topk(s, 6, NULL, NULL, 1, out) == 1);
    CHECK(out[0].item == 4);

    /* k = 0 and n = 0 select nothing. */
    CHECK(lgcn_topk(s, 6, NULL, NULL, 0, out) == 0);
    CHECK(lgcn_topk(s, 0, NULL, NULL, 3, out) == 0);
}

static void test_topk_skip_allow(void)
{
    float s[6] = {0.5f, 2.0f, -1.0f, 2.0f, 3.0f, 0.0f};
    lgcn_scored out[10];
    uint8_t skip[6] = {0, 0, 0, 0, 1, 0};  /* drop the best item 4 */
    uint8_t allow[6] = {1, 0, 1, 1, 1, 1}; /* forbid item 1 */

    /* skip 4: 1, 3 (tie at 2.0, ID order), 0 */
    CHECK(lgcn_topk(s, 6, skip, NULL, 3, out) == 3);
    CHECK(out[0].item == 1 && out[1].item == 3 && out[2].item == 0);

    /* allow without 1: 4, 3, 0 */
    CHECK(lgcn_topk(s, 6, NULL, allow, 3, out) == 3);
    CHECK(out[0].item == 4 && out[1].item == 3 && out[2].item == 0);

    /* both: candidates 0, 2, 3, 5 -> 3, 0, 5, 2; k = 10 returns only 4. */
    CHECK(lgcn_topk(s, 6, skip, allow, 10, out) == 4);
    CHECK(out[0].item == 3 && out[1].item == 0 && out[2].item == 5 && out[3].item == 2);

    /* everything skipped */
    uint8_t all[6] = {1, 1, 1, 1, 1, 1};
    CHECK(lgcn_topk(s, 6, all, NULL, 3, out) == 0);
}

static void test_topk_ties(void)
{
    /* All equal: the lowest IDs win, in ascending order, both in the fill
     * phase and in the steady state (later equal items must not enter). */
    float s[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    lgcn_scored out[8];
    CHECK(lgcn_topk(s, 8, NULL, NULL, 3, out) == 3);
    CHECK(out[0].item == 0 && out[1].item == 1 && out[2].item == 2);
    CHECK(lgcn_topk(s, 8, NULL, NULL, 1, out) == 1);
    CHECK(out[0].item == 0);

    /* A tie at the cut-off: the higher ID 5 must not displace 2. */
    float t[6] = {5, 4, 3, 0, 0, 3};
    CHECK(lgcn_topk(t, 6, NULL, NULL, 3, out) == 3);
    CHECK(out[0].item == 0 && out[1].item == 1 && out[2].item == 2);
    CHECK(lgcn_topk(t, 6, NULL, NULL, 4, out) == 4);
    CHECK(out[3].item == 5);
}

static void test_topk_nan(void)
{
    /* NaN ranks below everything, -inf included; it appears only when the
     * numeric candidates run out, NaN items by ascending ID. */
    float s[5] = {NAN, 1.0f, NAN, -INFINITY, 0.0f};
    lgcn_scored out[10];

    CHECK(lgcn_topk(s, 5, NULL, NULL, 2, out) == 2); /* 1, 4 */
    CHECK(out[0].item == 1 && out[1].item == 4);
    CHECK(lgcn_topk(s, 5, NULL, NULL, 4, out) == 4); /* 1, 4, 3 (-inf), 0 (NaN) */
    CHECK(out[0].item == 1 && out[1].item == 4 && out[2].item == 3 && out[3].item == 0);
    CHECK(isnan(out[3].score));
    CHECK(lgcn_topk(s, 5, NULL, NULL, 10, out) == 5); /* ... then 2 (NaN) */
    CHECK(out[4].item == 2);

    /* A skipped NaN stays out. */
    uint8_t skip[5] = {1, 0, 0, 0, 0};
    CHECK(lgcn_topk(s, 5, skip, NULL, 10, out) == 4);
    CHECK(out[0].item == 1 && out[1].item == 4 && out[2].item == 3 && out[3].item == 2);

    /* NaN first must not become the cut-off (k = 1: the answer is 1). */
    CHECK(lgcn_topk(s, 5, NULL, NULL, 1, out) == 1);
    CHECK(out[0].item == 1);
    float only[3] = {NAN, NAN, NAN};
    CHECK(lgcn_topk(only, 3, NULL, NULL, 2, out) == 2);
    CHECK(out[0].item == 0 && out[1].item == 1);
}

static int cmp_scored(const void *pa, const void *pb)
{
    const lgcn_scored *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->item < b->item ? -1 : a->item > b->item;
}

/* Against a full sort, on scores with many ties (small integers). */
static void test_topk_random(void)
{
    enum { N = 1000 };
    static float s[N];
    static uint8_t skip[N], allow[N];
    static lgcn_scored out[N], ref[N];
    lgcn_rng rng;
    lgcn_rng_seed(&rng, 7);
    int bad = 0;
    for (int trial = 0; trial < 200; trial++) {
        uint32_t n = 1 + (uint32_t)lgcn_rng_below(&rng, N);
        uint32_t levels = 1 + (uint32_t)lgcn_rng_below(&rng, 50);
        for (uint32_t i = 0; i < n; i++) {
            s[i] = (float)lgcn_rng_below(&rng, levels);
            skip[i] = lgcn_rng_below(&rng, 4) == 0;
            allow[i] = lgcn_rng_below(&rng, 3) != 0;
        }
        const uint8_t *sk = trial % 2 ? skip : NULL;
        const uint8_t *al = trial % 3 == 0 ? allow : NULL;
        uint32_t m = 0;
        for (uint32_t i = 0; i < n; i++)
            if (!(sk && sk[i]) && !(al && !al[i]))
                ref[m++] = (lgcn_scored){s[i], i};
        qsort(ref, m, sizeof *ref, cmp_scored);
        uint32_t k = 1 + (uint32_t)lgcn_rng_below(&rng, 60);
        uint32_t got = lgcn_topk(s, n, sk, al, k, out);
        uint32_t want = m < k ? m : k;
        if (got != want) {
            bad++;
            continue;
        }
        for (uint32_t r = 0; r < got; r++)
            if (out[r].item != ref[r].item || out[r].score != ref[r].score)
                bad++;
    }
    CHECK(bad == 0);
}

/* ---- lgcn_metrics_add --------------------------------------------------- */

static void test_metrics_hand(void)
{
    /* ranked [3, 1, 4, 5, 9, 2], test {1, 5, 9}: relevant at ranks 2, 4, 5. */
    uint32_t ranked[6] = {3, 1, 4, 5, 9, 2};
    uint32_t test[3] = {1, 5, 9};
    uint32_t ks[4] = {1, 3, 5, 10};
    lgcn_metrics acc[4];
    memset(acc, 0, sizeof acc);
    lgcn_metrics_add(ranked, 6, test, 3, ks, 4, acc);

    double idcg3 = 1 + 1 / L3 + 1.0 / 2; /* min(K, 3) = 3 for K >= 3 */

    /* K=1: [3] - no hit: everything 0. */
    CHECK(acc[0].k == 1 && acc[0].users == 1);
    CHECK_NEAR(acc[0].recall, 0, TOL);
    CHECK_NEAR(acc[0].precision, 0, TOL);
    CHECK_NEAR(acc[0].hit_rate, 0, TOL);
    CHECK_NEAR(acc[0].ndcg, 0, TOL);

    /* K=3: [3, 1, 4] - one hit at rank 2: recall 1/3, precision 1/3,
     * ndcg = (1/log2 3) / (1 + 1/log2 3 + 1/2). */
    CHECK(acc[1].k == 3);
    CHECK_NEAR(acc[1].recall, 1.0 / 3, TOL);
    CHECK_NEAR(acc[1].precision, 1.0 / 3, TOL);
    CHECK_NEAR(acc[1].hit_rate, 1, TOL);
    CHECK_NEAR(acc[1].ndcg, (1 / L3) / idcg3, TOL);

    /* K=5: hits at ranks 2, 4, 5: recall 3/3, precision 3/5,
     * DCG = 1/log2 3 + 1/log2 5 + 1/log2 6. */
    CHECK_NEAR(acc[2].recall, 1, TOL);
    CHECK_NEAR(acc[2].precision, 3.0 / 5, TOL);
    CHECK_NEAR(acc[2].hit_rate, 1, TOL);
    CHECK_NEAR(acc[2].ndcg, (1 / L3 + 1 / L5 + 1 / L6) / idcg3, TOL);

    /* K=10 > list length 6: same hits and DCG, precision 3/10 (divides by
     * K), IDCG still over min(10, 3) = 3 ranks. */
    CHECK_NEAR(acc[3].recall, 1, TOL);
    CHECK_NEAR(acc[3].precision, 3.0 / 10, TOL);
    CHECK_NEAR(acc[3].ndcg, (1 / L3 + 1 / L5 + 1 / L6) / idcg3, TOL);
}

static void test_metrics_short_list(void)
{
    /* Only 2 candidates [7, 2], test {2, 4, 6, 8}, K = 5: one hit at rank 2.
     * recall 1/4, precision 1/5 (K, not 2), IDCG over min(5, 4) = 4 ranks:
     * 1 + 1/log2 3 + 1/2 + 1/log2 5. */
    uint32_t ranked[2] = {7, 2};
    uint32_t test[4] = {2, 4, 6, 8};
    uint32_t ks[2] = {5, 1};
    lgcn_metrics acc[2];
    memset(acc, 0, sizeof acc);
    lgcn_metrics_add(ranked, 2, test, 4, ks, 2, acc);
    CHECK_NEAR(acc[0].recall, 0.25, TOL);
    CHECK_NEAR(acc[0].precision, 0.2, TOL);
    CHECK_NEAR(acc[0].hit_rate, 1, TOL);
    CHECK_NEAR(acc[0].ndcg, (1 / L3) / (1 + 1 / L3 + 0.5 + 1 / L5), TOL);
    /* K=1: [7] no hit. */
    CHECK_NEAR(acc[1].ndcg, 0, TOL);
    CHECK_NEAR(acc[1].hit_rate, 0, TOL);

    /* A second user adds on top: ranked [4], test {4}: K=5 recall 1,
     * precision 1/5, ndcg 1/1; K=1 everything 1. */
    uint32_t r2[1] = {4}, t2[1] = {4};
    lgcn_metrics_add(r2, 1, t2, 1, ks, 2, acc);
    CHECK(acc[0].users == 2 && acc[1].users == 2);
    CHECK_NEAR(acc[0].recall, 1.25, TOL);
    CHECK_NEAR(acc[0].precision, 0.4, TOL);
    CHECK_NEAR(acc[0].hit_rate, 2, TOL);
    CHECK_NEAR(acc[1].precision, 1, TOL);
    CHECK_NEAR(acc[1].ndcg, 1, TOL);

    /* Empty ranked list: counted, all zero. */
    lgcn_metrics z[1];
    memset(z, 0, sizeof z);
    lgcn_metrics_add(NULL, 0, t2, 1, ks, 1, z);
    CHECK(z[0].users == 1);
    CHECK_NEAR(z[0].recall + z[0].precision + z[0].hit_rate + z[0].ndcg, 0, TOL);

    /* No test items: nothing is added and the user is not counted. */
    memset(z, 0, sizeof z);
    lgcn_metrics_add(r2, 1, NULL, 0, ks, 1, z);
    CHECK(z[0].users == 0);
    CHECK_NEAR(z[0].recall, 0, TOL);
}

/* ---- lgcn_evaluate on a hand-built dataset ------------------------------ */

/* A dataset with only what evaluation reads: n_users, n_items, ratings
 * sorted by (user, item), user_off. */
static lgcn_dataset make_ds(uint32_t n_users, uint32_t n_items, lgcn_rating *r, uint64_t n,
                            uint64_t *off)
{
    lgcn_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n_users = n_users;
    ds.n_items = n_items;
    ds.ratings = r;
    ds.user_off = off;
    ds.n_ratings = ds.cap_ratings = n;
    uint64_t j = 0;
    for (uint32_t u = 0; u <= n_users; u++) {
        while (j < n && r[j].user < u)
            j++;
        off[u] = j;
    }
    return ds;
}

#define R(u, i, side) {(u), (i), 1.0f, (side), 0}

/* Items:  i0 (1,0)  i1 (0,1)  i2 (1,1)  i3 (2,0)  i4 (0,2)  i5 (.5,.5)
 * Users:  u0 (1,0)  u1 (0,1)  u2 (1,1)  u3 (1,0)
 * All products are exact in float, so the ties below are exact.
 *
 * u0: scores i0 1, i1 0, i2 1, i3 2, i4 0, i5 .5
 *     train i3 (its best score: masked), held i2 (NOT masked), test {0, 5}
 *     ranking [0, 2, 5, 1, 4]  (0 beats 2 and 1 beats 4 on ties by ID)
 * u1: scores i0 0, i1 1, i2 1, i3 0, i4 2, i5 .5
 *     train i0, i4 (best: masked), test {2}
 *     ranking [1, 2, 5, 3]  - relevant i2 ties with i1 and loses (higher ID);
 *     only 4 candidates, fewer than K = 5
 * u2: scores i0 1, i1 1, i2 2, i3 2, i4 2, i5 1
 *     train i2, test {4, 5}
 *     ranking [3, 4, 0, 1, 5]
 * u3: train i0, i1, held i5; no test item: not evaluated.
 *
 * Per user (K = 1 / 2 / 5):
 * u0: K=1 [0]        hit: R 1/2 P 1   H 1 N 1/1
 *     K=2 [0,2]      hit at 1: R 1/2 P 1/2 H 1 N 1/(1+1/L3)
 *     K=5 [0,2,5,1,4] hits at 1,3: R 1 P 2/5 H 1 N (1+1/2)/(1+1/L3)
 * u1: K=1 [1]        no hit: 0
 *     K=2 [1,2]      hit at 2: R 1 P 1/2 H 1 N (1/L3)/1
 *     K=5 [1,2,5,3]  hit at 2: R 1 P 1/5 H 1 N 1/L3
 * u2: K=1 [3]        no hit: 0
 *     K=2 [3,4]      hit at 2: R 1/2 P 1/2 H 1 N (1/L3)/(1+1/L3)
 *     K=5            hits at 2, 5: R 1 P 2/5 H 1 N (1/L3+1/L6)/(1+1/L3)
 * Means over 3 users:
 *     K=1: R 1/6 P 1/3 H 1/3 N 1/3
 *     K=2: R 2/3 P 1/2 H 1   N [1/(1+1/L3) + 1/L3 + (1/L3)/(1+1/L3)] / 3
 *     K=5: R 1   P 1/3 H 1   N [1.5/(1+1/L3) + 1/L3 + (1/L3+1/L6)/(1+1/L3)] / 3 */
static lgcn_rating hand_r[] = {
    R(0, 0, LGCN_TEST), R(0, 2, LGCN_HELD),  R(0, 3, LGCN_TRAIN), R(0, 5, LGCN_TEST),
    R(1, 0, LGCN_TRAIN), R(1, 2, LGCN_TEST), R(1, 4, LGCN_TRAIN),
    R(2, 2, LGCN_TRAIN), R(2, 4, LGCN_TEST), R(2, 5, LGCN_TEST),
    R(3, 0, LGCN_TRAIN), R(3, 1, LGCN_TRAIN), R(3, 5, LGCN_HELD),
};
static const float hand_items[6 * 2] = {1, 0, 0, 1, 1, 1, 2, 0, 0, 2, 0.5f, 0.5f};
static const float hand_users[4 * 2] = {1, 0, 0, 1, 1, 1, 1, 0};

static void test_evaluate_hand(void)
{
    uint64_t off[5];
    lgcn_dataset ds = make_ds(4, 6, hand_r, sizeof hand_r / sizeof hand_r[0], off);
    uint32_t ks[3] = {1, 2, 5};
    lgcn_metrics m[3], m2[3];
    CHECK(lgcn_evaluate(&ds, hand_users, hand_items, 2, ks, 3, 1, m) == 0);

    double a = 1 + 1 / L3; /* IDCG of a 2-item test set at K >= 2 */
    for (int j = 0; j < 3; j++) {
        CHECK(m[j].k == ks[j]);
        CHECK(m[j].users == 3);
    }
    CHECK_NEAR(m[0].recall, 1.0 / 6, TOL);
    CHECK_NEAR(m[0].precision, 1.0 / 3, TOL);
    CHECK_NEAR(m[0].hit_rate, 1.0 / 3, TOL);
    CHECK_NEAR(m[0].ndcg, 1.0 / 3, TOL);

    CHECK_NEAR(m[1].recall, 2.0 / 3, TOL);
    CHECK_NEAR(m[1].precision, 0.5, TOL);
    CHECK_NEAR(m[1].hit_rate, 1, TOL);
    CHECK_NEAR(m[1].ndcg, (1 / a + 1 / L3 + (1 / L3) / a) / 3, TOL);

    CHECK_NEAR(m[2].recall, 1, TOL);
    CHECK_NEAR(m[2].precision, 1.0 / 3, TOL);
    CHECK_NEAR(m[2].hit_rate, 1, TOL);
    CHECK_NEAR(m[2].ndcg, (1.5 / a + 1 / L3 + (1 / L3 + 1 / L6) / a) / 3, TOL);

    /* Bit-identical with 2 threads. */
    CHECK(lgcn_evaluate(&ds, hand_users, hand_items, 2, ks, 3, 2, m2) == 0);
    CHECK(memcmp(m, m2, sizeof m) == 0);

    /* Order of ks does not matter and duplicates are fine. */
    uint32_t ks2[4] = {5, 1, 5, 2};
    lgcn_metrics m4[4];
    CHECK(lgcn_evaluate(&ds, hand_users, hand_items, 2, ks2, 4, 2, m4) == 0);
    CHECK(m4[0].k == 5 && m4[1].k == 1 && m4[3].k == 2);
    CHECK(memcmp(&m4[0], &m[2], sizeof m[0]) == 0);
    CHECK(memcmp(&m4[2], &m[2], sizeof m[0]) == 0);
    CHECK(memcmp(&m4[1], &m[0], sizeof m[0]) == 0);
    CHECK(memcmp(&m4[3], &m[1], sizeof m[0]) == 0);
}

/* Same dataset, popularity baseline. Train counts: i0 2 (u1, u3), i1 1 (u3),
 * i2 1 (u2), i3 1 (u0), i4 1 (u1), i5 0.
 * u0: mask i3: i0 2, i1 1, i2 1, i4 1, i5 0 -> [0, 1, 2, 4, 5], test {0, 5}
 *     K=1 hit: R 1/2 P 1 H 1 N 1;  K=2: R 1/2 P 1/2 H 1 N 1/(1+1/L3)
 *     K=5 hits at 1, 5: R 1 P 2/5 H 1 N (1+1/L6)/(1+1/L3)
 * u1: mask i0, i4: i1 1, i2 1, i3 1, i5 0 -> [1, 2, 3, 5], test {2}
 *     K=1 0;  K=2 hit at 2: R 1 P 1/2 H 1 N 1/L3;  K=5: R 1 P 1/5 H 1 N 1/L3
 * u2: mask i2: i0 2, i1 1, i3 1, i4 1, i5 0 -> [0, 1, 3, 4, 5], test {4, 5}
 *     K=1 0;  K=2 0;  K=5 hits at 4, 5: R 1 P 2/5 H 1 N (1/L5+1/L6)/(1+1/L3)
 * Means: K=1: R 1/6 P 1/3 H 1/3 N 1/3
 *        K=2: R 1/2 P 1/3 H 2/3 N [1/(1+1/L3) + 1/L3] / 3
 *        K=5: R 1   P 1/3 H 1   N [(1+1/L6)/a + 1/L3 + (1/L5+1/L6)/a] / 3 */
static void test_evaluate_pop_hand(void)
{
    uint64_t off[5];
    lgcn_dataset ds = make_ds(4, 6, hand_r, sizeof hand_r / sizeof hand_r[0], off);
    uint32_t ks[3] = {1, 2, 5};
    lgcn_metrics m[3], m2[3];
    CHECK(lgcn_evaluate_pop(&ds, ks, 3, 1, m) == 0);
    double a = 1 + 1 / L3;
    CHECK(m[0].users == 3 && m[2].users == 3 && m[2].k == 5);
    CHECK_NEAR(m[0].recall, 1.0 / 6, TOL);
    CHECK_NEAR(m[0].precision, 1.0 / 3, TOL);
    CHECK_NEAR(m[0].hit_rate, 1.0 / 3, TOL);
    CHECK_NEAR(m[0].ndcg, 1.0 / 3, TOL);
    CHECK_NEAR(m[1].recall, 0.5, TOL);
    CHECK_NEAR(m[1].precision, 1.0 / 3, TOL);
    CHECK_NEAR(m[1].hit_rate, 2.0 / 3, TOL);
    CHECK_NEAR(m[1].ndcg, (1 / a + 1 / L3) / 3, TOL);
    CHECK_NEAR(m[2].recall, 1, TOL);
    CHECK_NEAR(m[2].precision, 1.0 / 3, TOL);
    CHECK_NEAR(m[2].hit_rate, 1, TOL);
    CHECK_NEAR(m[2].ndcg, ((1 + 1 / L6) / a + 1 / L3 + (1 / L5 + 1 / L6) / a) / 3, TOL);
    CHECK(lgcn_evaluate_pop(&ds, ks, 3, 2, m2) == 0);
    CHECK(memcmp(m, m2, sizeof m) == 0);
}

static void test_evaluate_edge(void)
{
    uint64_t off[5];
    uint32_t ks[2] = {3, 1};
    lgcn_metrics m[2];

    /* No user has a test item: zeros, users = 0, not an error. */
    lgcn_rating r[] = {R(0, 0, LGCN_TRAIN), R(1, 1, LGCN_HELD), R(2, 2, LGCN_TRAIN)};
    lgcn_dataset ds = make_ds(4, 6, r, 3, off);
    memset(m, 0xff, sizeof m);
    CHECK(lgcn_evaluate(&ds, hand_users, hand_items, 2, ks, 2, 2, m) == 0);
    CHECK(m[0].k == 3 && m[1].k == 1);
    CHECK(m[0].users == 0 && m[1].users == 0);
    CHECK(m[0].recall == 0 && m[0].precision == 0 && m[0].hit_rate == 0 && m[0].ndcg == 0);
    CHECK(lgcn_evaluate_pop(&ds, ks, 2, 1, m) == 0);
    CHECK(m[0].users == 0 && m[0].ndcg == 0);

    /* Bad arguments. */
    lgcn_dataset hand = make_ds(4, 6, hand_r, sizeof hand_r / sizeof hand_r[0], off);
    uint32_t zero[2] = {5, 0};
    CHECK(lgcn_evaluate(&hand, hand_users, hand_items, 2, ks, 0, 1, m) == -1);
    CHECK(lgcn_evaluate(&hand, hand_users, hand_items, 2, zero, 2, 1, m) == -1);
    CHECK(strstr(lgcn_errmsg(), "K") != NULL);
    CHECK(lgcn_evaluate(&hand, hand_users, hand_items, 2, ks, 2, 0, m) == -1);
    CHECK(lgcn_evaluate_pop(&hand, zero, 2, 1, m) == -1);

    /* Two movies: u0 trained on i0 (score 5) and tests i1 (score 1), so the
     * list is [1] alone and K = 10 is far past its end:
     * R 1/1, P 1/10 (K, not 1), H 1, N (1/1) / (1) = 1. */
    lgcn_rating one[] = {R(0, 0, LGCN_TRAIN), R(0, 1, LGCN_TEST)};
    uint64_t off1[2];
    lgcn_dataset d1 = make_ds(1, 2, one, 2, off1);
    float uv[1] = {1}, iv[2] = {5, 1};
    uint32_t k10[1] = {10};
    CHECK(lgcn_evaluate(&d1, uv, iv, 1, k10, 1, 1, m) == 0);
    CHECK(m[0].users == 1);
    CHECK_NEAR(m[0].recall, 1, TOL);
    CHECK_NEAR(m[0].precision, 0.1, TOL);
    CHECK_NEAR(m[0].ndcg, 1, TOL);
}

/* ---- randomized cross-check against a naive reference -------------------- */

typedef struct {
    double score;
    uint32_t item;
} ref_scored;

static int cmp_ref(const void *pa, const void *pb)
{
    const ref_scored *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->item < b->item ? -1 : a->item > b->item;
}

/* Straight from the definitions: full ranking of the non-train movies,
 * metrics per user, means over users with >= 1 test movie. */
static void ref_evaluate(const lgcn_dataset *ds, const float *uv, const float *iv, uint32_t dim,
                         int pop, const uint32_t *ks, uint32_t nk, lgcn_metrics *out)
{
    uint32_t ni = ds->n_items;
    ref_scored *list = malloc(ni * sizeof *list);
    int *side = malloc(ni * sizeof *side);
    double *cnt = calloc(ni, sizeof *cnt);
    for (uint64_t r = 0; r < ds->n_ratings; r++)
        if (ds->ratings[r].side == LGCN_TRAIN)
            cnt[ds->ratings[r].item] += 1;
    memset(out, 0, nk * sizeof *out);
    uint32_t ne = 0;
    for (uint32_t u = 0; u < ds->n_users; u++) {
        for (uint32_t i = 0; i < ni; i++)
            side[i] = -1;
        uint32_t nt = 0;
        for (uint64_t r = ds->user_off[u]; r < ds->user_off[u + 1]; r++) {
            side[ds->ratings[r].item] = (int)ds->ratings[r].side;
            nt += ds->ratings[r].side == LGCN_TEST;
        }
        if (nt == 0)
            continue;
        ne++;
        uint32_t n = 0;
        for (uint32_t i = 0; i < ni; i++) {
            if (side[i] == LGCN_TRAIN)
                continue;
            double s = 0;
            if (pop)
                s = cnt[i];
            else
                for (uint32_t d = 0; d < dim; d++)
                    s += (double)uv[(size_t)u * dim + d] * (double)iv[(size_t)i * dim + d];
            list[n++] = (ref_scored){s, i};
        }
        qsort(list, n, sizeof *list, cmp_ref);
        for (uint32_t j = 0; j < nk; j++) {
            uint32_t K = ks[j], hits = 0;
            double dcg = 0, idcg = 0;
            for (uint32_t r = 0; r < K && r < n; r++)
                if (side[list[r].item] == LGCN_TEST) {
                    hits++;
                    dcg += 1 / log2(r + 2.0);
                }
            for (uint32_t r = 0; r < K && r < nt; r++)
                idcg += 1 / log2(r + 2.0);
            out[j].recall += (double)hits / nt;
            out[j].precision += (double)hits / K;
            out[j].hit_rate += hits > 0;
            out[j].ndcg += dcg / idcg;
        }
    }
    for (uint32_t j = 0; j < nk; j++) {
        out[j].k = ks[j];
        out[j].users = ne;
        if (ne) {
            out[j].recall /= ne;
            out[j].precision /= ne;
            out[j].hit_rate /= ne;
            out[j].ndcg /= ne;
        }
    }
    free(list);
    free(side);
    free(cnt);
}

static void random_case(uint64_t seed, uint32_t nu, uint32_t ni, uint32_t dim, uint32_t max_per_user)
{
    lgcn_rng rng;
    lgcn_rng_seed(&rng, seed);
    lgcn_rating *r = malloc((size_t)nu * max_per_user * sizeof *r);
    uint64_t *off = malloc((nu + 1) * sizeof *off);
    uint8_t *used = malloc(ni);
    float *uv = malloc((size_t)nu * dim * sizeof *uv);
    float *iv = malloc((size_t)ni * dim * sizeof *iv);
    uint64_t n = 0;
    for (uint32_t u = 0; u < nu; u++) {
        memset(used, 0, ni);
        uint32_t m = (uint32_t)lgcn_rng_below(&rng, max_per_user + 1);
        for (uint32_t c = 0; c < m; c++)
            used[lgcn_rng_below(&rng, ni)] = 1;
        for (uint32_t i = 0; i < ni; i++) { /* ascending item: sorted */
            if (!used[i])
                continue;
            uint64_t x = lgcn_rng_below(&rng, 20);
            uint32_t side = x < 12 ? LGCN_TRAIN : x < 17 ? LGCN_TEST : LGCN_HELD;
            r[n++] = (lgcn_rating){u, i, 1.0f, side, 0};
        }
    }
    for (size_t i = 0; i < (size_t)nu * dim; i++)
        uv[i] = (float)((double)lgcn_rng_next(&rng) / 18446744073709551616.0 * 2 - 1);
    for (size_t i = 0; i < (size_t)ni * dim; i++)
        iv[i] = (float)((double)lgcn_rng_next(&rng) / 18446744073709551616.0 * 2 - 1);
    lgcn_dataset ds = make_ds(nu, ni, r, n, off);

    uint32_t ks[5] = {1, 5, 20, 100, 1000}; /* 1000 > ni: lists shorter than K */
    lgcn_metrics got[5], got2[5], got3[5], want[5];
    CHECK(lgcn_evaluate(&ds, uv, iv, dim, ks, 5, 1, got) == 0);
    CHECK(lgcn_evaluate(&ds, uv, iv, dim, ks, 5, 2, got2) == 0);
    CHECK(lgcn_evaluate(&ds, uv, iv, dim, ks, 5, 3, got3) == 0);
    CHECK(memcmp(got, got2, sizeof got) == 0);
    CHECK(memcmp(got, got3, sizeof got) == 0);
    ref_evaluate(&ds, uv, iv, dim, 0, ks, 5, want);
    CHECK(want[0].users > 0 && want[0].users < nu); /* some users lack tests */
    for (int j = 0; j < 5; j++) {
        CHECK(got[j].k == want[j].k && got[j].users == want[j].users);
        CHECK_NEAR(got[j].recall, want[j].recall, 1e-9);
        CHECK_NEAR(got[j].precision, want[j].precision, 1e-9);
        CHECK_NEAR(got[j].hit_rate, want[j].hit_rate, 1e-9);
        CHECK_NEAR(got[j].ndcg, want[j].ndcg, 1e-9);
    }

    /* Popularity: integer scores, many ties - a strong test of the ID rule. */
    CHECK(lgcn_evaluate_pop(&ds, ks, 5, 1, got) == 0);
    CHECK(lgcn_evaluate_pop(&ds, ks, 5, 2, got2) == 0);
    CHECK(memcmp(got, got2, sizeof got) == 0);
    ref_evaluate(&ds, uv, iv, dim, 1, ks, 5, want);
    for (int j = 0; j < 5; j++) {
        CHECK(got[j].users == want[j].users);
        CHECK_NEAR(got[j].recall, want[j].recall, 1e-9);
        CHECK_NEAR(got[j].precision, want[j].precision, 1e-9);
        CHECK_NEAR(got[j].hit_rate, want[j].hit_rate, 1e-9);
        CHECK_NEAR(got[j].ndcg, want[j].ndcg, 1e-9);
    }
    free(r);
    free(off);
    free(used);
    free(uv);
    free(iv);
}

static void test_evaluate_random(void)
{
    random_case(1, 50, 300, 8, 30);
}

/* More users than one block (256), and a tiny catalogue where train movies
 * cover much of it, so many lists are shorter than K. */
static void test_evaluate_random_blocks(void)
{
    random_case(2, 700, 120, 5, 60);
    random_case(3, 300, 17, 3, 15);
}

int main(void)
{
    RUN(test_topk_basic);
    RUN(test_topk_skip_allow);
    RUN(test_topk_ties);
    RUN(test_topk_nan);
    RUN(test_topk_random);
    RUN(test_metrics_hand);
    RUN(test_metrics_short_list);
    RUN(test_evaluate_hand);
    RUN(test_evaluate_pop_hand);
    RUN(test_evaluate_edge);
    RUN(test_evaluate_random);
    RUN(test_evaluate_random_blocks);
    TEST_EXIT();
}
