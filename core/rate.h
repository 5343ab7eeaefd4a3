/* rate.h - adding ratings to a trained dataset + model without retraining. */
#ifndef LGCN_RATE_H
#define LGCN_RATE_H

#include <stddef.h>
#include <stdint.h>
#include "dataset.h"

typedef struct {
    int64_t user;   /* original user ID (a new ID creates a user) */
    int64_t movie;  /* original movie ID (must be in the catalogue) */
    double rating;
} lgcn_rate_entry;

typedef struct {
    uint32_t steps;  /* fine-tuning Adam steps (0 = only update the graph) */
    uint32_t batch;  /* triples per step */
    float lr;        /* fine-tuning learning rate */
    uint64_t seed;
    int threads;
    int64_t now;     /* timestamp recorded with the ratings */
} lgcn_rate_opts;

typedef struct {
    uint32_t new_users;   /* users created */
    uint32_t added;       /* new (user, movie) pairs */
    uint32_t replaced;    /* re-ratings of an existing pair */
    uint64_t generation;  /* dataset generation after the commit */
    int partial;          /* on error: the dataset was written, the model not */
    uint32_t steps;       /* fine-tuning steps taken (0 when no rated user has
                             a train movie to learn from, or --steps 0) */
} lgcn_rate_result;

/* Check entries against ds: rating within the dataset's scale (and on its
 * step), movie in the catalogue. On failure *bad is the index of the first
 * bad entry and the message says why. */
int lgcn_rate_check(const lgcn_dataset *ds, const lgcn_rate_entry *e, size_t n, size_t *bad);

/* Under DIR/lock: load DIR's dataset and the model, check every entry
 * (nothing is written if one is bad), store the ratings (a re-rating
 * replaces the old value), rebuild the graph, give new users an embedding,
 * fine-tune the affected users' and movies' embeddings, and write the
 * dataset and then the model atomically. When an entry is bad, *bad is its
 * index (else SIZE_MAX). */
int lgcn_rate_commit(const char *dir, const char *model_path, const lgcn_rate_entry *e, size_t n,
                     const lgcn_rate_opts *o, lgcn_rate_result *res, size_t *bad);

#endif
