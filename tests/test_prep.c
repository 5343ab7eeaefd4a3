/* test_prep.c - MovieLens CSV and LightGCN text import (core/prep.c).
 * Run from the repository root; LGCN_TESTDATA overrides "testdata".
 * The real-data checks run only when ../shared/data is present. */
#define _GNU_SOURCE
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset.h"
#include "prep.h"
#include "test.h"
#include "util.h"

#define SHARED "../shared/data"

/* Timing limits hold for optimised builds; sanitizers are several times
 * slower, so there the times are only reported. */
#if defined(__SANITIZE_ADDRESS__)
#define TIMED 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TIMED 0
#endif
#endif
#ifndef TIMED
#define TIMED 1
#endif

/* ---- helpers ------------------------------------------------------------ */

static const char *td(const char *name)
{
    static char buf[8][512];
    static int next;
    const char *dir = getenv("LGCN_TESTDATA");
    char *b = buf[next++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", dir && *dir ? dir : "testdata", name);
    return b;
}

/* Temporary files, removed at exit. */
static char *tmp_paths[128];
static int n_tmp;

static const char *write_tmp(const void *data, size_t n)
{
    char tmpl[] = "/tmp/lgcn-test-prep-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0)
        return NULL;
    if (write(fd, data, n) != (ssize_t)n) {
        close(fd);
        return NULL;
    }
    close(fd);
    char *p = strdup(tmpl);
    if (n_tmp < 128)
        tmp_paths[n_tmp++] = p;
    return p;
}

static const char *write_tmp_str(const char *s) { return write_tmp(s, strlen(s)); }

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    size_t k;
    while ((k = fread(b + len, 1, cap - len, f)) > 0) {
        len += k;
        if (len == cap)
            b = realloc(b, cap *= 2);
    }
    fclose(f);
    *n = len;
    return b;
}

/* Copy of `path` with CRLF turned into LF and (optionally) the BOM dropped. */
static const char *to_lf(const char *path, int drop_bom)
{
    size_t n;
    char *b = slurp(path, &n);
    if (!b)
        return NULL;
    size_t w = 0, r = 0;
    if (drop_bom && n >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0)
        r = 3;
    for (; r < n; r++)
        if (!(b[r] == '\r' && r + 1 < n && b[r + 1] == '\n'))
            b[w++] = b[r];
    const char *p = write_tmp(b, w);
    free(b);
    return p;
}

static int prep(const char *ratings, const char *movies, double frac, uint64_t seed, double minr,
                lgcn_dataset *ds, lgcn_prep_stats *st)
{
    lgcn_prep_opts o = {.ratings_path = ratings, .movies_path = movies, .test_frac = frac,
                        .seed = seed, .min_rating = minr};
    return lgcn_prep_movielens(&o, ds, st);
}

static int prep_main(double frac, uint64_t seed, double minr, lgcn_dataset *ds,
                     lgcn_prep_stats *st)
{
    int rc = prep(td("ratings.csv"), td("movies.csv"), frac, seed, minr, ds, st);
    if (rc != 0)
        printf("#   prep failed: %s\n", lgcn_errmsg());
    return rc;
}

/* The rating of (raw user, raw movie), or NULL. */
static const lgcn_rating *find_rating(const lgcn_dataset *ds, int64_t user, int64_t item)
{
    int64_t u = lgcn_dataset_find_user(ds, user), i = lgcn_dataset_find_item(ds, item);
    if (u < 0 || i < 0)
        return NULL;
    for (uint64_t k = ds->user_off[u]; k < ds->user_off[u + 1]; k++)
        if (ds->ratings[k].item == (uint32_t)i)
            return &ds->ratings[k];
    return NULL;
}

static const char *title_of(const lgcn_dataset *ds, int64_t item)
{
    int64_t i = lgcn_dataset_find_item(ds, item);
    return i < 0 ? NULL : lgcn_dataset_title(ds, (uint32_t)i);
}

static uint64_t genres_of(const lgcn_dataset *ds, int64_t item)
{
    int64_t i = lgcn_dataset_find_item(ds, item);
    return i < 0 ? ~0ull : ds->item_genres[i];
}

static uint64_t genre_bit(const lgcn_dataset *ds, const char *name)
{
    int g = lgcn_dataset_find_genre(ds, name);
    return g < 0 ? 0 : 1ull << g;
}

/* The message starts with the path and contains every given piece. */
static int err_is(const char *path, const char *a, const char *b)
{
    const char *m = lgcn_errmsg();
    int ok = strncmp(m, path, strlen(path)) == 0 && strstr(m, a) && (!b || strstr(m, b));
    if (!ok)
        printf("#   error was: %s\n", m);
    return ok;
}

static int ds_is_zero(const lgcn_dataset *ds)
{
    lgcn_dataset z;
    memset(&z, 0, sizeof z);
    return memcmp(ds, &z, sizeof z) == 0;
}

/* Same content (the id may differ: it hashes the input bytes). */
static int same_dataset(const lgcn_dataset *a, const lgcn_dataset *b)
{
    if (a->n_users != b->n_users || a->n_items != b->n_items || a->n_ratings != b->n_ratings ||
        a->n_genres != b->n_genres || a->flags != b->flags ||
        a->title_blob_len != b->title_blob_len || a->rating_min != b->rating_min ||
        a->rating_max != b->rating_max || a->rating_step != b->rating_step)
        return 0;
    if (memcmp(a->ratings, b->ratings, a->n_ratings * sizeof *a->ratings) ||
        memcmp(a->user_raw, b->user_raw, a->n_users * 8) ||
        memcmp(a->item_raw, b->item_raw, a->n_items * 8) ||
        memcmp(a->item_genres, b->item_genres, a->n_items * 8) ||
        memcmp(a->title_off, b->title_off, a->n_items * 8) ||
        memcmp(a->title_blob, b->title_blob, a->title_blob_len))
        return 0;
    for (uint32_t g = 0; g < a->n_genres; g++)
        if (strcmp(a->genre_names[g], b->genre_names[g]))
            return 0;
    return 1;
}

static uint64_t user_count(const lgcn_dataset *ds, uint32_t u, uint32_t side)
{
    uint64_t c = 0;
    for (uint64_t k = ds->user_off[u]; k < ds->user_off[u + 1]; k++)
        c += ds->ratings[k].side == side;
    return c;
}

static int log_lines;
static char last_log[1024];
static void count_log(const char *msg)
{
    log_lines++;
    snprintf(last_log, sizeof last_log, "%s", msg);
}

/* ---- MovieLens: the tiny sample ---------------------------------------- */

static void test_ml_counts(void)
{
    lgcn_dataset ds;
    lgcn_prep_stats st;
    if (prep_main(0, 1, -INFINITY, &ds, &st) != 0) {
        CHECK(0);
        return;
    }
    CHECK(ds.n_users == 10);
    CHECK(ds.n_items == 18);
    CHECK(ds.n_ratings == 74);
    CHECK(ds.cap_ratings >= ds.n_ratings);
    CHECK(st.rows == 75);
    CHECK(st.duplicates == 1);
    CHECK(st.unknown_movies == 0);
    CHECK(st.skipped == 0);
    CHECK(ds.flags == LGCN_DS_CATALOGUE);
    CHECK(ds.id != 0);
    CHECK(ds.generation == 0);
    CHECK(ds.user_off[ds.n_users] == ds.n_ratings);
    for (uint32_t u = 0; u < ds.n_users; u++)
        CHECK(ds.user_off[u + 1] - ds.user_off[u] >= 4);
    uint64_t c[3];
    lgcn_dataset_count(&ds, c);
    CHECK(c[LGCN_TRAIN] == 74 && c[LGCN_TEST] == 0 && c[LGCN_HELD] == 0);
    lgcn_dataset_free(&ds);
}

static void test_ml_ids(void)
{
    lgcn_dataset ds;
    if (prep_main(0, 1, -INFINITY, &ds, NULL) != 0) {
        CHECK(0);
        return;
    }
    static const int64_t users[] = {1, 2, 3, 5, 8, 13, 21, 34, 55, 4000000000};
    static const int64_t items[] = {1,  2,  3,  7,   12,  20,  31,  32,  45,
                                    46, 50, 101, 102, 103, 104, 150, 200, 9000000000};
    CHECK(ds.n_users == 10 && ds.n_items == 18);
    for (int u = 0; u < 10 && ds.n_users == 10; u++)
        CHECK(ds.user_raw[u] == users[u]);
    for (int i = 0; i < 18 && ds.n_items == 18; i++)
        CHECK(ds.item_raw[i] == items[i]);
    CHECK(lgcn_dataset_find_user(&ds, 4000000000) == 9);
    CHECK(lgcn_dataset_find_item(&ds, 9000000000) == 17);
    CHECK(lgcn_dataset_find_item(&ds, 4) == -1);
    CHECK(lgcn_dataset_find_user(&ds, 4) == -1);
    const lgcn_rating *r = find_rating(&ds, 1, 9000000000);
    CHECK(r && r->rating == 5.0f && r->ts == 1500000333);
    r = find_rating(&ds, 4000000000, 12);
    CHECK(r && r->rating == 5.0f);
    /* sorted by (user, item) */
    for (uint64_t k = 1; k < ds.n_ratings; k++)
        CHECK(ds.ratings[k - 1].user < ds.ratings[k].user ||
              (ds.ratings[k - 1].user == ds.ratings[k].user &&
               ds.ratings[k - 1].item < ds.ratings[k].item));
    lgcn_dataset_free(&ds);
}

static void test_ml_titles(void)
{
    lgcn_dataset ds;
    if (prep_main(0, 1, -INFINITY, &ds, NULL) != 0) {
        CHECK(0);
        return;
    }
    CHECK_STR(title_of(&ds, 1), "Star Voyage (1977)"); /* row right after the BOM header */
    CHECK_STR(title_of(&ds, 46), "Movie, The \"Best\" (1999)");
    CHECK_STR(title_of(&ds, 20), "Heist, The (1995)");
    CHECK_STR(title_of(&ds, 32), "Paris, Again (2010)");
    CHECK_STR(title_of(&ds, 9000000000), "Far Future (3000)");
    CHECK_STR(title_of(&ds, 200), "Untitled Home Video (2020)");
    /* the blob is every title NUL-terminated, in internal order */
    uint64_t len = 0;
    for (uint32_t i = 0; i < ds.n_items; i++) {
        CHECK(ds.title_off[i] == len);
        len += strlen(ds.title_blob + ds.title_off[i]) + 1;
    }
    CHECK(len == ds.title_blob_len);
    CHECK(ds.title_blob[ds.title_blob_len - 1] == 0);
    lgcn_dataset_free(&ds);
}

static void test_ml_genres(void)
{
    lgcn_dataset ds;
    if (prep_main(0, 1, -INFINITY, &ds, NULL) != 0) {
        CHECK(0);
        return;
    }
    static const char *names[] = {"Action", "Adventure", "Animation", "Children",
                                  "Comedy", "Drama",     "Romance",   "Sci-Fi"};
    CHECK(ds.n_genres == 8);
    for (uint32_t g = 0; g < 8 && g < ds.n_genres; g++)
        CHECK_STR(ds.genre_names[g], names[g]);
    CHECK(lgcn_dataset_find_genre(&ds, "sci-fi") == 7);
    CHECK(lgcn_dataset_find_genre(&ds, "(no genres listed)") == -1);
    CHECK(genres_of(&ds, 200) == 0);
    CHECK(genres_of(&ds, 1) ==
          (genre_bit(&ds, "Action") | genre_bit(&ds, "Adventure") | genre_bit(&ds, "Sci-Fi")));
    CHECK(genres_of(&ds, 46) ==
          (genre_bit(&ds, "Comedy") | genre_bit(&ds, "Drama") | genre_bit(&ds, "Romance")));
    CHECK(genres_of(&ds, 9000000000) == genre_bit(&ds, "Sci-Fi"));
    CHECK(genres_of(&ds, 12) == 1); /* Action only */
    for (uint32_t i = 0; i < ds.n_items; i++)
        CHECK((ds.item_genres[i] >> ds.n_genres) == 0);
    lgcn_dataset_free(&ds);
}

static void test_ml_duplicate_latest_wins(void)
{
    lgcn_dataset ds;
    int saved = log_lines;
    lgcn_set_log(count_log);
    int rc = prep_main(0, 1, -INFINITY, &ds, NULL);
    lgcn_set_log(NULL);
    if (rc != 0) {
        CHECK(0);
        return;
    }
    /* (2, 3): 4.5 at t=1500000900 in row 13, 2.0 at t=1500000100 in row 15:
     * the later timestamp wins, not the later row. */
    const lgcn_rating *r = find_rating(&ds, 2, 3);
    CHECK(r && r->rating == 4.5f && r->ts == 1500000900);
    CHECK(log_lines == saved + 1);
    CHECK(strstr(last_log, "1 (user, movie) pairs") != NULL);
    lgcn_dataset_free(&ds);
}

static void test_ml_scale_half_stars(void)
{
    lgcn_dataset ds;
    if (prep_main(0, 1, -INFINITY, &ds, NULL) != 0) {
        CHECK(0);
        return;
    }
    CHECK(ds.rating_min == 1.0f);
    CHECK(ds.rating_max == 5.0f);
    CHECK(ds.rating_step == 0.5f);
    CHECK(isinf(ds.min_rating) && ds.min_rating < 0);
    const lgcn_rating *r = find_rating(&ds, 1, 2);
    CHECK(r && r->rating == 4.5f && r->ts == 1500000074);
    r = find_rating(&ds, 1, 102);
    CHECK(r && r->rating == 1.5f);
    lgcn_dataset_free(&ds);
}

static void test_ml_scale_steps(void)
{
    static const struct {
        const char *values[3];
        float min, max, step;
    } cases[] = {
        {{"1", "3", "5"}, 1, 5, 1},
        {{"1.0", "2.5", "10"}, 1, 10, 0.5f},
        {{"0.3", "2.7", "4.1"}, 0.3f, 4.1f, 0.1f},
        {{"0.25", "3", "4"}, 0.25f, 4, 0},
        {{"-2", "0", "2"}, -2, 2, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char buf[256];
        snprintf(buf, sizeof buf,
                 "userId,movieId,rating,timestamp\n1,1,%s,1\n1,2,%s,2\n2,1,%s,3\n",
                 cases[c].values[0], cases[c].values[1], cases[c].values[2]);
        lgcn_dataset ds;
        if (prep(write_tmp_str(buf), NULL, 0, 1, -INFINITY, &ds, NULL) != 0) {
            printf("#   case %zu: %s\n", c, lgcn_errmsg());
            CHECK(0);
            continue;
        }
        CHECK(ds.rating_min == cases[c].min);
        CHECK(ds.rating_max == cases[c].max);
        CHECK(ds.rating_step == cases[c].step);
        lgcn_dataset_free(&ds);
    }
}

static void test_ml_no_catalogue(void)
{
    lgcn_dataset ds;
    lgcn_prep_stats st;
    if (prep(td("ratings.csv"), NULL, 0, 1, -INFINITY, &ds, &st) != 0) {
        CHECK(0);
        return;
    }
    CHECK(ds.flags == 0);
    CHECK(ds.n_items == 18); /* every sample movie is rated */
    CHECK(ds.n_genres == 0);
    CHECK(st.unknown_movies == 0);
    for (uint32_t i = 0; i < ds.n_items; i++) {
        CHECK_STR(lgcn_dataset_title(&ds, i), "");
        CHECK(ds.item_genres[i] == 0);
    }
    lgcn_dataset_free(&ds);
}

/* Blank lines anywhere, equal timestamps (the later row wins), LF endings,
 * no BOM, and a rated movie missing from movies.csv. */
static void test_ml_blank_lines_ties_unknown(void)
{
    lgcn_dataset ds;
    lgcn_prep_stats st;
    lgcn_set_log(count_log);
    int rc = prep(td("edge/ratings-blank.csv"), td("movies.csv"), 0, 1, -INFINITY, &ds, &st);
    lgcn_set_log(NULL);
    if (rc != 0) {
        printf("#   %s\n", lgcn_errmsg());
        CHECK(0);
        return;
    }
    CHECK(st.rows == 5);
    CHECK(st.duplicates == 1);
    CHECK(st.unknown_movies == 1);
    CHECK(ds.n_users == 2);
    CHECK(ds.n_items == 19); /* the 18 catalogue movies + 999 */
    CHECK(ds.n_ratings == 4);
    const lgcn_rating *r = find_rating(&ds, 1, 2);
    CHECK(r && r->rating == 5.0f);
    CHECK_STR(title_of(&ds, 999), "");
    CHECK(genres_of(&ds, 999) == 0);
    CHECK(lgcn_dataset_find_item(&ds, 999) == 17); /* between 200 and 9000000000 */
    CHECK_STR(title_of(&ds, 9000000000), "Far Future (3000)");
    CHECK(strstr(last_log, "1 rated movies") != NULL);
    lgcn_dataset_free(&ds);
}

static void test_ml_movies_repeat(void)
{
    lgcn_dataset ds;
    lgcn_prep_stats st;
    const char *ratings = write_tmp_str("userId,movieId,rating,timestamp\n1,1,4,1\n1,2,3,2\n");
    if (prep(ratings, td("edge/movies-repeat.csv"), 0, 1, -INFINITY, &ds, &st) != 0) {
        printf("#   %s\n", lgcn_errmsg());
        CHECK(0);
        return;
    }
    CHECK(st.skipped == 1);
    CHECK(ds.n_items == 2);
    CHECK_STR(title_of(&ds, 1), "First Title (1990)");
    CHECK(genres_of(&ds, 1) == genre_bit(&ds, "Drama"));
    /* Action came only from the dropped row: no movie has it, so it is not
     * a genre of the dataset (a --genre Action filter would match nothing) */
    CHECK(ds.n_genres == 2);
    CHECK(lgcn_dataset_find_genre(&ds, "Action") < 0);
    lgcn_dataset_free(&ds);
}

static void test_ml_crlf_lf_bom_identical(void)
{
    lgcn_dataset a, b, c;
    const char *r_lf = to_lf(td("ratings.csv"), 1), *m_lf = to_lf(td("movies.csv"), 1);
    const char *m_lf_bom = to_lf(td("movies.csv"), 0);
    /* a BOM on the ratings file too */
    size_t n;
    char *raw = slurp(td("ratings.csv"), &n);
    char *bom = malloc(n + 3);
    memcpy(bom, "\xEF\xBB\xBF", 3);
    memcpy(bom + 3, raw, n);
    const char *r_bom = write_tmp(bom, n + 3);
    free(raw);
    free(bom);
    if (prep_main(0.2, 7, -INFINITY, &a, NULL) != 0 ||
        prep(r_lf, m_lf, 0.2, 7, -INFINITY, &b, NULL) != 0 ||
        prep(r_bom, m_lf_bom, 0.2, 7, -INFINITY, &c, NULL) != 0) {
        printf("#   %s\n", lgcn_errmsg());
        CHECK(0);
        return;
    }
    CHECK(same_dataset(&a, &b));
    CHECK(same_dataset(&a, &c));
    CHECK(a.id != b.id); /* different bytes, different lineage */
    lgcn_dataset_free(&a);
    lgcn_dataset_free(&b);
    lgcn_dataset_free(&c);
}

static void test_ml_multiline_title(void)
{
    /* A quoted title may hold a newline: line numbers stay physical. */
    const char *movies = write_tmp_str("movieId,title,genres\r\n"
                                       "1,\"Two\r\nLines (1990)\",Drama\r\n"
                                       "2,Fine (1991),Comedy\r\n");
    const char *ratings = write_tmp_str("userId,movieId,rating,timestamp\n1,1,4,1\n1,2,3,2\n");
    lgcn_dataset ds;
    if (prep(ratings, movies, 0, 1, -INFINITY, &ds, NULL) != 0) {
        printf("#   %s\n", lgcn_errmsg());
        CHECK(0);
    } else {
        CHECK_STR(title_of(&ds, 1), "Two\r\nLines (1990)");
        CHECK_STR(title_of(&ds, 2), "Fine (1991)");
        lgcn_dataset_free(&ds);
    }
    const char *bad = write_tmp_str("movieId,title,genres\n"
                                    "1,\"Two\nLines (1990)\",Drama\n"
                                    "2,Fine (1991),Comedy\n"
                                    "x,Bad (1992),Drama\n");
    CHECK(prep(ratings, bad, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(bad, ": line 5: ", "movieId 'x'"));
    const char *bad2 = write_tmp_str("movieId,title,genres\n"
                                     "1,\"Two\nLines (1990)\",Drama,Extra\n");
    CHECK(prep(ratings, bad2, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(bad2, ": line 2: ", "expected 3 fields"));
}

static void test_ml_id_stable(void)
{
    lgcn_dataset a, b, c;
    if (prep_main(0.2, 5, -INFINITY, &a, NULL) != 0 || prep_main(0.2, 5, -INFINITY, &b, NULL) ||
        prep_main(0.2, 6, -INFINITY, &c, NULL)) {
        CHECK(0);
        return;
    }
    CHECK(a.id == b.id);
    CHECK(a.id != c.id);
    lgcn_dataset_free(&a);
    lgcn_dataset_free(&b);
    lgcn_dataset_free(&c);
}

/* ---- split -------------------------------------------------------------- */

static void check_split(const lgcn_dataset *ds, double frac)
{
    for (uint32_t u = 0; u < ds->n_users; u++) {
        uint64_t tr = user_count(ds, u, LGCN_TRAIN), te = user_count(ds, u, LGCN_TEST);
        uint64_t n = tr + te, want = (uint64_t)floor(frac * (double)n + 0.5);
        if (n > 0 && want > n - 1)
            want = n - 1;
        CHECK(te == want);
        if (n > 0)
            CHECK(tr >= 1);
    }
}

static void test_split_counts(void)
{
    lgcn_dataset ds;
    if (prep_main(0.2, 42, -INFINITY, &ds, NULL) != 0) {
        CHECK(0);
        return;
    }
    check_split(&ds, 0.2);
    uint64_t c[3];
    lgcn_dataset_count(&ds, c);
    CHECK(c[LGCN_TEST] == 16); /* 9,8,8,6,8,8,6,8,6,7 ratings -> 2,2,2,1,2,2,1,2,1,1 */
    CHECK(c[LGCN_TRAIN] == 58);
    lgcn_dataset_free(&ds);
    if (prep_main(0.5, 42, -INFINITY, &ds, NULL) == 0) {
        check_split(&ds, 0.5);
        lgcn_dataset_free(&ds);
    }
}

static void test_split_seeded(void)
{
    lgcn_dataset a, b;
    if (prep_main(0.3, 1, -INFINITY, &a, NULL) != 0 || prep_main(0.3, 1, -INFINITY, &b, NULL)) {
        CHECK(0);
        return;
    }
    CHECK(same_dataset(&a, &b));
    int differs = 0;
    for (uint64_t seed = 2; seed < 6 && !differs; seed++) {
        lgcn_dataset c;
        if (prep_main(0.3, seed, -INFINITY, &c, NULL) != 0) {
            CHECK(0);
            break;
        }
        check_split(&c, 0.3);
        for (uint64_t k = 0; k < c.n_ratings; k++)
            differs |= c.ratings[k].side != a.ratings[k].side;
        lgcn_dataset_free(&c);
    }
    CHECK(differs);
    lgcn_dataset_free(&a);
    lgcn_dataset_free(&b);
}

static void test_split_small_users(void)
{
    /* user 1: one rating (never tested); user 2: two ratings with frac 0.9
     * (round(1.8) = 2, capped at 1); user 3: three (round(2.7) = 3 -> 2). */
    const char *r = write_tmp_str("userId,movieId,rating,timestamp\n"
                                  "1,1,4,1\n2,1,4,1\n2,2,4,1\n3,1,4,1\n3,2,4,1\n3,3,4,1\n");
    lgcn_dataset ds;
    if (prep(r, NULL, 0.9, 3, -INFINITY, &ds, NULL) != 0) {
        CHECK(0);
        return;
    }
    CHECK(user_count(&ds, 0, LGCN_TEST) == 0 && user_count(&ds, 0, LGCN_TRAIN) == 1);
    CHECK(user_count(&ds, 1, LGCN_TEST) == 1 && user_count(&ds, 1, LGCN_TRAIN) == 1);
    CHECK(user_count(&ds, 2, LGCN_TEST) == 2 && user_count(&ds, 2, LGCN_TRAIN) == 1);
    lgcn_dataset_free(&ds);
}

static void test_min_rating_held(void)
{
    lgcn_dataset ds;
    if (prep_main(0.25, 9, 3.0, &ds, NULL) != 0) {
        CHECK(0);
        return;
    }
    CHECK(ds.min_rating == 3.0f);
    uint64_t below = 0;
    for (uint64_t k = 0; k < ds.n_ratings; k++) {
        const lgcn_rating *r = &ds.ratings[k];
        below += r->rating < 3.0f;
        CHECK((r->rating < 3.0f) == (r->side == LGCN_HELD));
    }
    uint64_t c[3];
    lgcn_dataset_count(&ds, c);
    CHECK(below == 22);
    CHECK(c[LGCN_HELD] == 22);
    check_split(&ds, 0.25); /* over the non-HELD interactions only */
    const lgcn_rating *r = find_rating(&ds, 2, 200); /* exactly 3.0: kept */
    CHECK(r && r->side != LGCN_HELD);
    lgcn_dataset_free(&ds);
}

static void test_ml_save_load(void)
{
    char dir[] = "/tmp/lgcn-test-prep-dir-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    lgcn_dataset a, b;
    if (prep_main(0.2, 11, 2.0, &a, NULL) != 0) {
        CHECK(0);
        return;
    }
    CHECK(lgcn_dataset_save(dir, &a) == 0);
    if (lgcn_dataset_load(dir, &b) != 0) {
        printf("#   %s\n", lgcn_errmsg());
        CHECK(0);
    } else {
        CHECK(same_dataset(&a, &b));
        CHECK(a.id == b.id && b.min_rating == 2.0f);
        CHECK_STR(title_of(&b, 46), "Movie, The \"Best\" (1999)");
        lgcn_dataset_free(&b);
    }
    lgcn_dataset_free(&a);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char p[600];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* ---- MovieLens: errors ---------------------------------------------------- */

static void test_err_fields(void)
{
    lgcn_dataset ds;
    const char *p = td("bad/ratings-fields.csv");
    CHECK(prep(p, NULL, 0.2, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(p, ": line 5: expected 4 fields", "found 3"));
    CHECK(ds_is_zero(&ds));
    const char *m = td("bad/movies-fields.csv");
    CHECK(prep(td("ratings.csv"), m, 0.2, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(m, ": line 3: expected 3 fields", "found 4"));
    CHECK(ds_is_zero(&ds));
    /* too many fields */
    const char *t = write_tmp_str("userId,movieId,rating,timestamp\n1,2,3,4,5,6,7,8,9,10\n");
    CHECK(prep(t, NULL, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(t, ": line 2: expected 4 fields", "found 10"));
}

static void test_err_values(void)
{
    lgcn_dataset ds;
    const char *p = td("bad/ratings-nonnumeric.csv");
    CHECK(prep(p, NULL, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(p, ": line 3: movieId 'abc'", "not an integer"));
    p = td("bad/ratings-rating.csv");
    CHECK(prep(p, NULL, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(p, ": line 4: rating 'five'", NULL));
    static const struct {
        const char *row, *what;
    } rows[] = {
        {"1,2,nan,5", "rating 'nan'"},        {"1,2,inf,5", "rating 'inf'"},
        {"1,2,1e999,5", "rating '1e999'"},    {"1,2,1e300,5", "rating '1e300'"},
        {"1,2,4.0,", "timestamp ''"},          {"1,2,4.0,12.5", "timestamp '12.5'"},
        {" 1,2,4.0,5", "userId ' 1'"},         {"1,2 ,4.0,5", "movieId '2 '"},
        {"99999999999999999999,2,4,5", "userId '99999999999999999999'"},
        {"1,0x10,4,5", "movieId '0x10'"},      {",2,4,5", "userId ''"},
    };
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        char buf[256];
        snprintf(buf, sizeof buf, "userId,movieId,rating,timestamp\r\n1,1,4,1\r\n%s\r\n",
                 rows[k].row);
        const char *t = write_tmp_str(buf);
        CHECK(prep(t, NULL, 0, 1, -INFINITY, &ds, NULL) == -1);
        CHECK(err_is(t, ": line 3: ", rows[k].what));
    }
}

static void test_err_header(void)
{
    lgcn_dataset ds;
    const char *p = td("bad/header-wrong.csv");
    CHECK(prep(p, NULL, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(p, ": line 1: expected the header 'userId,movieId,rating,timestamp'",
                 "found 'user,movie,rating,timestamp'"));
    p = td("bad/movies-header.csv");
    CHECK(prep(td("ratings.csv"), p, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(p, ": line 1: expected the header 'movieId,title,genres'", "'movieId,title'"));
    /* ratings.csv given as movies.csv (a swapped argument) */
    p = td("ratings.csv");
    CHECK(prep(td("ratings.csv"), p, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(p, ": line 1: expected the header 'movieId,title,genres'", NULL));
    /* header case does not matter (some copies lower-case it) */
    const char *t = write_tmp_str("userid,movieid,Rating,TIMESTAMP\n1,1,4,1\n");
    CHECK(prep(t, NULL, 0, 1, -INFINITY, &ds, NULL) == 0);
    lgcn_dataset_free(&ds);
    /* no header at all: the first data row is reported */
    t = write_tmp_str("1,1,4,1\n1,2,4,1\n");
    CHECK(prep(t, NULL, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(t, ": line 1: expected the header", "found '1,1,4,1'"));
}

static void test_err_empty(void)
{
    lgcn_dataset ds;
    const char *p = td("bad/empty.csv");
    CHECK(prep(p, NULL, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(p, ": empty file", NULL));
    p = td("bad/header-only.csv");
    CHECK(prep(p, NULL, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(p, ": no data rows", NULL));
    const char *t = write_tmp_str("\xEF\xBB\xBF\n\n\r\n");
    CHECK(prep(t, NULL, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(t, ": empty file", NULL));
    t = write_tmp_str("movieId,title,genres\n");
    CHECK(prep(td("ratings.csv"), t, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(t, ": no data rows", NULL));
    CHECK(ds_is_zero(&ds));
}

static void test_err_quotes(void)
{
    lgcn_dataset ds;
    const char *p = td("bad/movies-quote.csv");
    CHECK(prep(td("ratings.csv"), p, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(p, ": line 3: unterminated quoted field", NULL));
    p = td("bad/movies-stray-quote.csv");
    CHECK(prep(td("ratings.csv"), p, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(p, ": line 4: malformed CSV", NULL));
    const char *t = write_tmp_str("movieId,title,genres\n1,\"Closed\" junk,Drama\n");
    CHECK(prep(td("ratings.csv"), t, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(t, ": line 2: malformed CSV", NULL));
    CHECK(ds_is_zero(&ds));
}

static void test_err_missing_file(void)
{
    lgcn_dataset ds;
    CHECK(prep("/nonexistent/ratings.csv", NULL, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is("cannot open '/nonexistent/ratings.csv'", "No such file", NULL));
    CHECK(prep(td("ratings.csv"), "/nonexistent/movies.csv", 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is("cannot open '/nonexistent/movies.csv'", "No such file", NULL));
    CHECK(ds_is_zero(&ds));
}

static void test_err_options(void)
{
    lgcn_dataset ds;
    CHECK(prep(td("ratings.csv"), NULL, 1.0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(strstr(lgcn_errmsg(), "[0, 1)") != NULL);
    CHECK(prep(td("ratings.csv"), NULL, -0.1, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(prep(td("ratings.csv"), NULL, NAN, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(prep(td("ratings.csv"), NULL, 0.1, 1, NAN, &ds, NULL) == -1);
}

static void test_err_too_many_genres(void)
{
    /* 65 distinct genres over two rows */
    char *buf = malloc(4096);
    size_t n = (size_t)sprintf(buf, "movieId,title,genres\n1,A,");
    for (int g = 0; g < 40; g++)
        n += (size_t)sprintf(buf + n, "%sG%d", g ? "|" : "", g);
    n += (size_t)sprintf(buf + n, "\n2,B,");
    for (int g = 40; g < 65; g++)
        n += (size_t)sprintf(buf + n, "%sG%d", g > 40 ? "|" : "", g);
    sprintf(buf + n, "\n");
    const char *t = write_tmp_str(buf);
    free(buf);
    lgcn_dataset ds;
    CHECK(prep(td("ratings.csv"), t, 0, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(t, ": line 3: more than 64 distinct genres", "G64"));
}

/* Records cut by 64 KiB block boundaries; the line count stays exact. */
static void test_ml_large_file(void)
{
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    n += (size_t)sprintf(buf, "userId,movieId,rating,timestamp\r\n");
    for (int k = 0; k < 20000; k++)
        n += (size_t)sprintf(buf + n, "%d,%d,%d.5,%d\r\n", k % 700, (k * 7919) % 3001,
                             k % 5, 1000000 + k);
    const char *good = write_tmp(buf, n);
    n += (size_t)sprintf(buf + n, "1,2,3\r\n"); /* line 20002 */
    const char *bad = write_tmp(buf, n);
    free(buf);
    lgcn_dataset ds;
    lgcn_prep_stats st;
    if (prep(good, NULL, 0.2, 1, -INFINITY, &ds, &st) != 0) {
        printf("#   %s\n", lgcn_errmsg());
        CHECK(0);
    } else {
        CHECK(st.rows == 20000);
        CHECK(ds.n_users == 700);
        CHECK(ds.n_ratings + st.duplicates <= 20000);
        CHECK(ds.rating_step == 0.5f && ds.rating_min == 0.5f && ds.rating_max == 4.5f);
        check_split(&ds, 0.2);
        lgcn_dataset_free(&ds);
    }
    CHECK(prep(bad, NULL, 0.2, 1, -INFINITY, &ds, NULL) == -1);
    CHECK(err_is(bad, ": line 20002: expected 4 fields", NULL));
}

/* ---- LightGCN text ------------------------------------------------------ */

static void test_lightgcn_basic(void)
{
    lgcn_dataset ds;
    lgcn_prep_stats st;
    if (lgcn_prep_lightgcn(td("lightgcn/train.txt"), td("lightgcn/test.txt"), &ds, &st) != 0) {
        printf("#   %s\n", lgcn_errmsg());
        CHECK(0);
        return;
    }
    CHECK(ds.n_users == 5);
    CHECK(ds.n_items == 6);
    uint64_t c[3];
    lgcn_dataset_count(&ds, c);
    CHECK(c[LGCN_TRAIN] == 9);
    CHECK(c[LGCN_TEST] == 3);
    CHECK(c[LGCN_HELD] == 0);
    CHECK(st.rows == 13);
    CHECK(st.duplicates == 1); /* "3 1 4 4" */
    CHECK(ds.flags == LGCN_DS_IMPLICIT);
    CHECK(ds.id != 0);
    CHECK(ds.rating_min == 1.0f && ds.rating_max == 1.0f);
    CHECK(isinf(ds.min_rating));
    CHECK(ds.n_genres == 0);
    CHECK(ds.user_off[3] - ds.user_off[2] == 0); /* user 2: a line with no items */
    CHECK(user_count(&ds, 4, LGCN_TEST) == 0 && user_count(&ds, 4, LGCN_TRAIN) == 2);
    for (uint32_t u = 0; u < ds.n_users; u++)
        CHECK(ds.user_raw[u] == u);
    for (uint32_t i = 0; i < ds.n_items; i++) {
        CHECK(ds.item_raw[i] == i);
        CHECK_STR(lgcn_dataset_title(&ds, i), "");
    }
    const lgcn_rating *r = find_rating(&ds, 0, 3);
    CHECK(r && r->side == LGCN_TEST && r->rating == 1.0f && r->ts == 0);
    r = find_rating(&ds, 3, 4);
    CHECK(r && r->side == LGCN_TRAIN);
    lgcn_dataset_free(&ds);
}

static void test_lightgcn_crlf_tabs(void)
{
    const char *tr = write_tmp_str("0 0 1 2\r\n1\t2  3 \r\n2\r\n\r\n3 1 4 4\r\n4 0 5");
    const char *te = write_tmp_str("0 3\r\n1 5\r\n3 0\r\n4\r\n");
    lgcn_dataset a, b;
    if (lgcn_prep_lightgcn(td("lightgcn/train.txt"), td("lightgcn/test.txt"), &a, NULL) != 0 ||
        lgcn_prep_lightgcn(tr, te, &b, NULL) != 0) {
        printf("#   %s\n", lgcn_errmsg());
        CHECK(0);
        return;
    }
    CHECK(same_dataset(&a, &b));
    lgcn_dataset_free(&a);
    lgcn_dataset_free(&b);
}

static void test_lightgcn_errors(void)
{
    lgcn_dataset ds;
    const char *tr = td("lightgcn/train.txt"), *ov = td("lightgcn/test-overlap.txt");
    CHECK(lgcn_prep_lightgcn(tr, ov, &ds, NULL) == -1);
    CHECK(err_is(tr, ": line 2 and ", "test-overlap.txt: line 2: user 1, item 2 is in both"));
    CHECK(ds_is_zero(&ds));
    const char *bt = td("lightgcn/bad-token.txt");
    CHECK(lgcn_prep_lightgcn(bt, NULL, &ds, NULL) == -1);
    CHECK(err_is(bt, ": line 1: 'x2' is not an item ID", NULL));
    static const char *bad[] = {"0 1\n1 -2\n", "0 1\n1 2.0\n", "0 1\n1 4294967295\n",
                                "0 1\nu 2\n", "0 1\n1 2,3\n"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const char *t = write_tmp_str(bad[k]);
        CHECK(lgcn_prep_lightgcn(t, NULL, &ds, NULL) == -1);
        CHECK(err_is(t, ": line 2: ", "ID"));
    }
    const char *sparse = write_tmp_str("0 1\n1 4000000000\n");
    CHECK(lgcn_prep_lightgcn(sparse, NULL, &ds, NULL) == -1);
    CHECK(err_is(sparse, ": line 2: item ID 4000000000", "dense"));
    const char *empty = write_tmp_str("\n\n");
    CHECK(lgcn_prep_lightgcn(empty, NULL, &ds, NULL) == -1);
    CHECK(err_is(empty, ": no interactions", NULL));
    CHECK(lgcn_prep_lightgcn("/nonexistent/train.txt", NULL, &ds, NULL) == -1);
    CHECK(err_is("cannot open '/nonexistent/train.txt'", "", NULL));
    CHECK(lgcn_prep_lightgcn(tr, "/nonexistent/test.txt", &ds, NULL) == -1);
    CHECK(err_is("cannot open '/nonexistent/test.txt'", "", NULL));
    CHECK(ds_is_zero(&ds));
}

/* ---- real data (when ../shared/data is present) -------------------------- */

static int have(const char *path) { return access(path, R_OK) == 0; }

static int real_skipped;

static void test_real_ml_latest_small(void)
{
    const char *r = SHARED "/ml-latest-small/ratings.csv", *m = SHARED "/ml-latest-small/movies.csv";
    if (!have(r) || !have(m)) {
        printf("# skip: ../shared/data absent\n");
        real_skipped = 1;
        return;
    }
    lgcn_dataset ds;
    lgcn_prep_stats st;
    double t0 = lgcn_now();
    int rc = prep(r, m, 0.2, 2020, -INFINITY, &ds, &st);
    double dt = lgcn_now() - t0;
    if (rc != 0) {
        printf("#   %s\n", lgcn_errmsg());
        CHECK(0);
        return;
    }
    printf("# ml-latest-small: %.3f s, %u users, %u movies, %llu ratings, %u genres, "
           "step %g, [%g, %g]\n",
           dt, ds.n_users, ds.n_items, (unsigned long long)ds.n_ratings, ds.n_genres,
           ds.rating_step, ds.rating_min, ds.rating_max);
    CHECK(!TIMED || dt < 0.5);
    CHECK(ds.n_users == 610);
    CHECK(ds.n_items == 9742);
    CHECK(ds.n_ratings == 100836);
    CHECK(st.rows == 100836 && st.duplicates == 0 && st.unknown_movies == 0 && st.skipped == 0);
    CHECK(ds.rating_min == 0.5f && ds.rating_max == 5.0f && ds.rating_step == 0.5f);
    CHECK(ds.n_genres == 19);
    printf("# genres:");
    for (uint32_t g = 0; g < ds.n_genres; g++)
        printf(" %s", ds.genre_names[g]);
    printf("\n");
    CHECK(lgcn_dataset_find_genre(&ds, "IMAX") >= 0);
    CHECK_STR(title_of(&ds, 1), "Toy Story (1995)");
    CHECK_STR(title_of(&ds, 11), "American President, The (1995)");
    CHECK(genres_of(&ds, 1) == (genre_bit(&ds, "Adventure") | genre_bit(&ds, "Animation") |
                                genre_bit(&ds, "Children") | genre_bit(&ds, "Comedy") |
                                genre_bit(&ds, "Fantasy")));
    const lgcn_rating *x = find_rating(&ds, 1, 1);
    CHECK(x && x->rating == 4.0f && x->ts == 964982703);
    check_split(&ds, 0.2);
    lgcn_dataset_free(&ds);
}

static void test_real_lightgcn(void)
{
    static const struct {
        const char *dir;
        uint32_t users, items;
        uint64_t train, test;
    } sets[] = {
        {"gowalla", 29858, 40981, 810128, 217242},
        {"ml-latest-small-split", 610, 9724, 80672, 20164},
    };
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        char tr[256], te[256];
        snprintf(tr, sizeof tr, SHARED "/%s/train.txt", sets[k].dir);
        snprintf(te, sizeof te, SHARED "/%s/test.txt", sets[k].dir);
        if (!have(tr) || !have(te)) {
            printf("# skip: ../shared/data absent\n");
            real_skipped = 1;
            continue;
        }
        lgcn_dataset ds;
        lgcn_prep_stats st;
        double t0 = lgcn_now();
        int rc = lgcn_prep_lightgcn(tr, te, &ds, &st);
        double dt = lgcn_now() - t0;
        if (rc != 0) {
            printf("#   %s\n", lgcn_errmsg());
            CHECK(0);
            continue;
        }
        uint64_t c[3];
        lgcn_dataset_count(&ds, c);
        printf("# %s: %.3f s, %u users, %u items, %llu train, %llu test, %llu duplicates\n",
               sets[k].dir, dt, ds.n_users, ds.n_items, (unsigned long long)c[0],
               (unsigned long long)c[1], (unsigned long long)st.duplicates);
        CHECK(!TIMED || dt < 1.0);
        CHECK(ds.n_users == sets[k].users);
        CHECK(ds.n_items == sets[k].items);
        CHECK(c[LGCN_TRAIN] == sets[k].train);
        CHECK(c[LGCN_TEST] == sets[k].test);
        lgcn_dataset_free(&ds);
    }
}

/* RUN, but a skipped real-data test is reported with the TAP directive. */
#define RUN_REAL(fn)                                                                 \
    do {                                                                             \
        real_skipped = 0;                                                            \
        test_failed_checks = 0;                                                      \
        fn();                                                                        \
        test_report(#fn, real_skipped ? "../shared/data absent" : NULL);            \
    } while (0)

int main(void)
{
    RUN(test_ml_counts);
    RUN(test_ml_ids);
    RUN(test_ml_titles);
    RUN(test_ml_genres);
    RUN(test_ml_duplicate_latest_wins);
    RUN(test_ml_scale_half_stars);
    RUN(test_ml_scale_steps);
    RUN(test_ml_no_catalogue);
    RUN(test_ml_blank_lines_ties_unknown);
    RUN(test_ml_movies_repeat);
    RUN(test_ml_crlf_lf_bom_identical);
    RUN(test_ml_multiline_title);
    RUN(test_ml_id_stable);
    RUN(test_split_counts);
    RUN(test_split_seeded);
    RUN(test_split_small_users);
    RUN(test_min_rating_held);
    RUN(test_ml_save_load);
    RUN(test_err_fields);
    RUN(test_err_values);
    RUN(test_err_header);
    RUN(test_err_empty);
    RUN(test_err_quotes);
    RUN(test_err_missing_file);
    RUN(test_err_options);
    RUN(test_err_too_many_genres);
    RUN(test_ml_large_file);
    RUN(test_lightgcn_basic);
    RUN(test_lightgcn_crlf_tabs);
    RUN(test_lightgcn_errors);
    RUN_REAL(test_real_ml_latest_small);
    RUN_REAL(test_real_lightgcn);
    for (int k = 0; k < n_tmp; k++) {
        unlink(tmp_paths[k]);
        free(tmp_paths[k]);
    }
    TEST_EXIT();
}
