/* test.h - a minimal harness for lgcn's C tests.
 * Each TEST is a function; RUN(name) runs it and prints "ok name" or
 * "not ok name" with the failed checks. tests/run counts these lines. */
#ifndef LGCN_TEST_H
#define LGCN_TEST_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int test_failed_checks;
static int test_pass, test_fail;

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            printf("#   %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);      \
            test_failed_checks++;                                                    \
        }                                                                            \
    } while (0)

/* |a - b| <= tol (absolute) */
#define CHECK_NEAR(a, b, tol)                                                        \
    do {                                                                             \
        double a_ = (double)(a), b_ = (double)(b);                                   \
        if (!(fabs(a_ - b_) <= (tol))) {                                             \
            printf("#   %s:%d: %s = %.10g, expected %.10g (tol %g)\n", __FILE__,     \
                   __LINE__, #a, a_, b_, (double)(tol));                             \
            test_failed_checks++;                                                    \
        }                                                                            \
    } while (0)

#define CHECK_STR(a, b)                                                              \
    do {                                                                             \
        const char *a_ = (a), *b_ = (b);                                             \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                     \
            printf("#   %s:%d: %s = \"%s\", expected \"%s\"\n", __FILE__, __LINE__,  \
                   #a, a_ ? a_ : "(null)", b_ ? b_ : "(null)");                      \
            test_failed_checks++;                                                    \
        }                                                                            \
    } while (0)

/* Report the test just run; skip_why != NULL (and no failed check) marks
 * it skipped. */
static inline void test_report(const char *name, const char *skip_why)
{
    if (test_failed_checks) {
        printf("not ok %s\n", name);
        test_fail++;
    } else if (skip_why) {
        printf("ok %s # SKIP %s\n", name, skip_why);
        test_pass++;
    } else {
        printf("ok %s\n", name);
        test_pass++;
    }
    fflush(stdout);
}

#define RUN(fn)                                                                      \
    do {                                                                             \
        test_failed_checks = 0;                                                      \
        fn();                                                                        \
        test_report(#fn, NULL);                                                      \
    } while (0)

/* A private temp directory "/tmp/<prefix>.XXXXXX" into buf (64 bytes), and
 * its removal at the end of the test program. */
#include <stdlib.h>
static inline int test_tmpdir(char *buf, const char *prefix)
{
    snprintf(buf, 64, "/tmp/%s.XXXXXX", prefix);
    if (!mkdtemp(buf)) {
        perror("mkdtemp");
        return -1;
    }
    return 0;
}

static inline void test_rmtree(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
}

#define TEST_EXIT() return test_fail ? 1 : 0

#endif
