/* recommend.c - scoring one user against the catalogue. */
#include "recommend.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

int lgcn_recommender_init(lgcn_recommender *r, const lgcn_dataset *ds, const lgcn_model *m,
                          uint64_t genre_mask)
{
    memset(r, 0, sizeof *r);
    r->ds = ds;
    r->m = m;
    r->scores = lgcn_malloc((size_t)ds->n_items * sizeof *r->scores);
    r->skip = lgcn_calloc(ds->n_items, 1);
    if (genre_mask)
        r->allow = lgcn_malloc(ds->n_items);
    if (!r->scores || !r->skip || (genre_mask && !r->allow)) {
        lgcn_recommender_free(r);
        return -1;
    }
    if (genre_mask)
        for (uint32_t i = 0; i < ds->n_items; i++)
            r->allow[i] = (ds->item_genres[i] & genre_mask) != 0;
    return 0;
}

void lgcn_recommender_free(lgcn_recommender *r)
{
    free(r->scores);
    free(r->skip);
    free(r->allow);
    memset(r, 0, sizeof *r);
}

int lgcn_recommend(lgcn_recommender *r, uint32_t u, uint32_t n, lgcn_scored *out, uint32_t *n_out)
{
    const lgcn_dataset *ds = r->ds;
    const lgcn_model *m = r->m;
    if (u >= ds->n_users)
        return lgcn_error("internal: user %u out of range", u);
    if (u >= m->n_users)
        return lgcn_error("user %lld joined after the model was trained (run lgcn-rate or lgcn-train)",
                          (long long)ds->user_raw[u]);
    uint32_t d = m->dim;
    const float *items = m->final + (size_t)m->n_users * d;
    /* scores = I_final (n_items x d) . F_u: one pass over the movie rows,
     * a few microseconds for a catalogue of 10^4. A plain loop, not BLAS:
     * a one-shot lgcn-recommend then need not load OpenBLAS, whose thread
     * pool start-up would cost more than the product. */
    const float *fu = m->final + (size_t)u * d;
    for (uint32_t i = 0; i < m->n_items; i++) {
        const float *fi = items + (size_t)i * d;
        float s = 0.0f;
        for (uint32_t k = 0; k < d; k++)
            s += fu[k] * fi[k];
        r->scores[i] = s;
    }
    for (uint64_t k = ds->user_off[u]; k < ds->user_off[u + 1]; k++)
        r->skip[ds->ratings[k].item] = 1;
    *n_out = lgcn_topk(r->scores, ds->n_items, r->skip, r->allow, n, out);
    for (uint64_t k = ds->user_off[u]; k < ds->user_off[u + 1]; k++)
        r->skip[ds->ratings[k].item] = 0;
    return 0;
}
