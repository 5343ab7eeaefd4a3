/* util.h - errors, logging hook, strict number parsing, checksums and
 * crash-safe binary files shared by every lgcn module.
 *
 * Error convention: a core function that fails records a message with
 * lgcn_error() and returns -1; the command prints "lgcn-<cmd>: <message>"
 * and decides the exit code.  The core never prints to stdout and never
 * exits; diagnostics go through the log hook, which commands point at stderr
 * (or at nothing for -q). */
#ifndef LGCN_UTIL_H
#define LGCN_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LGCN_VERSION "0.1.0"

#if defined(__GNUC__)
#define LGCN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define LGCN_PRINTF(a, b)
#endif

/* Record an error message (printf-style) for the current thread; returns -1
 * so callers can write `return lgcn_error(...)`. */
int lgcn_error(const char *fmt, ...) LGCN_PRINTF(1, 2);
/* Like lgcn_error, appending ": strerror(errno)". */
int lgcn_error_errno(const char *fmt, ...) LGCN_PRINTF(1, 2);
/* The last recorded message ("" when none). Valid until the next error. */
const char *lgcn_errmsg(void);

/* Log hook for progress and warnings. NULL (the default) silences the core. */
typedef void (*lgcn_log_fn)(const char *msg);
void lgcn_set_log(lgcn_log_fn fn);
void lgcn_log(const char *fmt, ...) LGCN_PRINTF(1, 2);

/* Strict parsing: the whole string must be a number in [min, max]
 * (no leading/trailing junk, no empty string, no overflow).  Return 0 on
 * success, -1 with an error message naming `what` otherwise. */
int lgcn_parse_i64(const char *s, int64_t min, int64_t max, const char *what, int64_t *out);
int lgcn_parse_f64(const char *s, double min, double max, const char *what, double *out);
/* Same as lgcn_parse_i64 for a length-delimited, not NUL-terminated field. */
int lgcn_parse_i64n(const char *s, size_t n, int64_t *out);
int lgcn_parse_f64n(const char *s, size_t n, double *out);

/* Streaming 64-bit checksum (four-lane multiply-rotate hash, ~10 GB/s).
 * Detects torn and corrupted files; not cryptographic. */
typedef struct {
    uint64_t lane[4];
    uint8_t tail[32];
    size_t ntail;
    uint64_t total;
} lgcn_hash;
void lgcn_hash_init(lgcn_hash *h);
void lgcn_hash_update(lgcn_hash *h, const void *p, size_t n);
uint64_t lgcn_hash_final(const lgcn_hash *h);
uint64_t lgcn_hash_bytes(const void *p, size_t n);

/* ---- Binary files -------------------------------------------------------
 * Every lgcn binary file is
 *     magic[8] | u32 version | u32 endian (0x01020304 as written) |
 *     payload ... | u64 checksum of every byte before it
 * Writers stream into PATH.tmp.<pid>, fsync it, rename it over PATH and
 * fsync the directory, so readers see either the old or the new file.
 * PATH must be a regular file or absent (a symlink is written through);
 * temp files of writers that died are removed. */

#define LGCN_ENDIAN_MARK 0x01020304u

typedef struct {
    FILE *f;
    char *path;   /* final path (owned) */
    char *tmp;    /* temporary path (owned) */
    lgcn_hash h;
    int failed;   /* a write error happened; commit will fail */
} lgcn_writer;

/* Start writing `path`: creates the temp file and writes magic/version/endian. */
int lgcn_writer_open(lgcn_writer *w, const char *path, const char magic[8], uint32_t version);
/* Append bytes (checksummed). Errors are sticky and reported by commit. */
void lgcn_writer_put(lgcn_writer *w, const void *p, size_t n);
void lgcn_writer_u32(lgcn_writer *w, uint32_t v);
void lgcn_writer_u64(lgcn_writer *w, uint64_t v);
void lgcn_writer_f32(lgcn_writer *w, float v);
/* Write the checksum, fsync, rename into place, fsync the directory. */
int lgcn_writer_commit(lgcn_writer *w);
/* Discard the temp file (safe after a failed commit or open). */
void lgcn_writer_abort(lgcn_writer *w);

typedef struct {
    uint8_t *data;   /* whole file (owned: mapped read-only, or malloc'd when mapped == 0) */
    size_t mapped;   /* length of the private mapping, 0 when malloc'd */
    size_t len;      /* bytes of payload + header, checksum excluded */
    size_t pos;      /* read cursor */
    uint32_t version;
    const char *path;/* for messages (borrowed) */
} lgcn_reader;

/* Read the whole file, check magic, endianness, version <= max_version and
 * the checksum. `what` names the file kind in messages ("dataset"). */
int lgcn_reader_open(lgcn_reader *r, const char *path, const char magic[8],
                     uint32_t max_version, const char *what);
/* Bounds-checked reads; on overrun they fail with a "truncated" message. */
int lgcn_reader_get(lgcn_reader *r, void *dst, size_t n);
int lgcn_reader_u32(lgcn_reader *r, uint32_t *v);
int lgcn_reader_u64(lgcn_reader *r, uint64_t *v);
int lgcn_reader_f32(lgcn_reader *r, float *v);
/* Bytes left to read: callers check array sizes against it before malloc. */
size_t lgcn_reader_left(const lgcn_reader *r);
/* Pointer to the next n bytes (advancing), or NULL + error when short. */
const void *lgcn_reader_take(lgcn_reader *r, size_t n);
/* Fails unless every payload byte was consumed. */
int lgcn_reader_end(lgcn_reader *r);
void lgcn_reader_close(lgcn_reader *r);

/* Join dir + "/" + name into a malloc'd string (NULL on OOM). */
char *lgcn_path_join(const char *dir, const char *name);

/* Exclusive advisory lock on `path` (created if missing); blocks until held.
 * Returns an fd >= 0 to pass to lgcn_unlock, or -1 with an error. */
int lgcn_lock(const char *path);
/* Shared lock for readers; -2 when the lock file does not exist or cannot
 * be opened for reading (read-only copies): proceed unlocked. */
int lgcn_lock_shared(const char *path);
void lgcn_unlock(int fd);

/* Allocation that records "out of memory" on failure. */
void *lgcn_malloc(size_t n);
void *lgcn_calloc(size_t n, size_t size);
/* 64-byte aligned, for float slabs. Free with free(). */
void *lgcn_aligned_alloc(size_t n);

/* Wall-clock seconds (monotonic). */
double lgcn_now(void);

/* Number of online CPUs (>= 1). */
int lgcn_ncpu(void);

#endif
