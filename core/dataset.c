/* dataset.c - the dataset directory: binary dataset + encoded-ID files. */
#include "dataset.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

#define DS_MAGIC "LGCNDSET"
#define IDS_MAGIC "LGCNIDS\0"
#define DS_VERSION 2 /* 1: ID maps only in the .ids files (pre-release) */
#define IDS_VERSION 2 /* 1: without dataset id and generation */

_Static_assert(sizeof(lgcn_rating) == 24, "lgcn_rating is stored as 24 bytes");

void lgcn_dataset_free(lgcn_dataset *ds)
{
    free(ds->user_raw);
    free(ds->item_raw);
    free(ds->user_by_raw);
    free(ds->item_by_raw);
    free(ds->ratings);
    free(ds->user_off);
    free(ds->genre_names);
    free(ds->genre_blob);
    free(ds->item_genres);
    free(ds->title_blob);
    free(ds->title_off);
    memset(ds, 0, sizeof *ds);
}

/* ---- indexes ----------------------------------------------------------- */

static int cmp_rating(const void *a, const void *b)
{
    const lgcn_rating *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    if (x->item != y->item)
        return x->item < y->item ? -1 : 1;
    return 0;
}

/* (user, item, then input position in ts): for merging repeated pairs */
static int cmp_rating_seq(const void *a, const void *b)
{
    int c = cmp_rating(a, b);
    if (c)
        return c;
    const lgcn_rating *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* qsort has no context argument; the raw-ID array being sorted by is passed
 * through this file-local pointer (indexing is single-threaded). */
static const int64_t *sort_raw;

static int cmp_by_raw(const void *a, const void *b)
{
    int64_t x = sort_raw[*(const uint32_t *)a], y = sort_raw[*(const uint32_t *)b];
    return x < y ? -1 : x > y;
}

/* by_raw = 0..n-1 sorted by raw[]; fails on a repeated raw ID. */
static int index_raw(const int64_t *raw, uint32_t n, uint32_t **by_raw, const char *what)
{
    uint32_t *p = lgcn_malloc((size_t)n * sizeof *p);
    if (!p)
        return -1;
    for (uint32_t i = 0; i < n; i++)
        p[i] = i;
    sort_raw = raw;
    qsort(p, n, sizeof *p, cmp_by_raw);
    for (uint32_t i = 1; i < n; i++)
        if (raw[p[i]] == raw[p[i - 1]]) {
            long long dup = (long long)raw[p[i]];
            free(p);
            return lgcn_error("%s ID %lld appears twice in the ID map", what, dup);
        }
    free(*by_raw);
    *by_raw = p;
    return 0;
}

static int build_user_off(lgcn_dataset *ds)
{
    uint64_t *off = lgcn_calloc((size_t)ds->n_users + 1, sizeof *off);
    if (!off)
        return -1;
    for (uint64_t k = 0; k < ds->n_ratings; k++)
        off[ds->ratings[k].user + 1]++;
    for (uint32_t u = 0; u < ds->n_users; u++)
        off[u + 1] += off[u];
    free(ds->user_off);
    ds->user_off = off;
    return 0;
}

int lgcn_dataset_index(lgcn_dataset *ds)
{
    int sorted = 1;
    for (uint64_t k = 0; k < ds->n_ratings; k++) {
        const lgcn_rating *r = &ds->ratings[k];
        if (r->user >= ds->n_users || r->item >= ds->n_items)
            return lgcn_error("rating %llu refers to user %u / movie %u outside %u users / %u movies",
                              (unsigned long long)k, r->user, r->item, ds->n_users, ds->n_items);
        if (r->side > LGCN_HELD)
            return lgcn_error("rating %llu has an invalid side %u", (unsigned long long)k, r->side);
        if (k && sorted && cmp_rating(r - 1, r) >= 0)
            sorted = 0;
    }
    if (!sorted)
        qsort(ds->ratings, ds->n_ratings, sizeof *ds->ratings, cmp_rating);
    for (uint64_t k = 1; k < ds->n_ratings; k++)
        if (cmp_rating(&ds->ratings[k - 1], &ds->ratings[k]) == 0)
            return lgcn_error("the pair (user %lld, movie %lld) appears twice",
                              (long long)ds->user_raw[ds->ratings[k].user],
                              (long long)ds->item_raw[ds->ratings[k].item]);
    if (build_user_off(ds) != 0 || index_raw(ds->user_raw, ds->n_users, &ds->user_by_raw, "user") != 0 ||
        index_raw(ds->item_raw, ds->n_items, &ds->item_by_raw, "movie") != 0)
        return -1;
    return 0;
}

static int64_t find_raw(const int64_t *raw, const uint32_t *by_raw, uint32_t n, int64_t want)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t v = raw[by_raw[mid]];
        if (v == want)
            return by_raw[mid];
        if (v < want)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

int64_t lgcn_dataset_find_user(const lgcn_dataset *ds, int64_t raw)
{
    return find_raw(ds->user_raw, ds->user_by_raw, ds->n_users, raw);
}

int64_t lgcn_dataset_find_item(const lgcn_dataset *ds, int64_t raw)
{
    return find_raw(ds->item_raw, ds->item_by_raw, ds->n_items, raw);
}

static int ascii_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        int x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y || !x)
            return x - y;
    }
}

int lgcn_dataset_find_genre(const lgcn_dataset *ds, const char *name)
{
    for (uint32_t g = 0; g < ds->n_genres; g++)
        if (ascii_casecmp(ds->genre_names[g], name) == 0)
            return (int)g;
    return -1;
}

const char *lgcn_dataset_title(const lgcn_dataset *ds, uint32_t item)
{
    if (!ds->title_blob || !ds->title_off || item >= ds->n_items)
        return "";
    return ds->title_blob + ds->title_off[item];
}

void lgcn_dataset_count(const lgcn_dataset *ds, uint64_t out[3])
{
    out[0] = out[1] = out[2] = 0;
    for (uint64_t k = 0; k < ds->n_ratings; k++)
        out[ds->ratings[k].side]++;
}

uint64_t lgcn_dataset_fingerprint(const lgcn_dataset *ds)
{
    /* The lineage ID plus the movie universe: stable across lgcn-rate (which
     * only adds users and ratings), different for any other prep. */
    lgcn_hash h;
    lgcn_hash_init(&h);
    lgcn_hash_update(&h, &ds->id, sizeof ds->id);
    lgcn_hash_update(&h, &ds->n_items, sizeof ds->n_items);
    lgcn_hash_update(&h, ds->item_raw, (size_t)ds->n_items * sizeof *ds->item_raw);
    return lgcn_hash_final(&h);
}

/* ---- edits (lgcn-rate) ------------------------------------------------- */

int64_t lgcn_dataset_add_user(lgcn_dataset *ds, int64_t raw)
{
    if (lgcn_dataset_find_user(ds, raw) >= 0)
        return lgcn_error("user %lld already exists", (long long)raw);
    if (ds->n_users == UINT32_MAX - 1)
        return lgcn_error("too many users");
    uint32_t n = ds->n_users;
    int64_t *ur = realloc(ds->user_raw, (size_t)(n + 1) * sizeof *ur);
    if (!ur)
        return lgcn_error("out of memory");
    ds->user_raw = ur;
    uint32_t *by = realloc(ds->user_by_raw, (size_t)(n + 1) * sizeof *by);
    if (!by)
        return lgcn_error("out of memory");
    ds->user_by_raw = by;
    uint64_t *off = realloc(ds->user_off, (size_t)(n + 2) * sizeof *off);
    if (!off)
        return lgcn_error("out of memory");
    ds->user_off = off;
    ur[n] = raw;
    off[n + 1] = off[n];
    /* insert n into the raw-sorted index at its place */
    uint32_t pos = 0, hi = n;
    while (pos < hi) {
        uint32_t mid = pos + (hi - pos) / 2;
        if (ur[by[mid]] < raw)
            pos = mid + 1;
        else
            hi = mid;
    }
    memmove(by + pos + 1, by + pos, (size_t)(n - pos) * sizeof *by);
    by[pos] = n;
    ds->n_users = n + 1;
    return n;
}

/* Position of (u, i) in u's sorted ratings, or where it would go. */
static uint64_t find_pair(const lgcn_dataset *ds, uint32_t u, uint32_t i)
{
    uint64_t lo = ds->user_off[u], hi = ds->user_off[u + 1];
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (ds->ratings[mid].item < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void set_value(lgcn_rating *r, float rating, int64_t ts, float min_rating)
{
    r->rating = rating;
    r->ts = ts;
    if (rating < min_rating)
        r->side = LGCN_HELD;
    else if (r->side == LGCN_HELD)
        r->side = LGCN_TRAIN;
}

int lgcn_dataset_set_ratings(lgcn_dataset *ds, const uint32_t *users, const uint32_t *items,
                             const float *ratings, size_t n, int64_t ts, int *old_side)
{
    lgcn_rating *add = lgcn_malloc((n ? n : 1) * sizeof *add);
    if (!add)
        return -1;
    size_t n_add = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t u = users[k], i = items[k];
        if (u >= ds->n_users || i >= ds->n_items) {
            free(add);
            return lgcn_error("internal: rating for user %u / movie %u out of range", u, i);
        }
        uint64_t p = find_pair(ds, u, i);
        if (p < ds->user_off[u + 1] && ds->ratings[p].item == i) {
            if (old_side)
                old_side[k] = (int)ds->ratings[p].side;
            set_value(&ds->ratings[p], ratings[k], ts, ds->min_rating);
            continue;
        }
        /* a new pair; ts temporarily holds the input position, so that
         * after sorting the last of repeated pairs can be kept */
        if (old_side)
            old_side[k] = -1;
        add[n_add] = (lgcn_rating){.user = u, .item = i, .side = LGCN_TRAIN, .ts = (int64_t)k};
        set_value(&add[n_add], ratings[k], (int64_t)k, ds->min_rating);
        n_add++;
    }
    if (n_add) {
        qsort(add, n_add, sizeof *add, cmp_rating_seq);
        /* a pair new to the dataset but given again later in the batch: the
         * later occurrence replaces the earlier one */
        if (old_side)
            for (size_t q = 1; q < n_add; q++)
                if (add[q].user == add[q - 1].user && add[q].item == add[q - 1].item)
                    old_side[add[q].ts] = (int)add[q - 1].side;
        size_t kept = 0;
        for (size_t q = 0; q < n_add; q++) {
            if (kept && add[kept - 1].user == add[q].user && add[kept - 1].item == add[q].item)
                kept--; /* a later value of the same pair replaces it */
            add[kept++] = add[q];
        }
        n_add = kept;
        for (size_t q = 0; q < n_add; q++)
            add[q].ts = ts;
        uint64_t total = ds->n_ratings + n_add;
        lgcn_rating *merged = lgcn_malloc((size_t)total * sizeof *merged);
        if (!merged) {
            free(add);
            return -1;
        }
        /* merge two sorted runs */
        uint64_t a = 0, o = 0;
        size_t b = 0;
        while (a < ds->n_ratings || b < n_add)
            merged[o++] = (b == n_add || (a < ds->n_ratings && cmp_rating(&ds->ratings[a], &add[b]) < 0))
                              ? ds->ratings[a++]
                              : add[b++];
        free(ds->ratings);
        ds->ratings = merged;
        ds->n_ratings = ds->cap_ratings = total;
        if (build_user_off(ds) != 0) {
            free(add);
            return -1;
        }
    }
    free(add);
    return 0;
}

int lgcn_dataset_set_rating(lgcn_dataset *ds, uint32_t u, uint32_t i, float rating, int64_t ts,
                            int *old_side)
{
    return lgcn_dataset_set_ratings(ds, &u, &i, &rating, 1, ts, old_side);
}

/* ---- files ------------------------------------------------------------- */

static int save_ids(const char *dir, const char *name, uint32_t kind, const lgcn_dataset *ds,
                    const int64_t *raw, uint32_t n)
{
    char *path = lgcn_path_join(dir, name);
    if (!path)
        return -1;
    lgcn_writer w;
    int rc = lgcn_writer_open(&w, path, IDS_MAGIC, IDS_VERSION);
    if (rc == 0) {
        lgcn_writer_u32(&w, kind);
        lgcn_writer_u32(&w, 0);
        lgcn_writer_u64(&w, ds->id);
        lgcn_writer_u64(&w, ds->generation);
        lgcn_writer_u64(&w, n);
        lgcn_writer_put(&w, raw, (size_t)n * sizeof *raw);
        rc = lgcn_writer_commit(&w);
    }
    free(path);
    return rc;
}

int lgcn_dataset_save(const char *dir, const lgcn_dataset *ds)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return lgcn_error_errno("cannot create directory '%s'", dir);
    char *path = lgcn_path_join(dir, "dataset.lgcn");
    if (!path)
        return -1;
    lgcn_writer w;
    if (lgcn_writer_open(&w, path, DS_MAGIC, DS_VERSION) != 0) {
        free(path);
        return -1;
    }
    free(path);
    static const char empty[1] = {0};
    uint64_t genre_len = 0;
    for (uint32_t g = 0; g < ds->n_genres; g++)
        genre_len += strlen(ds->genre_names[g]) + 1;
    const char *titles = ds->title_blob ? ds->title_blob : empty;
    uint64_t title_len = ds->title_blob ? ds->title_blob_len : 1;

    lgcn_writer_u64(&w, ds->id);
    lgcn_writer_u64(&w, ds->generation);
    lgcn_writer_u32(&w, ds->flags);
    lgcn_writer_u32(&w, ds->n_users);
    lgcn_writer_u32(&w, ds->n_items);
    lgcn_writer_u32(&w, ds->n_genres);
    lgcn_writer_u64(&w, ds->n_ratings);
    lgcn_writer_f32(&w, ds->rating_min);
    lgcn_writer_f32(&w, ds->rating_max);
    lgcn_writer_f32(&w, ds->rating_step);
    lgcn_writer_f32(&w, ds->min_rating);
    lgcn_writer_u64(&w, genre_len);
    lgcn_writer_u64(&w, title_len);
    lgcn_writer_put(&w, ds->user_raw, (size_t)ds->n_users * sizeof *ds->user_raw);
    lgcn_writer_put(&w, ds->item_raw, (size_t)ds->n_items * sizeof *ds->item_raw);
    lgcn_writer_put(&w, ds->ratings, (size_t)ds->n_ratings * sizeof *ds->ratings);
    for (uint32_t i = 0; i < ds->n_items; i++) {
        uint64_t gm = ds->item_genres ? ds->item_genres[i] : 0;
        uint64_t to = ds->title_off && ds->title_blob ? ds->title_off[i] : 0;
        lgcn_writer_u64(&w, gm);
        lgcn_writer_u64(&w, to);
    }
    for (uint32_t g = 0; g < ds->n_genres; g++)
        lgcn_writer_put(&w, ds->genre_names[g], strlen(ds->genre_names[g]) + 1);
    lgcn_writer_put(&w, titles, title_len);
    if (lgcn_writer_commit(&w) != 0)
        return -1;
    /* The encoded-ID files are exports of the maps for other tools; they
     * name the dataset id and generation they belong to. */
    if (save_ids(dir, "users.ids", 0, ds, ds->user_raw, ds->n_users) != 0 ||
        save_ids(dir, "movies.ids", 1, ds, ds->item_raw, ds->n_items) != 0)
        return -1;
    return 0;
}

int lgcn_dataset_peek(const char *dir, uint64_t *id, uint64_t *generation)
{
    char *path = lgcn_path_join(dir, "dataset.lgcn");
    if (!path)
        return -1;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int rc = lgcn_error_errno("cannot open '%s'", path);
        free(path);
        return rc;
    }
    unsigned char h[32];
    uint32_t ver, endian;
    int ok = fread(h, 1, sizeof h, f) == sizeof h && memcmp(h, DS_MAGIC, 8) == 0;
    fclose(f);
    if (ok) {
        memcpy(&ver, h + 8, 4);
        memcpy(&endian, h + 12, 4);
        ok = endian == LGCN_ENDIAN_MARK && ver == DS_VERSION;
    }
    if (!ok) {
        int rc = lgcn_error("'%s' is not an lgcn dataset file", path);
        free(path);
        return rc;
    }
    memcpy(id, h + 16, 8);
    memcpy(generation, h + 24, 8);
    free(path);
    return 0;
}

int lgcn_dataset_load(const char *dir, lgcn_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    char *path = lgcn_path_join(dir, "dataset.lgcn");
    if (!path)
        return -1;
    struct stat st;
    if (stat(dir, &st) != 0) {
        int rc = lgcn_error_errno("cannot open dataset directory '%s'", dir);
        free(path);
        return rc;
    }
    lgcn_reader r;
    if (lgcn_reader_open(&r, path, DS_MAGIC, DS_VERSION, "dataset") != 0) {
        free(path);
        return -1;
    }
    if (r.version < DS_VERSION) {
        lgcn_error("'%s' was written by an earlier lgcn (dataset format %u); run lgcn-prep again",
                   path, r.version);
        lgcn_reader_close(&r);
        free(path);
        return -1;
    }
    int rc = -1;
    uint64_t genre_len, title_len;
    if (lgcn_reader_u64(&r, &ds->id) || lgcn_reader_u64(&r, &ds->generation) ||
        lgcn_reader_u32(&r, &ds->flags) || lgcn_reader_u32(&r, &ds->n_users) ||
        lgcn_reader_u32(&r, &ds->n_items) || lgcn_reader_u32(&r, &ds->n_genres) ||
        lgcn_reader_u64(&r, &ds->n_ratings) || lgcn_reader_f32(&r, &ds->rating_min) ||
        lgcn_reader_f32(&r, &ds->rating_max) || lgcn_reader_f32(&r, &ds->rating_step) ||
        lgcn_reader_f32(&r, &ds->min_rating) || lgcn_reader_u64(&r, &genre_len) ||
        lgcn_reader_u64(&r, &title_len))
        goto out;
    /* Every section size must add up to exactly what the file holds before
     * anything is allocated (each term is bounded first, so no overflow). */
    size_t left = lgcn_reader_left(&r);
    if (ds->n_ratings > left / sizeof(lgcn_rating) || (uint64_t)ds->n_items > left / 24 ||
        (uint64_t)ds->n_users > left / 8 || genre_len > left || title_len > left ||
        ds->n_genres > LGCN_MAX_GENRES ||
        (uint64_t)ds->n_users * 8 + ds->n_ratings * sizeof(lgcn_rating) + (uint64_t)ds->n_items * 24 +
                genre_len + title_len != left ||
        title_len == 0) {
        lgcn_error("'%s': section sizes do not match the file size (corrupt header)", path);
        goto out;
    }
    ds->cap_ratings = ds->n_ratings;
    ds->user_raw = lgcn_malloc((size_t)ds->n_users * 8);
    ds->item_raw = lgcn_malloc((size_t)ds->n_items * 8);
    ds->ratings = lgcn_malloc((size_t)ds->n_ratings * sizeof *ds->ratings);
    ds->item_genres = lgcn_malloc((size_t)ds->n_items * 8);
    ds->title_off = lgcn_malloc((size_t)ds->n_items * 8);
    ds->genre_blob = lgcn_malloc(genre_len + 1);
    ds->genre_names = lgcn_calloc(ds->n_genres + 1, sizeof(char *));
    ds->title_blob = lgcn_malloc(title_len);
    if (!ds->user_raw || !ds->item_raw || !ds->ratings || !ds->item_genres || !ds->title_off || !ds->genre_blob || !ds->genre_names ||
        !ds->title_blob)
        goto out;
    lgcn_reader_get(&r, ds->user_raw, (size_t)ds->n_users * 8);
    lgcn_reader_get(&r, ds->item_raw, (size_t)ds->n_items * 8);
    lgcn_reader_get(&r, ds->ratings, (size_t)ds->n_ratings * sizeof *ds->ratings);
    for (uint32_t i = 0; i < ds->n_items; i++) {
        lgcn_reader_u64(&r, &ds->item_genres[i]);
        lgcn_reader_u64(&r, &ds->title_off[i]);
        if (ds->title_off[i] >= title_len ||
            (ds->n_genres < 64 && (ds->item_genres[i] >> ds->n_genres) != 0)) {
            lgcn_error("'%s': movie %u has an invalid title offset or genre set", path, i);
            goto out;
        }
    }
    lgcn_reader_get(&r, ds->genre_blob, genre_len);
    ds->genre_blob[genre_len] = 0;
    lgcn_reader_get(&r, ds->title_blob, title_len);
    ds->title_blob_len = title_len;
    if (ds->title_blob[title_len - 1] != 0) {
        lgcn_error("'%s': the title table is not terminated", path);
        goto out;
    }
    {
        char *p = ds->genre_blob, *end = ds->genre_blob + genre_len;
        for (uint32_t g = 0; g < ds->n_genres; g++) {
            if (p >= end) {
                lgcn_error("'%s': the genre table is short", path);
                goto out;
            }
            ds->genre_names[g] = p;
            p += strlen(p) + 1;
        }
        if (p != end) {
            lgcn_error("'%s': the genre table has trailing bytes", path);
            goto out;
        }
    }
    if (lgcn_reader_end(&r) != 0)
        goto out;
    if (lgcn_dataset_index(ds) != 0) {
        char msg[900];
        snprintf(msg, sizeof msg, "%s", lgcn_errmsg());
        lgcn_error("'%s': %s", path, msg);
        goto out;
    }
    rc = 0;
out:
    lgcn_reader_close(&r);
    free(path);
    if (rc != 0)
        lgcn_dataset_free(ds);
    return rc;
}
