/* recommend.h - top-N movies for a user from a trained model. */
#ifndef LGCN_RECOMMEND_H
#define LGCN_RECOMMEND_H

#include <stdint.h>
#include "dataset.h"
#include "model.h"
#include "topk.h"

typedef struct {
    const lgcn_dataset *ds;  /* borrowed */
    const lgcn_model *m;     /* borrowed */
    float *scores;           /* [n_items] scratch */
    uint8_t *skip;           /* [n_items] scratch: movies the user has rated */
    uint8_t *allow;          /* [n_items] genre filter, NULL = every movie */
} lgcn_recommender;

/* Prepare for ds and m (lgcn_model_check must have passed). genre_mask: bit g
 * set = keep movies having genre g; 0 = no filter. */
int lgcn_recommender_init(lgcn_recommender *r, const lgcn_dataset *ds, const lgcn_model *m,
                          uint64_t genre_mask);
void lgcn_recommender_free(lgcn_recommender *r);

/* Top n movies by s(u, i) = F_u . F_i among those the internal user u has not
 * rated (train, test or held), restricted to the genre filter. Writes up to n
 * entries, best first (ties by ascending internal ID); fewer only when fewer
 * candidates exist. Fails when u has no row in the model (a user added after
 * the model was trained and not yet fine-tuned). */
int lgcn_recommend(lgcn_recommender *r, uint32_t u, uint32_t n, lgcn_scored *out, uint32_t *n_out);

#endif
