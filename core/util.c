/* util.c - see util.h. */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- errors and logging ------------------------------------------------ */

static _Thread_local char errbuf[1024];

int lgcn_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return -1;
}

int lgcn_error_errno(const char *fmt, ...)
{
    int e = errno;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(errbuf, sizeof errbuf, "%s: %s", msg, strerror(e));
    return -1;
}

const char *lgcn_errmsg(void) { return errbuf; }

static lgcn_log_fn log_hook;

void lgcn_set_log(lgcn_log_fn fn) { log_hook = fn; }

void lgcn_log(const char *fmt, ...)
{
    if (!log_hook)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_hook(msg);
}

/* ---- strict numbers ---------------------------------------------------- */

int lgcn_parse_i64n(const char *s, size_t n, int64_t *out)
{
    char buf[32];
    if (n == 0 || n >= sizeof buf || memchr(s, 0, n))
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    /* strtoll accepts leading blanks; we do not. */
    if (!(buf[0] == '-' || buf[0] == '+' || (buf[0] >= '0' && buf[0] <= '9')))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end || end == buf)
        return -1;
    *out = v;
    return 0;
}

int lgcn_parse_f64n(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf || memchr(s, 0, n))
        return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    /* decimal notation only: strtod would also take hex, "inf" and "nan" */
    for (size_t k = 0; k < n; k++)
        if (!strchr("0123456789+-.eE", buf[k]))
            return -1;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (errno == ERANGE || *end || end == buf || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int lgcn_parse_i64(const char *s, int64_t min, int64_t max, const char *what, int64_t *out)
{
    int64_t v;
    if (!s || lgcn_parse_i64n(s, strlen(s), &v) != 0)
        return lgcn_error("%s: '%s' is not an integer", what, s ? s : "");
    if (v < min || v > max)
        return lgcn_error("%s: %s is out of range [%lld, %lld]", what, s, (long long)min,
                          (long long)max);
    *out = v;
    return 0;
}

int lgcn_parse_f64(const char *s, double min, double max, const char *what, double *out)
{
    double v;
    if (!s || lgcn_parse_f64n(s, strlen(s), &v) != 0)
        return lgcn_error("%s: '%s' is not a number", what, s ? s : "");
    if (v < min || v > max)
        return lgcn_error("%s: %s is out of range [%g, %g]", what, s, min, max);
    *out = v;
    return 0;
}

/* ---- checksum ----------------------------------------------------------
 * Four independent lanes each absorb one 8-byte word per 32-byte block:
 * lane = rotl(lane + w * P2, 31) * P1. Lanes are merged and the tail and
 * length mixed in at the end. Independent lanes keep the multiplies in
 * flight in parallel, so the loop runs near memory speed. */

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t rd64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

void lgcn_hash_init(lgcn_hash *h)
{
    h->lane[0] = P1 + P2;
    h->lane[1] = P2;
    h->lane[2] = 0;
    h->lane[3] = 0 - P1;
    h->ntail = 0;
    h->total = 0;
}

static void hash_block(uint64_t lane[4], const uint8_t *p)
{
    for (int k = 0; k < 4; k++)
        lane[k] = rotl64(lane[k] + rd64(p + 8 * k) * P2, 31) * P1;
}

void lgcn_hash_update(lgcn_hash *h, const void *data, size_t n)
{
    const uint8_t *p = data;
    h->total += n;
    if (h->ntail) {
        size_t take = 32 - h->ntail;
        if (take > n)
            take = n;
        memcpy(h->tail + h->ntail, p, take);
        h->ntail += take;
        p += take;
        n -= take;
        if (h->ntail < 32)
            return;
        hash_block(h->lane, h->tail);
        h->ntail = 0;
    }
    uint64_t l0 = h->lane[0], l1 = h->lane[1], l2 = h->lane[2], l3 = h->lane[3];
    while (n >= 32) {
        l0 = rotl64(l0 + rd64(p) * P2, 31) * P1;
        l1 = rotl64(l1 + rd64(p + 8) * P2, 31) * P1;
        l2 = rotl64(l2 + rd64(p + 16) * P2, 31) * P1;
        l3 = rotl64(l3 + rd64(p + 24) * P2, 31) * P1;
        p += 32;
        n -= 32;
    }
    h->lane[0] = l0, h->lane[1] = l1, h->lane[2] = l2, h->lane[3] = l3;
    memcpy(h->tail, p, n);
    h->ntail = n;
}

uint64_t lgcn_hash_final(const lgcn_hash *h)
{
    uint64_t x = rotl64(h->lane[0], 1) + rotl64(h->lane[1], 7) + rotl64(h->lane[2], 12) +
                 rotl64(h->lane[3], 18);
    x ^= h->total * P3;
    for (size_t i = 0; i < h->ntail; i++)
        x = rotl64(x ^ (h->tail[i] * P3), 11) * P1;
    x ^= x >> 33;
    x *= P2;
    x ^= x >> 29;
    x *= P3;
    x ^= x >> 32;
    return x;
}

uint64_t lgcn_hash_bytes(const void *p, size_t n)
{
    lgcn_hash h;
    lgcn_hash_init(&h);
    lgcn_hash_update(&h, p, n);
    return lgcn_hash_final(&h);
}

/* ---- memory ------------------------------------------------------------ */

void *lgcn_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        lgcn_error("out of memory (%zu bytes)", n);
    return p;
}

void *lgcn_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        lgcn_error("out of memory (%zu x %zu bytes)", n, size);
    return p;
}

void *lgcn_aligned_alloc(size_t n)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, n ? n : 64) != 0) {
        lgcn_error("out of memory (%zu bytes)", n);
        return NULL;
    }
    return p;
}

char *lgcn_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = lgcn_malloc(a + b + 2);
    if (!p)
        return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

/* ---- atomic writer ----------------------------------------------------- */

/* Remove PATH.tmp.<pid> files left by writers that died (kill -9, power
 * loss): a pid that no longer exists cannot be writing any more. */
static void remove_stale_temps(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
    const char *base = slash ? slash + 1 : path;
    size_t bl = strlen(base);
    DIR *d = dir ? opendir(dir) : NULL;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            const char *n = e->d_name;
            if (strncmp(n, base, bl) != 0 || strncmp(n + bl, ".tmp.", 5) != 0)
                continue;
            char *end;
            long pid = strtol(n + bl + 5, &end, 10);
            if (*end || pid <= 0 || pid == (long)getpid())
                continue;
            if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
                char *stale = lgcn_path_join(dir, n);
                if (stale)
                    unlink(stale);
                free(stale);
            }
        }
        closedir(d);
    }
    free(dir);
}

int lgcn_writer_open(lgcn_writer *w, const char *path, const char magic[8], uint32_t version)
{
    memset(w, 0, sizeof *w);
    /* Replace only regular files; write through a symlink to its target
     * (renaming over the link would replace the link, and renaming over a
     * device node would replace the device). */
    struct stat st;
    char *target = NULL;
    if (lstat(path, &st) == 0) {
        if (S_ISLNK(st.st_mode)) {
            target = realpath(path, NULL);
            if (!target || stat(target, &st) != 0)
                return lgcn_error_errno("cannot resolve '%s'", path);
        }
        if (!S_ISREG(st.st_mode)) {
            free(target);
            return lgcn_error("'%s' exists and is not a regular file", path);
        }
    }
    if (!target)
        target = strdup(path);
    if (!target)
        return lgcn_error("out of memory");
    size_t n = strlen(target);
    w->path = target;
    w->tmp = lgcn_malloc(n + 32);
    if (!w->tmp) {
        free(w->path);
        w->path = NULL;
        return -1;
    }
    snprintf(w->tmp, n + 32, "%s.tmp.%ld", target, (long)getpid());
    remove_stale_temps(target);
    int fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || !(w->f = fdopen(fd, "wb"))) {
        lgcn_error_errno("cannot create '%s'", w->tmp);
        if (fd >= 0)
            close(fd);
        free(w->path);
        free(w->tmp);
        w->path = w->tmp = NULL;
        return -1;
    }
    lgcn_hash_init(&w->h);
    lgcn_writer_put(w, magic, 8);
    lgcn_writer_u32(w, version);
    lgcn_writer_u32(w, LGCN_ENDIAN_MARK);
    return 0;
}

void lgcn_writer_put(lgcn_writer *w, const void *p, size_t n)
{
    if (w->failed || n == 0)
        return;
    lgcn_hash_update(&w->h, p, n);
    if (fwrite(p, 1, n, w->f) != n)
        w->failed = errno ? errno : EIO;
}

void lgcn_writer_u32(lgcn_writer *w, uint32_t v) { lgcn_writer_put(w, &v, 4); }
void lgcn_writer_u64(lgcn_writer *w, uint64_t v) { lgcn_writer_put(w, &v, 8); }
void lgcn_writer_f32(lgcn_writer *w, float v) { lgcn_writer_put(w, &v, 4); }

static void fsync_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int lgcn_writer_commit(lgcn_writer *w)
{
    if (!w->f)
        return lgcn_error("internal: commit of a closed writer");
    uint64_t sum = lgcn_hash_final(&w->h);
    if (!w->failed && fwrite(&sum, 1, 8, w->f) != 8)
        w->failed = errno ? errno : EIO;
    if (!w->failed && fflush(w->f) != 0)
        w->failed = errno ? errno : EIO;
    if (!w->failed && fsync(fileno(w->f)) != 0)
        w->failed = errno ? errno : EIO;
    if (fclose(w->f) != 0 && !w->failed)
        w->failed = errno ? errno : EIO;
    w->f = NULL;
    if (w->failed) {
        errno = w->failed;
        lgcn_error_errno("cannot write '%s'", w->path);
        lgcn_writer_abort(w);
        return -1;
    }
    if (rename(w->tmp, w->path) != 0) {
        lgcn_error_errno("cannot rename '%s' to '%s'", w->tmp, w->path);
        lgcn_writer_abort(w);
        return -1;
    }
    fsync_dir_of(w->path);
    free(w->path);
    free(w->tmp);
    w->path = w->tmp = NULL;
    return 0;
}

void lgcn_writer_abort(lgcn_writer *w)
{
    if (w->f) {
        fclose(w->f);
        w->f = NULL;
    }
    if (w->tmp)
        unlink(w->tmp);
    free(w->path);
    free(w->tmp);
    w->path = w->tmp = NULL;
}

/* ---- checked reader ---------------------------------------------------- */

int lgcn_reader_open(lgcn_reader *r, const char *path, const char magic[8],
                     uint32_t max_version, const char *what)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    /* O_NONBLOCK: opening a FIFO must not hang; non-regular files are
     * refused right after */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return lgcn_error_errno("cannot open '%s'", path);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return lgcn_error_errno("cannot stat '%s'", path);
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lgcn_error("'%s' is not a regular file", path);
    }
    size_t size = (size_t)st.st_size;
    if (size < 16 + 8) {
        close(fd);
        return lgcn_error("'%s' is not an lgcn %s file (too short)", path, what);
    }
    /* Map the file read-only: the page cache is checksummed in place (no
     * copy); loaders copy out what they keep, so nothing depends on the file
     * after close. Falls back to read() where mmap is refused. */
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {
        r->data = map;
        r->mapped = size;
    } else if (!(r->data = malloc(size))) {
        close(fd);
        return lgcn_error("out of memory reading '%s' (%zu bytes)", path, size);
    }
    size_t got = r->mapped ? size : 0;
    while (got < size) {
        ssize_t k = read(fd, r->data + got, size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            int e = k < 0 ? errno : EIO;
            close(fd);
            lgcn_reader_close(r);
            errno = e;
            return lgcn_error_errno("cannot read '%s'", path);
        }
        got += (size_t)k;
    }
    close(fd);
    if (memcmp(r->data, magic, 8) != 0) {
        lgcn_reader_close(r);
        return lgcn_error("'%s' is not an lgcn %s file (bad magic)", path, what);
    }
    uint32_t ver, endian;
    memcpy(&ver, r->data + 8, 4);
    memcpy(&endian, r->data + 12, 4);
    if (endian != LGCN_ENDIAN_MARK) {
        lgcn_reader_close(r);
        return lgcn_error("'%s' was written on a machine of other byte order", path);
    }
    if (ver == 0 || ver > max_version) {
        lgcn_reader_close(r);
        return lgcn_error("'%s': %s format version %u is not supported (this lgcn reads up to %u)",
                          path, what, ver, max_version);
    }
    r->len = size - 8;
    uint64_t want, have = lgcn_hash_bytes(r->data, r->len);
    memcpy(&want, r->data + r->len, 8);
    if (want != have) {
        lgcn_reader_close(r);
        return lgcn_error("'%s': checksum mismatch (file is corrupt or truncated)", path);
    }
    r->version = ver;
    r->pos = 16;
    return 0;
}

size_t lgcn_reader_left(const lgcn_reader *r) { return r->len - r->pos; }

const void *lgcn_reader_take(lgcn_reader *r, size_t n)
{
    if (n > r->len - r->pos) {
        lgcn_error("'%s': truncated (needs %zu more bytes, %zu left)", r->path, n,
                   r->len - r->pos);
        return NULL;
    }
    const void *p = r->data + r->pos;
    r->pos += n;
    return p;
}

int lgcn_reader_get(lgcn_reader *r, void *dst, size_t n)
{
    const void *p = lgcn_reader_take(r, n);
    if (!p)
        return -1;
    memcpy(dst, p, n);
    return 0;
}

int lgcn_reader_u32(lgcn_reader *r, uint32_t *v) { return lgcn_reader_get(r, v, 4); }
int lgcn_reader_u64(lgcn_reader *r, uint64_t *v) { return lgcn_reader_get(r, v, 8); }
int lgcn_reader_f32(lgcn_reader *r, float *v) { return lgcn_reader_get(r, v, 4); }

int lgcn_reader_end(lgcn_reader *r)
{
    if (r->pos != r->len)
        return lgcn_error("'%s': %zu unexpected bytes after the data", r->path, r->len - r->pos);
    return 0;
}

void lgcn_reader_close(lgcn_reader *r)
{
    if (r->mapped)
        munmap(r->data, r->mapped);
    else
        free(r->data);
    r->data = NULL;
    r->mapped = 0;
    r->len = r->pos = 0;
}

/* ---- locks, time ------------------------------------------------------- */

static int take_lock(const char *path, int flags, int op)
{
    int fd = open(path, flags | O_CLOEXEC | O_NONBLOCK, 0644);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    while (flock(fd, op) != 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int lgcn_lock(const char *path)
{
    int fd = take_lock(path, O_RDWR | O_CREAT, LOCK_EX);
    if (fd < 0)
        return errno == EINVAL ? lgcn_error("lock file '%s' is not a regular file", path)
                               : lgcn_error_errno("cannot lock '%s'", path);
    return fd;
}

int lgcn_lock_shared(const char *path)
{
    int fd = take_lock(path, O_RDONLY, LOCK_SH);
    if (fd >= 0)
        return fd;
    /* no lock file (a dataset nobody has written to since prep, or a
     * read-only copy): there is no writer to wait for */
    if (errno == ENOENT || errno == EACCES || errno == EROFS)
        return -2;
    return errno == EINVAL ? lgcn_error("lock file '%s' is not a regular file", path)
                           : lgcn_error_errno("cannot lock '%s'", path);
}

void lgcn_unlock(int fd)
{
    if (fd >= 0) {
        flock(fd, LOCK_UN);
        close(fd);
    }
}

double lgcn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int lgcn_ncpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (int)(n > 1024 ? 1024 : n) : 1;
}
