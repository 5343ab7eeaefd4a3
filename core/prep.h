/* prep.h - build a dataset from MovieLens CSVs or the LightGCN text format. */
#ifndef LGCN_PREP_H
#define LGCN_PREP_H

#include <stdint.h>
#include "dataset.h"

typedef struct {
    const char *ratings_path; /* MovieLens ratings.csv (userId,movieId,rating,timestamp) */
    const char *movies_path;  /* movies.csv (movieId,title,genres) or NULL */
    double test_frac;         /* per-user fraction of distinct movies sent to test, [0,1) */
    uint64_t seed;            /* split seed */
    double min_rating;        /* keep ratings >= this as interactions; -INFINITY = all */
} lgcn_prep_opts;

typedef struct {
    uint64_t rows;            /* data rows read from the ratings file */
    uint64_t duplicates;      /* (user, movie) pairs rated more than once (latest kept) */
    uint64_t skipped;         /* recoverable bad rows skipped (warned) */
    uint64_t unknown_movies;  /* rated movies missing from movies.csv (kept, untitled) */
} lgcn_prep_stats;

/* MovieLens CSV import. Files as released: header line, RFC 4180 quoting,
 * CRLF or LF, UTF-8 with optional BOM. Users and movies get dense internal
 * IDs in ascending original-ID order; movies are the union of the catalogue
 * and the rated movies. Per user, round(test_frac * n) of the user's
 * interactions go to test (at most n-1), chosen by a seeded shuffle.
 * On error the message names the file and line. *ds is filled and indexed
 * (lgcn_dataset_index); its id is derived from the seed and the input. */
int lgcn_prep_movielens(const lgcn_prep_opts *o, lgcn_dataset *ds, lgcn_prep_stats *st);

/* LightGCN paper format: lines "user item item ..." with dense 0-based IDs
 * (original ID = the ID in the file). A train line may list no items; a
 * pair in both files is an error. n_users/n_items = 1 + largest ID seen.
 * Implicit feedback: rating 1.0, timestamp 0, scale [1, 1]. */
int lgcn_prep_lightgcn(const char *train_path, const char *test_path, lgcn_dataset *ds,
                       lgcn_prep_stats *st);

#endif
