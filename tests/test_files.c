/* test_files.c - crash-safe writers, readers of odd files, dataset edits,
 * the ID exports, model/dataset binding. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dataset.h"
#include "model.h"
#include "test.h"
#include "train.h"
#include "util.h"

static char tmp[64];

static char *at(const char *name) { return lgcn_path_join(tmp, name); }

/* 3 users (raw 10, 20, 30), 4 movies (raw 100..103) */
static void small_ds(lgcn_dataset *ds)
{
    memset(ds, 0, sizeof *ds);
    ds->n_users = 3;
    ds->n_items = 4;
    ds->user_raw = malloc(3 * 8);
    ds->item_raw = malloc(4 * 8);
    for (int u = 0; u < 3; u++)
        ds->user_raw[u] = 10 * (u + 1);
    for (int i = 0; i < 4; i++)
        ds->item_raw[i] = 100 + i;
    static const uint32_t p[][3] = {{0, 0, 0}, {0, 1, 0}, {1, 1, 0}, {1, 2, 1}, {2, 3, 0}, {2, 0, 0}};
    ds->n_ratings = ds->cap_ratings = 6;
    ds->ratings = calloc(6, sizeof *ds->ratings);
    for (int k = 0; k < 6; k++)
        ds->ratings[k] = (lgcn_rating){.user = p[k][0], .item = p[k][1], .rating = 3, .side = p[k][2]};
    ds->item_genres = calloc(4, 8);
    ds->title_off = calloc(4, 8);
    ds->title_blob = calloc(1, 1);
    ds->title_blob_len = 1;
    ds->rating_min = 0.5f, ds->rating_max = 5, ds->rating_step = 0.5f, ds->min_rating = 2.0f;
    ds->id = 7;
    lgcn_dataset_index(ds);
}

static void writer_refuses_devices_follows_links(void)
{
    char *fifo = at("fifo"), *real = at("real.bin"), *link = at("link.bin");
    CHECK(mkfifo(fifo, 0644) == 0);
    lgcn_writer w;
    CHECK(lgcn_writer_open(&w, fifo, "TESTTEST", 1) != 0);
    CHECK(strstr(lgcn_errmsg(), "not a regular file") != NULL);
    struct stat st;
    CHECK(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode)); /* still a FIFO */
    /* through a symlink: the target is replaced, the link stays */
    FILE *f = fopen(real, "w");
    fputs("old", f);
    fclose(f);
    CHECK(symlink("real.bin", link) == 0);
    CHECK(lgcn_writer_open(&w, link, "TESTTEST", 1) == 0);
    lgcn_writer_u32(&w, 42);
    CHECK(lgcn_writer_commit(&w) == 0);
    CHECK(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(stat(real, &st) == 0 && st.st_size == 16 + 4 + 8);
    free(fifo);
    free(real);
    free(link);
}

static void reader_does_not_hang_on_fifo(void)
{
    char *fifo = at("fifo2");
    CHECK(mkfifo(fifo, 0644) == 0);
    lgcn_model m;
    alarm(10); /* a hang fails the test instead of the whole run */
    CHECK(lgcn_model_load(fifo, &m) != 0);
    CHECK(strstr(lgcn_errmsg(), "not a regular file") != NULL);
    alarm(0);
    free(fifo);
}

static void stale_temp_files_removed(void)
{
    char *path = at("x.bin");
    /* a pid far above any live one: pid_max is at most 2^22 */
    char stale[128], live[128];
    snprintf(stale, sizeof stale, "%s.tmp.%d", path, 4194304 + 17);
    snprintf(live, sizeof live, "%s.tmp.%d", path, (int)getppid());
    close(open(stale, O_CREAT | O_WRONLY, 0644));
    close(open(live, O_CREAT | O_WRONLY, 0644));
    lgcn_writer w;
    CHECK(lgcn_writer_open(&w, path, "TESTTEST", 1) == 0);
    CHECK(lgcn_writer_commit(&w) == 0);
    CHECK(access(stale, F_OK) != 0); /* its writer is gone */
    CHECK(access(live, F_OK) == 0);  /* a live process's temp file is kept */
    unlink(live);
    free(path);
}

static void batch_ratings_merge(void)
{
    lgcn_dataset a, b;
    small_ds(&a);
    small_ds(&b);
    /* new pairs out of order, one repeated (later wins), one replacement,
     * one below min_rating (held) */
    uint32_t us[5] = {2, 0, 2, 1, 0}, is[5] = {1, 3, 1, 1, 2};
    float rs[5] = {4.0f, 5.0f, 1.5f, 4.5f, 1.0f};
    int old[5];
    CHECK(lgcn_dataset_set_ratings(&a, us, is, rs, 5, 1234, old) == 0);
    /* (2,1) is new at its first occurrence, replaced (train) at its second */
    CHECK(old[0] == -1 && old[1] == -1 && old[2] == LGCN_TRAIN && old[3] == LGCN_TRAIN && old[4] == -1);
    CHECK(a.n_ratings == 9);
    /* the same through one-at-a-time inserts, with the same old sides */
    for (int k = 0; k < 5; k++) {
        int o1;
        CHECK(lgcn_dataset_set_rating(&b, us[k], is[k], rs[k], 1234, &o1) == 0);
        CHECK(o1 == old[k]);
    }
    CHECK(b.n_ratings == 9 && memcmp(a.ratings, b.ratings, 9 * sizeof *a.ratings) == 0);
    CHECK(memcmp(a.user_off, b.user_off, 4 * sizeof *a.user_off) == 0);
    /* sorted, and the values */
    for (uint64_t k = 1; k < a.n_ratings; k++)
        CHECK(a.ratings[k - 1].user < a.ratings[k].user ||
              (a.ratings[k - 1].user == a.ratings[k].user && a.ratings[k - 1].item < a.ratings[k].item));
    /* user 2 = ratings[6..9): items 0, 1, 3; (2,1) = 1.5 (below 2.0: held) */
    CHECK(a.user_off[2] == 6 && a.ratings[7].item == 1 && a.ratings[7].rating == 1.5f &&
          a.ratings[7].side == LGCN_HELD && a.ratings[7].ts == 1234);
    /* user 0 now has 0, 1, 2, 3 (indices 0-3), user 1 has 1, 2 (4, 5):
     * (1,1) replaced in place, still train, new value */
    CHECK(a.ratings[4].user == 1 && a.ratings[4].item == 1 && a.ratings[4].rating == 4.5f &&
          a.ratings[4].side == LGCN_TRAIN);
    /* (0,2) new but held; (0,3) new train */
    CHECK(a.ratings[2].item == 2 && a.ratings[2].side == LGCN_HELD);
    CHECK(a.ratings[3].item == 3 && a.ratings[3].side == LGCN_TRAIN && a.ratings[3].rating == 5.0f);
    lgcn_dataset_free(&a);
    lgcn_dataset_free(&b);
}

static void id_exports_match(void)
{
    lgcn_dataset ds;
    small_ds(&ds);
    ds.generation = 5;
    char *dir = at("ds");
    CHECK(lgcn_dataset_save(dir, &ds) == 0);
    char *p = lgcn_path_join(dir, "users.ids");
    lgcn_reader r;
    CHECK(lgcn_reader_open(&r, p, "LGCNIDS\0", 2, "encoded-ID") == 0 && r.version == 2);
    uint32_t kind, pad;
    uint64_t id, gen, n;
    int64_t raw[3];
    CHECK(lgcn_reader_u32(&r, &kind) == 0 && lgcn_reader_u32(&r, &pad) == 0);
    CHECK(lgcn_reader_u64(&r, &id) == 0 && lgcn_reader_u64(&r, &gen) == 0 && lgcn_reader_u64(&r, &n) == 0);
    CHECK(kind == 0 && id == 7 && gen == 5 && n == 3);
    CHECK(lgcn_reader_get(&r, raw, sizeof raw) == 0 && lgcn_reader_end(&r) == 0);
    CHECK(raw[0] == 10 && raw[1] == 20 && raw[2] == 30);
    lgcn_reader_close(&r);
    /* the dataset does not need them: it is self-contained */
    CHECK(unlink(p) == 0);
    lgcn_dataset back;
    CHECK(lgcn_dataset_load(dir, &back) == 0);
    CHECK(back.n_users == 3 && lgcn_dataset_find_user(&back, 30) == 2 && lgcn_dataset_find_item(&back, 103) == 3);
    lgcn_dataset_free(&back);
    free(p);
    free(dir);
    lgcn_dataset_free(&ds);
}

static void model_bound_to_users(void)
{
    lgcn_dataset ds;
    small_ds(&ds);
    lgcn_model m;
    lgcn_model_alloc(&m, 3, 4, 4, 1);
    lgcn_model_bind(&m, &ds);
    CHECK(lgcn_model_check(&m, &ds) == 0);
    /* a sibling copy that took another new user at the same internal ID */
    lgcn_dataset x, y;
    small_ds(&x);
    small_ds(&y);
    lgcn_dataset_add_user(&x, 50001);
    lgcn_dataset_add_user(&y, 50002);
    lgcn_model mx;
    lgcn_model_copy(&mx, &m);
    lgcn_model_add_users(&mx, 1, 1);
    lgcn_model_bind(&mx, &x);
    CHECK(lgcn_model_check(&mx, &x) == 0);
    CHECK(lgcn_model_check(&mx, &y) != 0);
    /* the model knowing fewer users than the dataset is fine */
    CHECK(lgcn_model_check(&m, &x) == 0);
    lgcn_model_free(&m);
    lgcn_model_free(&mx);
    lgcn_dataset_free(&ds);
    lgcn_dataset_free(&x);
    lgcn_dataset_free(&y);
}

static void catch_up_keeps_new_users(void)
{
    lgcn_dataset ds, now;
    small_ds(&ds);
    small_ds(&now);
    lgcn_model trained, disk;
    lgcn_model_alloc(&trained, 3, 4, 4, 2);
    lgcn_model_init(&trained, 1);
    lgcn_model_bind(&trained, &ds);
    /* meanwhile lgcn-rate added user 40 rating movie 101, with its own row */
    int64_t u = lgcn_dataset_add_user(&now, 40);
    CHECK(lgcn_dataset_set_rating(&now, (uint32_t)u, 1, 4.0f, 9, NULL) == 0);
    now.generation = 1;
    lgcn_model_copy(&disk, &trained);
    lgcn_model_add_users(&disk, 1, 5);
    for (int k = 0; k < 4; k++)
        disk.e0[3 * 4 + k] = 0.25f * (float)(k + 1);
    lgcn_model_bind(&disk, &now);
    CHECK(lgcn_model_catch_up(&trained, &now, &disk, 3) == 0);
    CHECK(trained.n_users == 4 && lgcn_model_check(&trained, &now) == 0 && trained.data_gen == 1);
    CHECK(trained.e0[3 * 4 + 2] == 0.75f);                    /* the row came over */
    CHECK(memcmp(trained.e0 + 4 * 4, disk.e0 + 4 * 4, 16) == 0); /* movie rows unchanged */
    /* final recomputed over the new graph: user 40's final is not its e0 */
    CHECK(trained.final[3 * 4] != 0.0f && trained.final[3 * 4] != trained.e0[3 * 4]);
    lgcn_model_free(&trained);
    lgcn_model_free(&disk);
    lgcn_dataset_free(&ds);
    lgcn_dataset_free(&now);
}

static void strict_numbers(void)
{
    int64_t v;
    double d;
    CHECK(lgcn_parse_i64n("12", 2, &v) == 0 && v == 12);
    CHECK(lgcn_parse_i64n("1\0" "2", 3, &v) != 0); /* embedded NUL */
    CHECK(lgcn_parse_i64n(" 1", 2, &v) != 0);
    CHECK(lgcn_parse_f64n("4.5", 3, &d) == 0 && d == 4.5);
    CHECK(lgcn_parse_f64n("4\0", 2, &d) != 0);
    CHECK(lgcn_parse_f64n("0x4", 3, &d) != 0);
    CHECK(lgcn_parse_f64n("inf", 3, &d) != 0 && lgcn_parse_f64n("nan", 3, &d) != 0);
    CHECK(lgcn_parse_f64n("1e308", 5, &d) == 0 && lgcn_parse_f64n("1e309", 5, &d) != 0);
    CHECK(lgcn_parse_i64("9223372036854775808", INT64_MIN, INT64_MAX, "x", &v) != 0);
}

int main(void)
{
    if (test_tmpdir(tmp, "lgcn-test-files") != 0)
        return 1;
    RUN(writer_refuses_devices_follows_links);
    RUN(reader_does_not_hang_on_fifo);
    RUN(stale_temp_files_removed);
    RUN(batch_ratings_merge);
    RUN(id_exports_match);
    RUN(model_bound_to_users);
    RUN(catch_up_keeps_new_users);
    RUN(strict_numbers);
    test_rmtree(tmp);
    TEST_EXIT();
}
