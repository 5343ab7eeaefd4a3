/* eval.c - full-ranking evaluation: recall, precision, hit rate, NDCG @K.
 *
 * For every user u with at least one LGCN_TEST rating, every movie is scored
 * with s(u, i) = user_vec[u] . item_vec[i]; the user's LGCN_TRAIN movies are
 * removed (LGCN_HELD and LGCN_TEST movies stay candidates: the protocol of
 * the LightGCN paper ranks everything the model did not train on); the rest
 * is ranked (higher score first, equal scores by ascending movie ID) and the
 * top K compared with the user's test set T(u):
 *
 *   hits@K      = |top-K  n  T(u)|
 *   recall@K    = hits / |T(u)|
 *   precision@K = hits / K        (K even when fewer than K candidates exist)
 *   hit_rate@K  = [hits > 0]
 *   ndcg@K      = DCG / IDCG,  DCG  = sum_{r=1..K} rel_r / log2(r + 1),
 *                              IDCG = sum_{r=1..min(K,|T(u)|)} 1 / log2(r + 1)
 *                 (IDCG: the DCG of a list with all test items on top)
 *
 * each averaged over the evaluated users.
 *
 * Computation: users are processed in blocks of B. Their vectors are
 * gathered into a contiguous B x dim matrix and the B x n_items score block
 * S = U_B . I^T comes from one cblas_sgemm (OpenBLAS uses its own `threads`
 * threads); then an OpenMP loop over the block's users masks each user's
 * train movies, selects the top max(ks) (topk.c) and computes the metrics.
 * Memory is O(B x n_items), never users x items.
 *
 * Train movies are masked with a per-thread skip bitmap (set for the user,
 * cleared after), not by writing -INFINITY into the scores: a -inf score
 * is still a candidate and would appear in a list shorter than K.
 *
 * Determinism: each user's metrics are written to its own slot and the
 * slots are summed serially in user order after the parallel loop, so the
 * floating-point sums (in double) do not depend on the thread count or the
 * schedule.  (OpenBLAS splits a gemm over rows and columns of S, never
 * over the dim-long dot products, so the scores themselves do not depend
 * on its thread count either; tests/test_eval.c checks bit-identity.)
 * BLAS is never called inside our parallel region: OpenBLAS's pthread
 * build would start its own workers from each of ours and oversubscribe
 * the CPUs. */
#include "eval.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "topk.h"
#include "util.h"

/* Size of the score block: 256 users keeps sgemm efficient (each call
 * packs the whole item matrix, so tiny blocks waste that work) and makes
 * the gemm/select alternation coarse enough that the OpenMP workers'
 * spin-wait after each parallel loop costs little.  The byte cap bounds
 * memory for very large catalogues (Gowalla: 256 x 40,981 floats = 42 MB). */
#define EVAL_BLOCK_USERS 256u
#define EVAL_BLOCK_BYTES (64u << 20)

/* 1 / log2(r + 1) for 1-based rank r: the NDCG position discount. */
static inline double discount(uint32_t r)
{
    return 1.0 / log2((double)r + 1.0);
}

/* Is x in the sorted array a[0..n)?  Binary search. */
static inline int in_sorted(const uint32_t *a, uint32_t n, uint32_t x)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else if (a[mid] > x)
            hi = mid;
        else
            return 1;
    }
    return 0;
}

/* A user with no test items has no defined recall; such a call adds
 * nothing (and does not count the user), matching "users without test
 * items are not counted". */
void lgcn_metrics_add(const uint32_t *ranked, uint32_t n, const uint32_t *test, uint32_t ntest,
                      const uint32_t *ks, uint32_t nk, lgcn_metrics *acc)
{
    if (ntest == 0)
        return;
    for (uint32_t j = 0; j < nk; j++) {
        uint32_t K = ks[j];
        /* The list may be shorter than K (few candidates): ranks past its
         * end are simply non-relevant. */
        uint32_t m = n < K ? n : K;
        uint32_t hits = 0;
        double dcg = 0.0;
        for (uint32_t r = 0; r < m; r++) {
            if (in_sorted(test, ntest, ranked[r])) {
                hits++;
                dcg += discount(r + 1);
            }
        }
        uint32_t ideal = ntest < K ? ntest : K;
        double idcg = 0.0;
        for (uint32_t r = 1; r <= ideal; r++)
            idcg += discount(r);
        acc[j].k = K;
        acc[j].recall += (double)hits / (double)ntest;
        acc[j].precision += (double)hits / (double)K;
        acc[j].hit_rate += hits > 0 ? 1.0 : 0.0;
        acc[j].ndcg += dcg / idcg;
        acc[j].users += 1;
    }
}

/* Per-thread scratch of the selection loop. */
typedef struct {
    uint8_t *skip;        /* [n_items] train mask, all zero between users */
    lgcn_scored *top;     /* [kcap] */
    uint32_t *ranked;     /* [kcap] */
    uint32_t *test;       /* [max_test] the user's test items, ascending */
} eval_scratch;

int lgcn_evaluate(const lgcn_dataset *ds, const float *user_vec, const float *item_vec,
                  uint32_t dim, const uint32_t *ks, uint32_t nk, int threads, lgcn_metrics *out)
{
    if (!ds || !out)
        return lgcn_error("evaluate: no dataset or output");
    if (nk == 0 || !ks)
        return lgcn_error("evaluate: no cut-off K given");
    uint32_t kmax = 0;
    for (uint32_t j = 0; j < nk; j++) {
        if (ks[j] < 1)
            return lgcn_error("evaluate: K must be >= 1 (got %u)", ks[j]);
        if (ks[j] > kmax)
            kmax = ks[j];
    }
    if (threads < 1)
        return lgcn_error("evaluate: threads must be >= 1 (got %d)", threads);
    if (dim < 1 || dim > INT_MAX)
        return lgcn_error("evaluate: bad embedding dimension %u", dim);
    if (ds->n_items > INT_MAX)
        return lgcn_error("evaluate: too many movies (%u)", ds->n_items);

    memset(out, 0, nk * sizeof *out);
    for (uint32_t j = 0; j < nk; j++)
        out[j].k = ks[j];

    const uint32_t n_users = ds->n_users, n_items = ds->n_items;
    if (n_users == 0 || n_items == 0 || !ds->user_off || !ds->ratings)
        return 0;
    if (!user_vec || !item_vec)
        return lgcn_error("evaluate: no embeddings");

    /* Pass 1: the evaluated users (>= 1 test item) and the largest test
     * set, validating the index on the way (cheap, and out-of-range IDs
     * would otherwise write out of bounds in the parallel loop). */
    uint32_t n_eval = 0, max_test = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        uint64_t a = ds->user_off[u], b = ds->user_off[u + 1];
        if (a > b || b > ds->n_ratings)
            return lgcn_error("evaluate: corrupt rating index at user %u", u);
        uint32_t nt = 0;
        for (uint64_t r = a; r < b; r++) {
            if (ds->ratings[r].item >= n_items)
                return lgcn_error("evaluate: movie ID %u out of range", ds->ratings[r].item);
            nt += ds->ratings[r].side == LGCN_TEST;
        }
        if (nt) {
            n_eval++;
            if (nt > max_test)
                max_test = nt;
        }
    }
    if (n_eval == 0)
        return 0;

    /* A user ranks at most n_items movies: no need for more top slots. */
    uint32_t kcap = kmax < n_items ? kmax : n_items;

    /* Block size: EVAL_BLOCK_USERS users, fewer when the catalogue is so
     * large that the block would exceed EVAL_BLOCK_BYTES. */
    size_t row_bytes = (size_t)n_items * sizeof(float);
    uint32_t B = EVAL_BLOCK_USERS;
    if ((size_t)B * row_bytes > EVAL_BLOCK_BYTES) {
        size_t b = EVAL_BLOCK_BYTES / row_bytes;
        B = b < 8 ? 8 : (uint32_t)b;
    }
    if (B > n_eval)
        B = n_eval;

    int rc = -1;
    uint32_t *users = lgcn_malloc((size_t)n_eval * sizeof *users);
    float *ublock = lgcn_aligned_alloc((size_t)B * dim * sizeof(float));
    float *S = lgcn_aligned_alloc((size_t)B * row_bytes);
    lgcn_metrics *per_user = lgcn_calloc((size_t)B * nk, sizeof *per_user);
    eval_scratch *scr = lgcn_calloc((size_t)threads, sizeof *scr);
    if (!users || !ublock || !S || !per_user || !scr)
        goto done;
    for (int t = 0; t < threads; t++) {
        scr[t].skip = lgcn_calloc(n_items, 1);
        scr[t].top = lgcn_malloc((size_t)kcap * sizeof *scr[t].top);
        scr[t].ranked = lgcn_malloc((size_t)kcap * sizeof *scr[t].ranked);
        scr[t].test = lgcn_malloc((size_t)max_test * sizeof *scr[t].test);
        if (!scr[t].skip || !scr[t].top || !scr[t].ranked || !scr[t].test)
            goto done;
    }

    n_eval = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        for (uint64_t r = ds->user_off[u]; r < ds->user_off[u + 1]; r++) {
            if (ds->ratings[r].side == LGCN_TEST) {
                users[n_eval++] = u;
                break;
            }
        }
    }

    openblas_set_num_threads(threads);

    for (uint32_t b0 = 0; b0 < n_eval; b0 += B) {
        uint32_t nb = n_eval - b0 < B ? n_eval - b0 : B;

        /* Gather the block's user vectors into a contiguous nb x dim matrix. */
        for (uint32_t b = 0; b < nb; b++)
            memcpy(ublock + (size_t)b * dim, user_vec + (size_t)users[b0 + b] * dim,
                   dim * sizeof(float));

        /* S[nb x n_items] = U_block[nb x dim] . I[n_items x dim]^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nb, (int)n_items, (int)dim,
                    1.0f, ublock, (int)dim, item_vec, (int)dim, 0.0f, S, (int)n_items);

        memset(per_user, 0, (size_t)nb * nk * sizeof *per_user);

#pragma omp parallel for num_threads(threads) schedule(dynamic, 4)
        for (uint32_t b = 0; b < nb; b++) {
            eval_scratch *w = &scr[omp_get_thread_num()];
            uint32_t u = users[b0 + b];
            const lgcn_rating *rt = ds->ratings + ds->user_off[u];
            uint32_t nr = (uint32_t)(ds->user_off[u + 1] - ds->user_off[u]);

            /* Mask train movies and collect test movies (ratings are sorted
             * by item, so test[] comes out ascending). */
            uint32_t nt = 0;
            for (uint32_t r = 0; r < nr; r++) {
                if (rt[r].side == LGCN_TRAIN)
                    w->skip[rt[r].item] = 1;
                else if (rt[r].side == LGCN_TEST)
                    w->test[nt++] = rt[r].item;
            }

            uint32_t n = lgcn_topk(S + (size_t)b * n_items, n_items, w->skip, NULL, kcap, w->top);
            for (uint32_t r = 0; r < n; r++)
                w->ranked[r] = w->top[r].item;
            lgcn_metrics_add(w->ranked, n, w->test, nt, ks, nk, per_user + (size_t)b * nk);

            /* Reset only what was set: the mask stays all-zero. */
            for (uint32_t r = 0; r < nr; r++)
                w->skip[rt[r].item] = 0;
        }

        /* Sum in user order (out[] is the double accumulator), so the
         * result does not depend on which thread handled which user. */
        for (uint32_t b = 0; b < nb; b++) {
            const lgcn_metrics *m = per_user + (size_t)b * nk;
            for (uint32_t j = 0; j < nk; j++) {
                out[j].recall += m[j].recall;
                out[j].precision += m[j].precision;
                out[j].hit_rate += m[j].hit_rate;
                out[j].ndcg += m[j].ndcg;
            }
        }
    }

    for (uint32_t j = 0; j < nk; j++) {
        out[j].users = n_eval;
        out[j].recall /= n_eval;
        out[j].precision /= n_eval;
        out[j].hit_rate /= n_eval;
        out[j].ndcg /= n_eval;
    }
    rc = 0;

done:
    if (rc != 0) /* never leave partial sums behind */
        for (uint32_t j = 0; j < nk; j++) {
            memset(&out[j], 0, sizeof out[j]);
            out[j].k = ks[j];
        }
    if (scr) {
        for (int t = 0; t < threads; t++) {
            free(scr[t].skip);
            free(scr[t].top);
            free(scr[t].ranked);
            free(scr[t].test);
        }
    }
    free(scr);
    free(per_user);
    free(S);
    free(ublock);
    free(users);
    return rc;
}

/* Popularity baseline through the same code path: with dim = 1, a user
 * vector of 1.0 and an item vector holding the movie's train count, the
 * score 1.0 * count is exactly the count (integers < 2^24 are exact in
 * float), and ties fall by ascending ID as everywhere else. */
int lgcn_evaluate_pop(const lgcn_dataset *ds, const uint32_t *ks, uint32_t nk, int threads,
                      lgcn_metrics *out)
{
    if (!ds)
        return lgcn_error("evaluate: no dataset");
    uint32_t nu = ds->n_users, ni = ds->n_items;
    float *uv = lgcn_malloc((size_t)nu * sizeof *uv);
    float *iv = lgcn_calloc(ni, sizeof *iv);
    if (!uv || !iv) {
        free(uv);
        free(iv);
        return -1;
    }
    for (uint32_t u = 0; u < nu; u++)
        uv[u] = 1.0f;
    for (uint64_t r = 0; r < ds->n_ratings; r++) {
        const lgcn_rating *x = &ds->ratings[r];
        if (x->side == LGCN_TRAIN && x->item < ni)
            iv[x->item] += 1.0f;
    }
    int rc = lgcn_evaluate(ds, uv, iv, 1, ks, nk, threads, out);
    free(uv);
    free(iv);
    return rc;
}
