/* train.h - sampling, the training loop, early stopping and fine-tuning. */
#ifndef LGCN_TRAIN_H
#define LGCN_TRAIN_H

#include <stdint.h>
#include "dataset.h"
#include "eval.h"
#include "graph.h"
#include "model.h"
#include "rng.h"

/* Draw one (u, i, j) triple: u uniform over users with >= 1 train movie
 * (active[0..n_active)), i uniform among u's train movies, j uniform among
 * the movies u has NOT interacted with in train (exactly, by rank in the
 * complement of u's sorted positives: no rejection loop). Users with every
 * movie as a positive must not be in `active`. */
void lgcn_sample(const lgcn_graph *g, const uint32_t *active, uint32_t n_active, lgcn_rng *r,
                 uint32_t *u, uint32_t *i, uint32_t *j);

/* Users that can be sampled (>= 1 train movie, not every movie).
 * Returns a malloc'd array and its length in *n, or NULL (error) . */
uint32_t *lgcn_active_users(const lgcn_graph *g, uint32_t *n);

typedef struct {
    uint32_t epoch;
    double loss;        /* mean batch loss (BPR + L2) */
    double seconds;     /* training time of this epoch (excludes evaluation) */
    uint64_t steps;     /* mini-batches in this epoch (fewer than a full epoch
                           when max_steps cut it short) */
    int evaluated;      /* metrics below are valid */
    double recall, ndcg;/* @20 on test */
    int improved;       /* new best model */
} lgcn_epoch_info;

typedef struct {
    uint32_t epochs;     /* maximum epochs */
    uint32_t batch;
    float lr, reg;
    uint64_t seed;
    int threads;
    uint32_t eval_every; /* 0 = never evaluate */
    uint32_t patience;   /* stop after this many evaluations without a better
                            recall@20; 0 = never stop early */
    uint64_t max_steps;  /* stop after this many mini-batches in all, even
                            inside an epoch (timing runs); 0 = no limit */
    /* called after every epoch (NULL = none); non-zero return stops training */
    int (*on_epoch)(void *ctx, const lgcn_epoch_info *info);
    /* called with the model to keep, its final embeddings computed: at every
     * new best evaluation, or once at the end when nothing was evaluated.
     * Non-zero return (with lgcn_error set) aborts training. NULL = none. */
    int (*save)(void *ctx, const lgcn_model *m);
    void *ctx;
} lgcn_train_opts;

typedef struct {
    uint32_t epochs_run;
    uint32_t best_epoch;   /* epoch of the kept model (last epoch when not evaluating) */
    double best_recall, best_ndcg; /* -1 when never evaluated */
    double seconds;        /* total training seconds (excluding evaluation) */
} lgcn_train_result;

/* Train m (already allocated and initialised with lgcn_model_init for
 * ds/g) with BPR + Adam. With eval_every, the model with the best test
 * recall@20 is the one kept: it is handed to o->save when it is found (so a
 * stopped run keeps its best model). Without evaluation the last epoch's
 * model is handed to o->save at the end. On return m holds the last epoch's
 * parameters (which is the kept model unless a later evaluation was worse). */
int lgcn_train(const lgcn_dataset *ds, const lgcn_graph *g, lgcn_model *m, const lgcn_train_opts *o,
               lgcn_train_result *res);

/* Fine-tune after new ratings: `steps` Adam steps on batches of triples
 * drawn only from users[0..n) (their train movies as positives), moving
 * only the rows flagged in rowmask (the affected users and movies), then
 * recompute m->final over the whole (updated) graph. Returns the number of
 * steps taken (0 when no listed user has a train movie to learn from), or
 * -1 on error. */
int lgcn_finetune(const lgcn_graph *g, lgcn_model *m, const uint32_t *users, uint32_t n,
                  const uint8_t *rowmask, uint32_t steps, uint32_t batch, float lr, uint64_t seed);

/* Bring a trained model up to date with a newer dataset `now` (ratings
 * that lgcn-rate committed while it trained): users it lacks get their rows
 * from `disk` (the model lgcn-rate wrote; may be NULL) when that model
 * knows them, else a fresh initialisation; the final embeddings are then
 * recomputed over the graph of `now` and the model is bound to it. */
int lgcn_model_catch_up(lgcn_model *m, const lgcn_dataset *now, const lgcn_model *disk, uint64_t seed);

/* Set OpenMP and OpenBLAS thread counts (n <= 0: number of cores). */
int lgcn_set_threads(int n);

#endif
