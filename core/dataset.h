/* dataset.h - the in-memory dataset and its files in a dataset directory.
 *
 * A dataset directory DIR holds
 *   DIR/dataset.lgcn  ID maps, ratings (train/test/held), rating scale,
 *                     catalogue: self-contained, so one rename commits it
 *   DIR/users.ids     encoded-ID file: original user ID of each internal user
 *   DIR/movies.ids    encoded-ID file: original movie ID of each internal movie
 *                     (exports of the maps in dataset.lgcn for other tools;
 *                     they name the dataset id and generation they match)
 *   DIR/model.lgcn    the default model (see model.h)
 *   DIR/lock          lock file taken by writers (lgcn-rate, lgcn-train)
 * Formats: man/lgcn-files.5.
 *
 * Internal IDs are dense: users 0..n_users-1, movies 0..n_items-1. Every
 * (user, movie) pair appears at most once in `ratings`, which is kept sorted
 * by (user, item). */
#ifndef LGCN_DATASET_H
#define LGCN_DATASET_H

#include <stddef.h>
#include <stdint.h>

enum {
    LGCN_TRAIN = 0, /* interaction used to build the graph and to train */
    LGCN_TEST = 1,  /* held-out interaction, used by lgcn-eval */
    LGCN_HELD = 2   /* rated below --min-rating: not an interaction, but the
                       user has seen the movie, so it is never recommended */
};

typedef struct {
    uint32_t user;   /* internal user ID */
    uint32_t item;   /* internal movie ID */
    float rating;    /* as given (1.0 for implicit data) */
    uint32_t side;   /* LGCN_TRAIN / LGCN_TEST / LGCN_HELD */
    int64_t ts;      /* Unix timestamp, 0 when unknown */
} lgcn_rating;       /* 24 bytes, stored as is (little-endian hosts) */

#define LGCN_DS_IMPLICIT 1u  /* source had no rating values (LightGCN txt) */
#define LGCN_DS_CATALOGUE 2u /* titles and genres came from a movies.csv */
#define LGCN_MAX_GENRES 64

typedef struct {
    uint64_t id;         /* set at prep from a hash of the input and split options;
                            identifies the dataset lineage (kept by lgcn-rate) */
    uint64_t generation; /* 0 at prep, +1 on every lgcn-rate commit */
    uint32_t flags;      /* LGCN_DS_* */
    uint32_t n_users, n_items;
    int64_t *user_raw;   /* [n_users] original ID of internal user u */
    int64_t *item_raw;   /* [n_items] original ID of internal movie i */
    uint32_t *user_by_raw; /* [n_users] internal IDs sorted by raw ID (lookup) */
    uint32_t *item_by_raw; /* [n_items] */

    uint64_t n_ratings;
    uint64_t cap_ratings;
    lgcn_rating *ratings;  /* [n_ratings] sorted by (user, item) */
    uint64_t *user_off;    /* [n_users+1] user u's ratings are
                              ratings[user_off[u] .. user_off[u+1]) */

    /* Rating scale seen in the data: values lie in [rating_min, rating_max]
     * and are multiples of rating_step (0 = any value). min_rating is the
     * --min-rating threshold (ratings below it are LGCN_HELD); -inf when none. */
    float rating_min, rating_max, rating_step, min_rating;

    uint32_t n_genres;
    char **genre_names;     /* [n_genres] NUL-terminated, point into genre_blob */
    char *genre_blob;
    uint64_t *item_genres;  /* [n_items] bit g set = movie has genre g */
    char *title_blob;       /* all titles, NUL-separated */
    uint64_t title_blob_len;
    uint64_t *title_off;    /* [n_items] offset of movie i's title in title_blob */
} lgcn_dataset;

/* Load DIR/dataset.lgcn. Fills *ds (free with lgcn_dataset_free).
 * Validates every index and count. */
int lgcn_dataset_load(const char *dir, lgcn_dataset *ds);

/* Read only the id and generation from DIR/dataset.lgcn's header (no
 * checksum pass, no allocation): a cheap "has it changed?" for a caller
 * that holds DIR/lock, under which the file is always complete. */
int lgcn_dataset_peek(const char *dir, uint64_t *id, uint64_t *generation);

/* Write dataset.lgcn, then the users.ids and movies.ids exports, each
 * atomically. Creates DIR if missing. The caller holds DIR/lock. */
int lgcn_dataset_save(const char *dir, const lgcn_dataset *ds);

void lgcn_dataset_free(lgcn_dataset *ds);

/* Rebuild user_off, user_by_raw, item_by_raw from the arrays (after prep or
 * after edits). Sorts `ratings` by (user, item) and fails on a duplicate
 * pair or an out-of-range ID. */
int lgcn_dataset_index(lgcn_dataset *ds);

/* Internal ID of an original ID, or -1 when unknown. O(log n). */
int64_t lgcn_dataset_find_user(const lgcn_dataset *ds, int64_t raw);
int64_t lgcn_dataset_find_item(const lgcn_dataset *ds, int64_t raw);

/* Genre index by name (ASCII case-insensitive), or -1. */
int lgcn_dataset_find_genre(const lgcn_dataset *ds, const char *name);

/* Title of movie i ("" when the dataset has no catalogue). */
const char *lgcn_dataset_title(const lgcn_dataset *ds, uint32_t item);

/* Append a new user with original ID `raw` (must be unknown); returns its
 * internal ID (n_users - 1 afterwards) or -1. */
int64_t lgcn_dataset_add_user(lgcn_dataset *ds, int64_t raw);

/* Set ratings (users[k], items[k]) = ratings[k] at time ts, k < n, in
 * order (a pair given twice keeps the later value). An existing pair is
 * replaced in place, keeping its side unless the new rating crosses
 * min_rating (then TRAIN <-> HELD); a new pair is TRAIN (HELD below
 * min_rating). New pairs are merged in one pass, O(n_ratings + n log n).
 * old_side[k] (may be NULL) receives the previous side or -1 for a pair
 * that was not in the dataset before this call. */
int lgcn_dataset_set_ratings(lgcn_dataset *ds, const uint32_t *users, const uint32_t *items,
                             const float *ratings, size_t n, int64_t ts, int *old_side);
/* One rating: lgcn_dataset_set_ratings with n = 1. */
int lgcn_dataset_set_rating(lgcn_dataset *ds, uint32_t u, uint32_t i, float rating,
                            int64_t ts, int *old_side);

/* Counts by side: out[LGCN_TRAIN], out[LGCN_TEST], out[LGCN_HELD]. */
void lgcn_dataset_count(const lgcn_dataset *ds, uint64_t out[3]);

/* Fingerprint binding a model to the dataset it was trained on. */
uint64_t lgcn_dataset_fingerprint(const lgcn_dataset *ds);

#endif
