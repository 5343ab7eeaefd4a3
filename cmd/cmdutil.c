/* cmdutil.c - see cmdutil.h. */
#include "cmdutil.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>

const char *cmd_prog = "lgcn";

static void log_stderr(const char *msg) { fprintf(stderr, "%s: %s\n", cmd_prog, msg); }

void cmd_init(const char *prog)
{
    cmd_prog = prog;
    opterr = 0; /* getopt's own messages would name argv[0]; cmd_bad_option speaks */
    lgcn_set_log(log_stderr);
}

void cmd_quiet(int quiet) { lgcn_set_log(quiet ? NULL : log_stderr); }

void cmd_msg(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", cmd_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cmd_fail(void)
{
    fprintf(stderr, "%s: %s\n", cmd_prog, lgcn_errmsg());
    return EXIT_DATA;
}

int cmd_usage(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "%s: ", cmd_prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", cmd_prog);
    return EXIT_USAGE;
}

int cmd_bad_option(int c, char **argv)
{
    /* a long option is the last word getopt read; a short one is optopt */
    char shortopt[3] = {'-', (char)optopt, 0};
    const char *last = optind > 0 ? argv[optind - 1] : "";
    const char *name = strncmp(last, "--", 2) == 0 || !optopt || optopt > 255 ? last : shortopt;
    if (c == ':')
        return cmd_usage("option '%s' requires a value", name);
    return cmd_usage("unknown option '%s'", name);
}

int cmd_flush_stdout(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        cmd_msg("cannot write to standard output: %s", strerror(errno ? errno : EIO));
        return EXIT_DATA;
    }
    return EXIT_OK;
}

int cmd_version(void)
{
    printf("%s (lgcn) %s\n", cmd_prog, LGCN_VERSION);
    return cmd_flush_stdout();
}

int cmd_help(const char *text)
{
    fputs(text, stdout);
    return cmd_flush_stdout();
}

int cmd_u32(const char *opt, const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
    int64_t v;
    if (lgcn_parse_i64(s, min, max, opt, &v) != 0) {
        cmd_usage("%s", lgcn_errmsg());
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int cmd_u64(const char *opt, const char *s, uint64_t *out)
{
    int64_t v;
    if (lgcn_parse_i64(s, 0, INT64_MAX, opt, &v) != 0) {
        cmd_usage("%s", lgcn_errmsg());
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int cmd_f64(const char *opt, const char *s, double min, double max, double *out)
{
    if (lgcn_parse_f64(s, min, max, opt, out) != 0) {
        cmd_usage("%s", lgcn_errmsg());
        return -1;
    }
    return 0;
}

int cmd_f32(const char *opt, const char *s, double min, double max, float *out)
{
    double v;
    if (cmd_f64(opt, s, min, max, &v) != 0)
        return -1;
    *out = (float)v;
    return 0;
}

int cmd_format(const char *arg, const char *json_name, int *json)
{
    if (strcmp(arg, "tsv") == 0)
        *json = 0;
    else if (strcmp(arg, "json") == 0 || strcmp(arg, "jsonl") == 0)
        *json = 1;
    else {
        cmd_usage("--format must be tsv or %s, not '%s'", json_name, arg);
        return -1;
    }
    return 0;
}

char *cmd_model_path(const char *dir, const char *model_opt)
{
    if (model_opt) {
        char *p = strdup(model_opt);
        if (!p)
            lgcn_error("out of memory");
        return p;
    }
    return lgcn_path_join(dir, "model.lgcn");
}
