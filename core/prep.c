/* prep.c - see prep.h.
 *
 * MovieLens import in four steps:
 *   1. stream ratings.csv (and movies.csv) through libcsv into flat arrays of
 *      raw rows, keyed by the original int64 IDs;
 *   2. sort the raw ratings by (user, movie, timestamp, row) so duplicates
 *      are adjacent and the latest one is last, and keep one per pair;
 *   3. give users and movies dense internal IDs in ascending original-ID
 *      order: users by walking the sorted ratings, movies by merging the
 *      sorted, deduplicated catalogue and rated-movie lists; ratings map
 *      their movie by binary search.  Nothing is ever indexed by a raw ID,
 *      so memory scales with the number of rows, not with the largest ID;
 *   4. split each user's interactions with a seeded shuffle.
 * The raw rating rows (32 bytes) are converted in place into lgcn_rating
 * (24 bytes) so the peak memory is one copy of the ratings plus small
 * per-movie arrays. */
#define _GNU_SOURCE
#include "prep.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "util.h"

#define CHUNK_SIZE (64 * 1024)
/* Fields stored per CSV record; extra fields are only counted, which is all
 * the "expected N fields, found M" message needs. */
#define MAX_FIELDS 8
/* Longest excerpt of a bad field quoted in an error message. */
#define SHOW_MAX 40

/* Grow *p (an array of elem-byte items with capacity *cap) to hold at least
 * need items, doubling so appends are amortised O(1). */
static int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
    void **p = pp;
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return lgcn_error("out of memory (array of %zu items)", need);
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    if (!q)
        return lgcn_error("out of memory (%zu bytes)", c * elem);
    *p = q;
    *cap = c;
    return 0;
}

/* ---- streaming CSV reader ---------------------------------------------
 * libcsv delivers fields (cb1) and record ends (cb2) from inside csv_parse.
 * We feed it one physical line at a time (cutting each 64 KiB block at its
 * newlines) so that the line counter is exact when a callback fires; a
 * record whose quoted field spans lines is located by subtracting the
 * newlines found in its fields.  Callbacks cannot stop csv_parse, so they
 * record a failure and the driver stops after the current line. */

typedef struct csv_reader csv_reader;
typedef int (*row_fn)(csv_reader *r, void *user);

struct csv_reader {
    const char *path;
    const char *const *header; /* expected column names */
    int ncols;
    row_fn on_row;
    void *user;
    lgcn_hash *hash;           /* every byte read is hashed into the dataset id */

    uint64_t line;             /* physical line being parsed, 1-based */
    uint64_t row_line;         /* first line of the record being handled */
    uint64_t last_end_line;    /* line on which the last record ended */
    uint64_t data_rows;
    int seen_header;
    int failed;

    /* the current record: field k is buf[off[k] .. off[k] + len[k]) */
    char *buf;
    size_t buf_len, buf_cap;
    size_t off[MAX_FIELDS], len[MAX_FIELDS];
    int nf;                    /* fields seen, may exceed MAX_FIELDS */
    uint64_t nl_in_fields;     /* newlines inside quoted fields */
};

/* Keep spaces: RFC 4180 says they belong to the field, and titles may end
 * in one.  Numeric fields are then parsed strictly, so " 5" is an error
 * instead of being silently accepted. */
static int csv_no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static int row_error(csv_reader *r, const char *fmt, ...) LGCN_PRINTF(2, 3);
static int row_error(csv_reader *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->failed = 1;
    return lgcn_error("%s: line %llu: %s", r->path, (unsigned long long)r->row_line, msg);
}

/* ASCII case-insensitive equality of a[0..n) and b[0..n): column and genre
 * names are ASCII, and strcasecmp would follow the locale. */
static int ascii_caseeq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y)
            return 0;
    }
    return 1;
}

static const char *field(const csv_reader *r, int k) { return r->buf + r->off[k]; }

/* s[0..n) quoted in a message: at most SHOW_MAX bytes, control characters
 * as '?' so a stray CR or tab cannot garble the terminal line. */
typedef struct {
    char s[SHOW_MAX + 1];
} excerpt;

static excerpt show(const char *s, size_t n)
{
    excerpt e;
    if (n > SHOW_MAX)
        n = SHOW_MAX;
    for (size_t i = 0; i < n; i++)
        e.s[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    e.s[n] = 0;
    return e;
}

static excerpt show_field(const csv_reader *r, int k) { return show(field(r, k), r->len[k]); }

static void csv_cb_field(void *s, size_t n, void *data)
{
    csv_reader *r = data;
    if (r->failed)
        return;
    const char *p = s;
    for (const char *q = p; (q = memchr(q, '\n', n - (size_t)(q - p))) != NULL; q++)
        r->nl_in_fields++;
    if (r->nf < MAX_FIELDS) {
        /* +1 for a NUL so fields can be used as C strings */
        if (grow(&r->buf, &r->buf_cap, r->buf_len + n + 1, 1) != 0) {
            r->failed = 1;
            return;
        }
        memcpy(r->buf + r->buf_len, p, n);
        r->buf[r->buf_len + n] = 0;
        r->off[r->nf] = r->buf_len;
        r->len[r->nf] = n;
        r->buf_len += n + 1;
    }
    r->nf++;
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
            return 0;
    return 1;
}

/* Append s[0..n) to the NUL-terminated text in buf[size], truncating. */
static void append(char *buf, size_t size, const char *s, size_t n)
{
    size_t at = strlen(buf);
    if (n > size - 1 - at)
        n = size - 1 - at;
    memcpy(buf + at, s, n);
    buf[at + n] = 0;
}

static void expected_header(const csv_reader *r, char *buf, size_t size)
{
    buf[0] = 0;
    for (int k = 0; k < r->ncols; k++) {
        if (k)
            append(buf, size, ",", 1);
        append(buf, size, r->header[k], strlen(r->header[k]));
    }
}

static int check_header(csv_reader *r)
{
    int ok = r->nf == r->ncols;
    for (int k = 0; ok && k < r->ncols; k++)
        ok = r->len[k] == strlen(r->header[k]) && ascii_caseeq(field(r, k), r->header[k], r->len[k]);
    if (ok)
        return 0;
    char want[128], found[128] = "";
    expected_header(r, want, sizeof want);
    for (int k = 0; k < r->nf && k < MAX_FIELDS; k++) {
        if (k)
            append(found, sizeof found, ",", 1);
        append(found, sizeof found, show_field(r, k).s, strlen(show_field(r, k).s));
    }
    return row_error(r, "expected the header '%s', found '%s'", want, found);
}

static void csv_cb_row(int c, void *data)
{
    (void)c;
    csv_reader *r = data;
    if (r->failed)
        return;
    r->row_line = r->line - r->nl_in_fields;
    r->last_end_line = r->line;
    /* libcsv skips empty lines itself; a line of blanks arrives as one
     * blank field, and is skipped the same way. */
    if (!(r->nf == 1 && is_blank(field(r, 0), r->len[0]))) {
        /* a NUL would silently cut a field short wherever it is read as a
         * C string: refuse the row */
        for (int k = 0; k < r->nf && k < MAX_FIELDS; k++)
            if (memchr(field(r, k), 0, r->len[k])) {
                row_error(r, "field %d contains a NUL byte", k + 1);
                return;
            }
        if (!r->seen_header) {
            if (check_header(r) == 0)
                r->seen_header = 1;
        } else {
            r->data_rows++;
            if (r->on_row(r, r->user) != 0)
                r->failed = 1;
        }
    }
    r->nf = 0;
    r->buf_len = 0;
    r->nl_in_fields = 0;
}

static int csv_read(csv_reader *r)
{
    FILE *f = fopen(r->path, "rb");
    if (!f)
        return lgcn_error_errno("cannot open '%s'", r->path);
    struct csv_parser p;
    char *chunk = lgcn_malloc(CHUNK_SIZE);
    int rc = -1;
    if (!chunk || csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        if (chunk)
            lgcn_error("out of memory");
        free(chunk);
        fclose(f);
        return -1;
    }
    csv_set_space_func(&p, csv_no_space);
    r->line = 1;
    int first = 1;
    size_t n;
    while ((n = fread(chunk, 1, CHUNK_SIZE, f)) > 0) {
        lgcn_hash_update(r->hash, chunk, n);
        const char *s = chunk, *end = chunk + n;
        /* A UTF-8 byte-order mark is not part of the first column name. */
        if (first && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3;
        first = 0;
        while (s < end) {
            const char *nl = memchr(s, '\n', (size_t)(end - s));
            size_t len = (size_t)((nl ? nl + 1 : end) - s);
            if (csv_parse(&p, s, len, csv_cb_field, csv_cb_row, r) != len && !r->failed) {
                if (csv_error(&p) == CSV_EPARSE)
                    lgcn_error("%s: line %llu: malformed CSV (a quote inside an unquoted "
                               "field, or text after a closing quote)",
                               r->path, (unsigned long long)r->line);
                else
                    lgcn_error("%s: line %llu: %s", r->path, (unsigned long long)r->line,
                               csv_strerror(csv_error(&p)));
                r->failed = 1;
            }
            if (r->failed)
                goto out;
            if (nl)
                r->line++;
            s += len;
        }
    }
    if (ferror(f)) {
        lgcn_error_errno("%s: read error", r->path);
        goto out;
    }
    /* No newline after the last record: csv_fini delivers it. */
    if (csv_fini(&p, csv_cb_field, csv_cb_row, r) != 0) {
        lgcn_error("%s: line %llu: unterminated quoted field", r->path,
                   (unsigned long long)r->last_end_line + 1);
        goto out;
    }
    if (r->failed)
        goto out;
    if (!r->seen_header) {
        char want[128];
        expected_header(r, want, sizeof want);
        lgcn_error("%s: empty file (expected the header '%s')", r->path, want);
        goto out;
    }
    if (r->data_rows == 0) {
        lgcn_error("%s: no data rows after the header", r->path);
        goto out;
    }
    rc = 0;
out:
    csv_free(&p);
    free(chunk);
    free(r->buf);
    r->buf = NULL;
    r->buf_cap = r->buf_len = 0;
    fclose(f);
    return rc;
}

/* ---- ratings.csv -------------------------------------------------------- */

typedef struct {
    int64_t user, item, ts;
    float rating;
    uint32_t seq; /* row number: equal timestamps resolve to the later row */
} raw_rating;     /* 32 bytes; converted in place to lgcn_rating (24) */
_Static_assert(sizeof(raw_rating) >= sizeof(lgcn_rating) &&
                   _Alignof(raw_rating) >= _Alignof(lgcn_rating),
               "in-place conversion needs raw rows at least as big as lgcn_rating");

typedef struct {
    raw_rating *v;
    size_t n, cap;
    double min, max;
    int all_int, all_half, all_tenth;
} ratings_in;

static int parse_id(csv_reader *r, int k, const char *what, int64_t *out)
{
    if (lgcn_parse_i64n(field(r, k), r->len[k], out) != 0)
        return row_error(r, "%s '%s' is not an integer", what, show_field(r, k).s);
    return 0;
}

/* Within 1e-6 of a multiple of 1/k. */
static int multiple_of(double v, double k) { return fabs(v * k - round(v * k)) <= 1e-6 * k; }

static int ratings_row(csv_reader *r, void *user)
{
    ratings_in *in = user;
    if (r->nf != 4)
        return row_error(r, "expected 4 fields (userId,movieId,rating,timestamp), found %d",
                         r->nf);
    raw_rating x;
    double v;
    if (parse_id(r, 0, "userId", &x.user) != 0 || parse_id(r, 1, "movieId", &x.item) != 0)
        return -1;
    if (lgcn_parse_f64n(field(r, 2), r->len[2], &v) != 0 || !isfinite((float)v))
        return row_error(r, "rating '%s' is not a finite number", show_field(r, 2).s);
    if (parse_id(r, 3, "timestamp", &x.ts) != 0)
        return -1;
    if (in->n >= UINT32_MAX)
        return row_error(r, "too many rows (at most %u)", UINT32_MAX);
    x.rating = (float)v;
    x.seq = (uint32_t)in->n;
    if (grow(&in->v, &in->cap, in->n + 1, sizeof *in->v) != 0) {
        r->failed = 1;
        return -1;
    }
    in->v[in->n++] = x;
    if (in->n == 1 || v < in->min)
        in->min = v;
    if (in->n == 1 || v > in->max)
        in->max = v;
    in->all_int = in->all_int && multiple_of(v, 1);
    in->all_half = in->all_half && multiple_of(v, 2);
    in->all_tenth = in->all_tenth && multiple_of(v, 10);
    return 0;
}

static int cmp_raw_rating(const void *a, const void *b)
{
    const raw_rating *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    if (x->item != y->item)
        return x->item < y->item ? -1 : 1;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* ---- movies.csv --------------------------------------------------------- */

typedef struct {
    int64_t id;
    uint64_t title;   /* offset in catalogue.titles */
    uint64_t genres;  /* bits in first-seen genre order, remapped later */
    uint32_t seq;
} movie_row;

typedef struct {
    movie_row *v;
    size_t n, cap;
    char *titles;     /* NUL-terminated titles, in file order */
    size_t titles_len, titles_cap;
    char *genre[LGCN_MAX_GENRES]; /* names, first-seen order (owned) */
    int n_genres;
} catalogue;

/* Index of genre name s[0..n) (ASCII case-insensitive, since lookups by
 * name are), adding it when new. */
static int genre_index(csv_reader *r, catalogue *c, const char *s, size_t n)
{
    for (int g = 0; g < c->n_genres; g++)
        if (strlen(c->genre[g]) == n && ascii_caseeq(c->genre[g], s, n))
            return g;
    if (c->n_genres == LGCN_MAX_GENRES)
        return row_error(r, "more than %d distinct genres (at '%s')", LGCN_MAX_GENRES,
                         show(s, n).s);
    char *name = strndup(s, n);
    if (!name) {
        r->failed = 1;
        return lgcn_error("out of memory");
    }
    c->genre[c->n_genres] = name;
    return c->n_genres++;
}

static int movies_row(csv_reader *r, void *user)
{
    catalogue *c = user;
    if (r->nf != 3)
        return row_error(r, "expected 3 fields (movieId,title,genres), found %d", r->nf);
    movie_row m = {0};
    if (parse_id(r, 0, "movieId", &m.id) != 0)
        return -1;
    if (c->n >= UINT32_MAX)
        return row_error(r, "too many rows (at most %u)", UINT32_MAX);
    m.seq = (uint32_t)c->n;

    /* Genres: '|'-separated; "(no genres listed)" is MovieLens for none. */
    const char *g = field(r, 2), *gend = g + r->len[2];
    while (g < gend) {
        const char *bar = memchr(g, '|', (size_t)(gend - g));
        const char *e = bar ? bar : gend;
        const char *a = g;
        while (a < e && (*a == ' ' || *a == '\t'))
            a++;
        while (e > a && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        size_t n = (size_t)(e - a);
        static const char none[] = "(no genres listed)";
        if (n > 0 && !(n == sizeof none - 1 && ascii_caseeq(a, none, n))) {
            int k = genre_index(r, c, a, n);
            if (k < 0)
                return -1;
            m.genres |= 1ull << k;
        }
        g = bar ? bar + 1 : gend;
    }

    size_t tl = r->len[1];
    if (grow(&c->titles, &c->titles_cap, c->titles_len + tl + 1, 1) != 0 ||
        grow(&c->v, &c->cap, c->n + 1, sizeof *c->v) != 0) {
        r->failed = 1;
        return -1;
    }
    /* The title blob is NUL-separated: a NUL inside a title would cut it. */
    char *t = c->titles + c->titles_len;
    memcpy(t, field(r, 1), tl);
    for (size_t i = 0; i < tl; i++)
        if (t[i] == 0)
            t[i] = ' ';
    t[tl] = 0;
    m.title = c->titles_len;
    c->titles_len += tl + 1;
    c->v[c->n++] = m;
    return 0;
}

static int cmp_movie_row(const void *a, const void *b)
{
    const movie_row *x = a, *y = b;
    if (x->id != y->id)
        return x->id < y->id ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int is_sorted(const void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    const char *p = v;
    for (size_t k = 1; k < n; k++)
        if (cmp(p + (k - 1) * size, p + k * size) > 0)
            return 0;
    return 1;
}

/* First index with a[k] >= x in the sorted a[0..n). */
static size_t lower_bound(const int64_t *a, size_t n, int64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static const catalogue *sort_catalogue; /* qsort has no context argument */

/* Alphabetical: ASCII case-folded, then bytewise ("IMAX" after "Horror"). */
static int cmp_genre_name(const void *a, const void *b)
{
    const unsigned char *x = (const unsigned char *)sort_catalogue->genre[*(const int *)a];
    const unsigned char *y = (const unsigned char *)sort_catalogue->genre[*(const int *)b];
    for (size_t i = 0;; i++) {
        int p = x[i] >= 'A' && x[i] <= 'Z' ? x[i] + 32 : x[i];
        int q = y[i] >= 'A' && y[i] <= 'Z' ? y[i] + 32 : y[i];
        if (p != q)
            return p - q;
        if (!p)
            return strcmp((const char *)x, (const char *)y);
    }
}

/* Move the genre names that some kept movie has into ds (sorted
 * alphabetically) and return in remap[old] the new index of each
 * first-seen-order genre. A genre seen only on a dropped repeat row of
 * movies.csv is left out, so every listed genre has movies. */
static int build_genres(catalogue *c, lgcn_dataset *ds, int remap[LGCN_MAX_GENRES])
{
    int order[LGCN_MAX_GENRES], n_used = 0;
    uint64_t used = 0;
    for (size_t a = 0; a < c->n; a++)
        used |= c->v[a].genres;
    size_t blob = 0;
    for (int g = 0; g < c->n_genres; g++) {
        remap[g] = -1;
        if (used >> g & 1) {
            order[n_used++] = g;
            blob += strlen(c->genre[g]) + 1;
        }
    }
    sort_catalogue = c;
    qsort(order, (size_t)n_used, sizeof *order, cmp_genre_name);
    ds->n_genres = (uint32_t)n_used;
    if (n_used == 0)
        return 0;
    ds->genre_blob = lgcn_malloc(blob);
    ds->genre_names = lgcn_calloc((size_t)n_used, sizeof *ds->genre_names);
    if (!ds->genre_blob || !ds->genre_names)
        return -1;
    size_t at = 0;
    for (int k = 0; k < n_used; k++) {
        const char *name = c->genre[order[k]];
        size_t n = strlen(name) + 1;
        memcpy(ds->genre_blob + at, name, n);
        ds->genre_names[k] = ds->genre_blob + at;
        remap[order[k]] = k;
        at += n;
    }
    return 0;
}

static uint64_t remap_genres(uint64_t m, const int remap[LGCN_MAX_GENRES])
{
    uint64_t out = 0;
    while (m) {
        int g = __builtin_ctzll(m);
        out |= 1ull << remap[g];
        m &= m - 1;
    }
    return out;
}

/* ---- split -------------------------------------------------------------- */

/* Per user, in internal (= ascending original) order: the user's
 * interactions (non-HELD, in internal movie order) are shuffled with a
 * Durstenfeld Fisher-Yates pass (j = below(i + 1) for i = n-1 down to 1,
 * one rng shared by all users and seeded once) and the first
 * k = min(floor(frac * n + 0.5), n - 1) of the shuffled order go to test. */
static int split(lgcn_dataset *ds, double frac, uint64_t seed)
{
    if (frac <= 0)
        return 0;
    uint64_t most = 0;
    for (uint32_t u = 0; u < ds->n_users; u++)
        if (ds->user_off[u + 1] - ds->user_off[u] > most)
            most = ds->user_off[u + 1] - ds->user_off[u];
    uint64_t *idx = lgcn_malloc(most * sizeof *idx);
    if (!idx)
        return -1;
    lgcn_rng rng;
    lgcn_rng_seed(&rng, seed);
    for (uint32_t u = 0; u < ds->n_users; u++) {
        uint64_t n = 0;
        for (uint64_t r = ds->user_off[u]; r < ds->user_off[u + 1]; r++)
            if (ds->ratings[r].side != LGCN_HELD)
                idx[n++] = r;
        if (n < 2)
            continue;
        for (uint64_t i = n - 1; i > 0; i--) {
            uint64_t j = lgcn_rng_below(&rng, i + 1);
            uint64_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        uint64_t k = (uint64_t)floor(frac * (double)n + 0.5);
        if (k > n - 1)
            k = n - 1;
        for (uint64_t i = 0; i < k; i++)
            ds->ratings[idx[i]].side = LGCN_TEST;
    }
    free(idx);
    return 0;
}

static uint64_t finish_id(lgcn_hash *h, const void *extra, size_t n)
{
    lgcn_hash_update(h, extra, n);
    uint64_t id = lgcn_hash_final(h);
    return id ? id : 1;
}

/* ---- MovieLens ---------------------------------------------------------- */

static const char *const ratings_header[] = {"userId", "movieId", "rating", "timestamp"};
static const char *const movies_header[] = {"movieId", "title", "genres"};

int lgcn_prep_movielens(const lgcn_prep_opts *o, lgcn_dataset *ds, lgcn_prep_stats *st)
{
    lgcn_prep_stats st_local;
    if (!st)
        st = &st_local;
    memset(st, 0, sizeof *st);
    memset(ds, 0, sizeof *ds);
    if (!o || !o->ratings_path)
        return lgcn_error("no ratings file given");
    if (!(o->test_frac >= 0 && o->test_frac < 1))
        return lgcn_error("test fraction %g is not in [0, 1)", o->test_frac);
    if (isnan(o->min_rating))
        return lgcn_error("minimum rating is not a number");

    ratings_in in = {.all_int = 1, .all_half = 1, .all_tenth = 1};
    catalogue cat = {0};
    int64_t *rated = NULL;
    int rc = -1;
    lgcn_hash h;
    lgcn_hash_init(&h);

    csv_reader rr = {.path = o->ratings_path, .header = ratings_header, .ncols = 4,
                     .on_row = ratings_row, .user = &in, .hash = &h};
    if (csv_read(&rr) != 0)
        goto out;
    st->rows = rr.data_rows;
    if (o->movies_path) {
        csv_reader mr = {.path = o->movies_path, .header = movies_header, .ncols = 3,
                         .on_row = movies_row, .user = &cat, .hash = &h};
        if (csv_read(&mr) != 0)
            goto out;
        ds->flags |= LGCN_DS_CATALOGUE;
    }

    /* Catalogue: one entry per movieId, the first row wins. */
    if (cat.n) {
        qsort(cat.v, cat.n, sizeof *cat.v, cmp_movie_row);
        size_t w = 0;
        for (size_t k = 0; k < cat.n; k++)
            if (w == 0 || cat.v[k].id != cat.v[w - 1].id)
                cat.v[w++] = cat.v[k];
        if (w < cat.n) {
            st->skipped += cat.n - w;
            lgcn_log("%s: %zu rows repeat an earlier movieId (the first row is kept)",
                     o->movies_path, cat.n - w);
        }
        cat.n = w;
    }

    /* Ratings: one per (user, movie); after the sort the latest timestamp
     * (then the latest row) is the last of each run.  Released MovieLens
     * files are already in (user, movie) order, so the sort is usually
     * skipped. */
    if (!is_sorted(in.v, in.n, sizeof *in.v, cmp_raw_rating))
        qsort(in.v, in.n, sizeof *in.v, cmp_raw_rating);
    size_t n = 0;
    int in_run = 0;
    for (size_t k = 0; k < in.n; k++) {
        if (n && in.v[n - 1].user == in.v[k].user && in.v[n - 1].item == in.v[k].item) {
            st->duplicates += !in_run; /* count pairs, not extra rows */
            in_run = 1;
            in.v[n - 1] = in.v[k];
        } else {
            in_run = 0;
            in.v[n++] = in.v[k];
        }
    }
    if (st->duplicates)
        lgcn_log("%s: %llu (user, movie) pairs are rated more than once (the latest rating "
                 "is kept)",
                 o->ratings_path, (unsigned long long)st->duplicates);

    /* Movies: the union of the catalogue and the rated movies. */
    rated = lgcn_malloc(n * sizeof *rated);
    if (!rated)
        goto out;
    for (size_t k = 0; k < n; k++)
        rated[k] = in.v[k].item;
    if (!is_sorted(rated, n, sizeof *rated, cmp_i64))
        qsort(rated, n, sizeof *rated, cmp_i64);
    size_t n_rated = 0;
    for (size_t k = 0; k < n; k++)
        if (n_rated == 0 || rated[k] != rated[n_rated - 1])
            rated[n_rated++] = rated[k];
    size_t n_items = 0;
    for (size_t a = 0, b = 0; a < cat.n || b < n_rated;) {
        if (b == n_rated || (a < cat.n && cat.v[a].id < rated[b]))
            a++;
        else if (a == cat.n || rated[b] < cat.v[a].id)
            b++, st->unknown_movies += o->movies_path != NULL;
        else
            a++, b++;
        n_items++;
    }
    if (st->unknown_movies)
        lgcn_log("%s: %llu rated movies are not in %s (kept without title or genres)",
                 o->ratings_path, (unsigned long long)st->unknown_movies, o->movies_path);
    if (n_items > UINT32_MAX - 1) {
        lgcn_error("%s: too many movies (%zu)", o->ratings_path, n_items);
        goto out;
    }

    ds->n_items = (uint32_t)n_items;
    ds->item_raw = lgcn_malloc(n_items * sizeof *ds->item_raw);
    ds->item_genres = lgcn_calloc(n_items, sizeof *ds->item_genres);
    ds->title_off = lgcn_malloc(n_items * sizeof *ds->title_off);
    if (!ds->item_raw || !ds->item_genres || !ds->title_off)
        goto out;
    int remap[LGCN_MAX_GENRES];
    if (build_genres(&cat, ds, remap) != 0)
        goto out;

    /* Titles in internal movie order, each NUL-terminated ("" if unknown). */
    uint64_t blob = 0;
    for (size_t a = 0; a < cat.n; a++)
        blob += strlen(cat.titles + cat.v[a].title);
    blob += n_items;
    ds->title_blob = lgcn_malloc(blob);
    if (!ds->title_blob)
        goto out;
    ds->title_blob_len = blob;
    uint64_t at = 0;
    size_t i = 0;
    for (size_t a = 0, b = 0; a < cat.n || b < n_rated; i++) {
        const char *title = "";
        if (b == n_rated || (a < cat.n && cat.v[a].id <= rated[b])) {
            if (b < n_rated && cat.v[a].id == rated[b])
                b++;
            ds->item_raw[i] = cat.v[a].id;
            ds->item_genres[i] = remap_genres(cat.v[a].genres, remap);
            title = cat.titles + cat.v[a].title;
            a++;
        } else {
            ds->item_raw[i] = rated[b++];
        }
        size_t tl = strlen(title) + 1;
        memcpy(ds->title_blob + at, title, tl);
        ds->title_off[i] = at;
        at += tl;
    }

    /* Users, and the in-place conversion to lgcn_rating. */
    size_t n_users = 0;
    for (size_t k = 0; k < n; k++)
        n_users += k == 0 || in.v[k].user != in.v[k - 1].user;
    if (n_users > UINT32_MAX - 1) {
        lgcn_error("%s: too many users (%zu)", o->ratings_path, n_users);
        goto out;
    }
    ds->n_users = (uint32_t)n_users;
    ds->user_raw = lgcn_malloc(n_users * sizeof *ds->user_raw);
    if (!ds->user_raw)
        goto out;
    float min_rating = (float)o->min_rating;
    lgcn_rating *out = (lgcn_rating *)(void *)in.v;
    uint32_t u = 0;
    for (size_t k = 0; k < n; k++) {
        raw_rating x;
        memcpy(&x, &in.v[k], sizeof x); /* read before out[k] overwrites it */
        if (k && x.user != ds->user_raw[u])
            u++;
        ds->user_raw[u] = x.user;
        lgcn_rating y = {.user = u,
                         .item = (uint32_t)lower_bound(ds->item_raw, n_items, x.item),
                         .rating = x.rating,
                         .side = x.rating < min_rating ? LGCN_HELD : LGCN_TRAIN,
                         .ts = x.ts};
        memcpy(&out[k], &y, sizeof y);
    }
    lgcn_rating *shrunk = realloc(in.v, (n ? n : 1) * sizeof *out);
    ds->ratings = shrunk ? shrunk : out;
    in.v = NULL;
    ds->n_ratings = ds->cap_ratings = n;

    ds->rating_min = (float)in.min;
    ds->rating_max = (float)in.max;
    ds->rating_step = in.all_int ? 1.0f : in.all_half ? 0.5f : in.all_tenth ? 0.1f : 0.0f;
    ds->min_rating = min_rating;
    ds->generation = 0;
    /* The id is a hash of the input bytes and every setting that shaped
     * the dataset: the same prep gives the same id, any change another. */
    uint64_t extra[6] = {o->seed, n, n_users, n_items, 0, 0};
    memcpy(&extra[4], &o->test_frac, sizeof extra[4]);
    memcpy(&extra[5], &o->min_rating, sizeof extra[5]);
    ds->id = finish_id(&h, extra, sizeof extra);

    if (lgcn_dataset_index(ds) != 0)
        goto out;
    {
        uint64_t held = 0;
        for (size_t k = 0; k < n; k++)
            held += ds->ratings[k].side == LGCN_HELD;
        if (held == n) {
            lgcn_error("%s: no rating is >= --min-rating %g, so there is nothing to learn from",
                       o->ratings_path, o->min_rating);
            goto out;
        }
    }
    if (split(ds, o->test_frac, o->seed) != 0)
        goto out;
    rc = 0;
out:
    free(in.v);
    free(cat.v);
    free(cat.titles);
    for (int g = 0; g < cat.n_genres; g++)
        free(cat.genre[g]);
    free(rated);
    if (rc != 0) {
        lgcn_dataset_free(ds);
        memset(ds, 0, sizeof *ds);
    }
    return rc;
}

/* ---- LightGCN text format ------------------------------------------------ */

typedef struct {
    uint32_t user, item;
    uint32_t side;  /* LGCN_TRAIN for train.txt, LGCN_TEST for test.txt */
    uint32_t line;
} lg_pair;

typedef struct {
    lg_pair *v;
    size_t n, cap;
    uint32_t max_user, max_item;
    int any_user, any_item;
    uint64_t max_user_line, max_item_line;
    const char *max_user_path, *max_item_path;
    uint64_t lines;
} lg_in;

/* A dense ID: decimal digits only, below UINT32_MAX so 1 + max still fits. */
static int lg_number(const char **s, const char *end, uint32_t *out)
{
    const char *p = *s;
    uint64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v >= UINT32_MAX)
            return -1;
        p++;
    }
    if (p == *s || (p < end && *p != ' ' && *p != '\t'))
        return -1;
    *s = p;
    *out = (uint32_t)v;
    return 0;
}

static int lg_read(const char *path, uint32_t side, lg_in *in, lgcn_hash *h)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return lgcn_error_errno("cannot open '%s'", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    uint64_t lineno = 0;
    int rc = -1;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        lgcn_hash_update(h, line, (size_t)len);
        const char *p = line, *end = line + len;
        if (end > p && end[-1] == '\n')
            end--;
        if (end > p && end[-1] == '\r')
            end--;
        if (lineno > UINT32_MAX) {
            lgcn_error("%s: too many lines", path);
            goto out;
        }
        int k = 0;
        uint32_t user = 0;
        for (;;) {
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            if (p == end)
                break;
            const char *tok = p;
            uint32_t v;
            if (lg_number(&p, end, &v) != 0) {
                const char *e = tok;
                while (e < end && *e != ' ' && *e != '\t')
                    e++;
                lgcn_error("%s: line %llu: '%s' is not %s ID (a non-negative integer "
                           "below %u)",
                           path, (unsigned long long)lineno, show(tok, (size_t)(e - tok)).s,
                           k ? "an item" : "a user", UINT32_MAX);
                goto out;
            }
            if (k++ == 0) {
                user = v;
                if (!in->any_user || v > in->max_user) {
                    in->max_user = v, in->any_user = 1;
                    in->max_user_line = lineno, in->max_user_path = path;
                }
                in->lines++;
                continue;
            }
            if (!in->any_item || v > in->max_item) {
                in->max_item = v, in->any_item = 1;
                in->max_item_line = lineno, in->max_item_path = path;
            }
            if (grow(&in->v, &in->cap, in->n + 1, sizeof *in->v) != 0)
                goto out;
            in->v[in->n++] = (lg_pair){user, v, side, (uint32_t)lineno};
        }
    }
    if (ferror(f)) {
        lgcn_error_errno("%s: read error", path);
        goto out;
    }
    rc = 0;
out:
    free(line);
    fclose(f);
    return rc;
}

/* One stable counting-sort pass of src into dst by user or by item;
 * cnt has room for nkeys + 1 counters. */
static void count_pass(const lg_pair *src, lg_pair *dst, size_t n, uint64_t *cnt,
                       uint64_t nkeys, int by_user)
{
    memset(cnt, 0, (nkeys + 1) * sizeof *cnt);
    for (size_t k = 0; k < n; k++)
        cnt[(by_user ? src[k].user : src[k].item) + 1]++;
    for (uint64_t key = 0; key < nkeys; key++)
        cnt[key + 1] += cnt[key];
    for (size_t k = 0; k < n; k++)
        dst[cnt[by_user ? src[k].user : src[k].item]++] = src[k];
}

/* Sort the pairs by (user, item, side, line) with two stable counting
 * passes (item, then user): pairs were appended in (side, line) order, so
 * stability supplies the last two keys.  IDs are dense, so the counters are
 * no bigger than the user and item tables; O(n), several times faster than
 * qsort on Gowalla's ~1M pairs. */
static int sort_pairs(lg_in *in, uint64_t n_users, uint64_t n_items)
{
    uint64_t most = n_users > n_items ? n_users : n_items;
    uint64_t *cnt = lgcn_malloc((most + 1) * sizeof *cnt);
    lg_pair *tmp = lgcn_malloc(in->n * sizeof *tmp);
    if (!cnt || !tmp) {
        free(cnt);
        free(tmp);
        return -1;
    }
    count_pass(in->v, tmp, in->n, cnt, n_items, 0);
    count_pass(tmp, in->v, in->n, cnt, n_users, 1);
    free(cnt);
    free(tmp);
    return 0;
}

int lgcn_prep_lightgcn(const char *train_path, const char *test_path, lgcn_dataset *ds,
                       lgcn_prep_stats *st)
{
    lgcn_prep_stats st_local;
    if (!st)
        st = &st_local;
    memset(st, 0, sizeof *st);
    memset(ds, 0, sizeof *ds);
    if (!train_path)
        return lgcn_error("no train file given");
    lg_in in = {0};
    lgcn_hash h;
    lgcn_hash_init(&h);
    int rc = -1;
    if (lg_read(train_path, LGCN_TRAIN, &in, &h) != 0)
        goto out;
    if (test_path && lg_read(test_path, LGCN_TEST, &in, &h) != 0)
        goto out;
    st->rows = in.n;
    if (in.n == 0) {
        lgcn_error("%s: no interactions (expected lines 'user item item ...')", train_path);
        goto out;
    }
    /* IDs are dense by definition of the format, so n = 1 + max; refuse IDs
     * so far beyond the number of tokens that they cannot be dense, rather
     * than allocating arrays sized by a typo. */
    uint64_t n_users = (uint64_t)in.max_user + 1, n_items = (uint64_t)in.max_item + 1;
    if (n_users > 16 * in.lines + 65536) {
        lgcn_error("%s: line %llu: user ID %u is far above the %llu users listed "
                   "(LightGCN IDs must be dense, 0..n-1)",
                   in.max_user_path, (unsigned long long)in.max_user_line, in.max_user,
                   (unsigned long long)in.lines);
        goto out;
    }
    if (n_items > 16 * (uint64_t)in.n + 65536) {
        lgcn_error("%s: line %llu: item ID %u is far above the %zu interactions listed "
                   "(LightGCN IDs must be dense, 0..n-1)",
                   in.max_item_path, (unsigned long long)in.max_item_line, in.max_item, in.n);
        goto out;
    }

    if (sort_pairs(&in, n_users, n_items) != 0)
        goto out;
    size_t n = 0;
    for (size_t k = 0; k < in.n; k++) {
        if (n && in.v[n - 1].user == in.v[k].user && in.v[n - 1].item == in.v[k].item) {
            if (in.v[n - 1].side != in.v[k].side) {
                lgcn_error("%s: line %u and %s: line %u: user %u, item %u is in both the "
                           "train and the test file",
                           train_path, in.v[n - 1].line, test_path, in.v[k].line,
                           in.v[k].user, in.v[k].item);
                goto out;
            }
            st->duplicates++;
            continue;
        }
        in.v[n++] = in.v[k];
    }
    if (st->duplicates)
        lgcn_log("%s%s%s: %llu repeated (user, item) pairs ignored", train_path,
                 test_path ? ", " : "", test_path ? test_path : "",
                 (unsigned long long)st->duplicates);

    ds->flags = LGCN_DS_IMPLICIT;
    ds->n_users = (uint32_t)n_users;
    ds->n_items = (uint32_t)n_items;
    ds->user_raw = lgcn_malloc(n_users * sizeof *ds->user_raw);
    ds->item_raw = lgcn_malloc(n_items * sizeof *ds->item_raw);
    ds->item_genres = lgcn_calloc(n_items, sizeof *ds->item_genres);
    ds->title_off = lgcn_calloc(n_items, sizeof *ds->title_off);
    ds->title_blob = lgcn_calloc(1, 1); /* one "" shared by every movie */
    ds->ratings = lgcn_malloc(n * sizeof *ds->ratings);
    if (!ds->user_raw || !ds->item_raw || !ds->item_genres || !ds->title_off ||
        !ds->title_blob || !ds->ratings)
        goto out;
    ds->title_blob_len = 1;
    for (uint64_t u = 0; u < n_users; u++)
        ds->user_raw[u] = (int64_t)u;
    for (uint64_t i = 0; i < n_items; i++)
        ds->item_raw[i] = (int64_t)i;
    for (size_t k = 0; k < n; k++)
        ds->ratings[k] = (lgcn_rating){.user = in.v[k].user, .item = in.v[k].item,
                                       .rating = 1.0f, .side = in.v[k].side, .ts = 0};
    ds->n_ratings = ds->cap_ratings = n;
    ds->rating_min = ds->rating_max = 1.0f;
    ds->rating_step = 1.0f;
    ds->min_rating = -INFINITY;
    ds->generation = 0;
    uint64_t extra[3] = {n, n_users, n_items};
    ds->id = finish_id(&h, extra, sizeof extra);
    if (lgcn_dataset_index(ds) != 0)
        goto out;
    rc = 0;
out:
    free(in.v);
    if (rc != 0) {
        lgcn_dataset_free(ds);
        memset(ds, 0, sizeof *ds);
    }
    return rc;
}
