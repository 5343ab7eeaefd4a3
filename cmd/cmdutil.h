/* cmdutil.h - what every lgcn command shares: messages, exit codes, strict
 * option values, default paths. Only commands print and exit; the core
 * returns errors (util.h). */
#ifndef LGCN_CMDUTIL_H
#define LGCN_CMDUTIL_H

#include <stdint.h>

#include "util.h"

/* Exit codes, documented in every man page. */
enum { EXIT_OK = 0, EXIT_DATA = 1, EXIT_USAGE = 2 };

/* Set the program name for messages and point the core's log at stderr
 * (quiet: at nothing). */
void cmd_init(const char *prog);
void cmd_quiet(int quiet);
extern const char *cmd_prog;

/* "prog: <message>" on stderr. */
void cmd_msg(const char *fmt, ...) LGCN_PRINTF(1, 2);
/* Print the core's last error as "prog: <message>"; returns EXIT_DATA. */
int cmd_fail(void);
/* Print "prog: <message>" and a hint to --help; returns EXIT_USAGE. */
int cmd_usage(const char *fmt, ...) LGCN_PRINTF(1, 2);
/* For getopt_long's ':' (missing value) and '?' (unknown option) results,
 * with opterr = 0 and an optstring starting with ':': a one-line usage error
 * naming the option; returns EXIT_USAGE. */
int cmd_bad_option(int c, char **argv);
/* Print "prog VERSION"; returns EXIT_OK (EXIT_DATA if stdout fails). */
int cmd_version(void);
/* Print the usage text to stdout; EXIT_OK, or EXIT_DATA if stdout fails. */
int cmd_help(const char *text);
/* Flush stdout: EXIT_OK, or a message naming the error and EXIT_DATA. */
int cmd_flush_stdout(void);

/* Strict option values; on failure print a usage error and return -1. */
int cmd_u32(const char *opt, const char *s, uint32_t min, uint32_t max, uint32_t *out);
int cmd_u64(const char *opt, const char *s, uint64_t *out);
int cmd_f32(const char *opt, const char *s, double min, double max, float *out);
int cmd_f64(const char *opt, const char *s, double min, double max, double *out);

/* --format: "tsv" -> *json = 0; "json" or "jsonl" -> 1 (one JSON object per
 * line either way); else a usage error naming `json_name`, returns -1. */
int cmd_format(const char *arg, const char *json_name, int *json);

/* The model path: -m FILE when given, else DIR/model.lgcn (malloc'd). */
char *cmd_model_path(const char *dir, const char *model_opt);

#endif
