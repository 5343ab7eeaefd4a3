/* lgcn-recommend - top-N unseen movies for users, optionally by genre. */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdutil.h"
#include "dataset.h"
#include "model.h"
#include "recommend.h"

static const char usage[] =
    "Usage: lgcn-recommend -d DIR [-m FILE] -u USER [-n N] [--genre G]... [--format tsv|jsonl]\n"
    "       lgcn-recommend -d DIR [-m FILE] --users - [options]\n"
    "       lgcn-recommend -d DIR --list-genres\n"
    "\n"
    "Print the top N movies a user has not rated, by LightGCN score.\n"
    "TSV columns: user_id rank movie_id score title genres (with a header line).\n"
    "\n"
    "Options:\n"
    "  -d, --data DIR         dataset directory\n"
    "  -m, --model FILE       model file (default DIR/model.lgcn)\n"
    "  -u, --user ID          original user ID (as in ratings.csv)\n"
    "      --users FILE       user IDs one per line ('-' = standard input)\n"
    "  -n, --count N          movies per user (default 10)\n"
    "  -g, --genre G          only movies of genre G (repeatable or comma-separated;\n"
    "                         a movie qualifies with any of them; case-insensitive)\n"
    "  -f, --format FMT       tsv (default) or jsonl\n"
    "      --no-header        omit the TSV header line\n"
    "      --list-genres      print the dataset's genres, one per line\n"
    "  -h, --help             show this help\n"
    "  -V, --version          show the version\n"
    "\n"
    "Exit status: 0 success, 1 data error (e.g. unknown user or genre), 2 usage error.\n";

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static int utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    int n = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 && s[0] < 0xE0 ? 2 : 0;
    if (n == 0 || (s[0] >= 0xF8))
        return 0;
    for (int k = 1; k < n; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    /* overlong 3/4-byte forms, surrogates, > U+10FFFF */
    if ((s[0] == 0xE0 && s[1] < 0xA0) || (s[0] == 0xED && s[1] >= 0xA0) ||
        (s[0] == 0xF0 && s[1] < 0x90) || (s[0] == 0xF4 && s[1] >= 0x90))
        return 0;
    return n;
}

static void put_clean(const char *s)
{
    /* TSV cells: control characters (tabs and line breaks included) become
     * spaces; invalid UTF-8 becomes U+FFFD, so terminals and parsers get text */
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        int n = utf8_len(p);
        if (n == 0) {
            fputs("\xEF\xBF\xBD", stdout);
            p++;
        } else if (n == 1) {
            putchar(*p < 0x20 || *p == 0x7f ? ' ' : *p);
            p++;
        } else {
            fwrite(p, 1, (size_t)n, stdout);
            p += n;
        }
    }
}

static void put_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        int n = utf8_len((const unsigned char *)s);
        if (n == 0) { /* invalid UTF-8: JSON text must be valid Unicode */
            fputs("\\ufffd", stdout);
            continue;
        }
        if (n > 1) {
            fwrite(s, 1, (size_t)n, stdout);
            s += n - 1;
            continue;
        }
        switch (ch) {
        case '"': fputs("\\\"", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        default:
            if (ch < 0x20 || ch == 0x7f)
                printf("\\u%04x", ch);
            else
                putchar(ch);
        }
    }
    putchar('"');
}

static int print_recs(const lgcn_dataset *ds, uint32_t u, const lgcn_scored *recs, uint32_t n, int json)
{
    for (uint32_t r = 0; r < n; r++) {
        uint32_t i = recs[r].item;
        uint64_t gm = ds->item_genres[i];
        if (json) {
            printf("{\"user_id\":%lld,\"rank\":%u,\"movie_id\":%lld,\"score\":%.6f,\"title\":",
                   (long long)ds->user_raw[u], r + 1, (long long)ds->item_raw[i], recs[r].score);
            put_json_string(lgcn_dataset_title(ds, i));
            fputs(",\"genres\":[", stdout);
            int first = 1;
            for (uint32_t g = 0; g < ds->n_genres; g++)
                if (gm >> g & 1) {
                    if (!first)
                        putchar(',');
                    put_json_string(ds->genre_names[g]);
                    first = 0;
                }
            fputs("]}\n", stdout);
        } else {
            printf("%lld\t%u\t%lld\t%.6f\t", (long long)ds->user_raw[u], r + 1,
                   (long long)ds->item_raw[i], recs[r].score);
            put_clean(lgcn_dataset_title(ds, i));
            putchar('\t');
            int first = 1;
            for (uint32_t g = 0; g < ds->n_genres; g++)
                if (gm >> g & 1) {
                    if (!first)
                        putchar('|');
                    put_clean(ds->genre_names[g]);
                    first = 0;
                }
            if (first && (ds->flags & LGCN_DS_CATALOGUE))
                fputs("(no genres listed)", stdout);
            putchar('\n');
        }
    }
    if (ferror(stdout))
        return -1;
    return 0;
}

/* Recommend for one original user ID given as text; prints the rows. */
static int recommend_one(lgcn_recommender *rec, const char *text, uint32_t n, lgcn_scored *buf, int json)
{
    int64_t raw;
    if (lgcn_parse_i64(text, INT64_MIN, INT64_MAX, "user ID", &raw) != 0)
        return -1;
    int64_t u = lgcn_dataset_find_user(rec->ds, raw);
    if (u < 0)
        return lgcn_error("unknown user %lld", (long long)raw);
    uint32_t got;
    if (lgcn_recommend(rec, (uint32_t)u, n, buf, &got) != 0)
        return -1;
    return print_recs(rec->ds, (uint32_t)u, buf, got, json);
}

static int add_genres(const lgcn_dataset *ds, const char *list, uint64_t *mask)
{
    char *copy = strdup(list);
    if (!copy)
        return lgcn_error("out of memory");
    int rc = 0, any = 0;
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        any = 1;
        while (isspace((unsigned char)*tok))
            tok++;
        size_t len = strlen(tok);
        while (len && isspace((unsigned char)tok[len - 1]))
            tok[--len] = 0;
        int g = lgcn_dataset_find_genre(ds, tok);
        if (g < 0) {
            char known[1024] = "";
            size_t at = 0;
            for (uint32_t k = 0; k < ds->n_genres && at < sizeof known; k++)
                at += (size_t)snprintf(known + at, sizeof known - at, "%s%s", k ? ", " : "",
                                       ds->genre_names[k]);
            rc = ds->n_genres ? lgcn_error("unknown genre '%s' (known genres: %s)", tok, known)
                              : lgcn_error("unknown genre '%s' (this dataset has no genres)", tok);
            break;
        }
        *mask |= UINT64_C(1) << g;
    }
    if (rc == 0 && !any)
        rc = lgcn_error("empty genre name in --genre '%s'", list);
    free(copy);
    return rc;
}

int main(int argc, char **argv)
{
    cmd_init("lgcn-recommend");
    const char *dir = NULL, *model_opt = NULL, *user = NULL, *users_file = NULL;
    const char *genres[64];
    uint32_t n_genre_opts = 0, count = 10;
    int json = 0, list_genres = 0, header = 1;
    enum { O_USERS = 256, O_LIST, O_NOHDR };
    static const struct option lo[] = {
        {"data", required_argument, 0, 'd'}, {"model", required_argument, 0, 'm'},
        {"user", required_argument, 0, 'u'}, {"users", required_argument, 0, O_USERS},
        {"count", required_argument, 0, 'n'}, {"genre", required_argument, 0, 'g'},
        {"format", required_argument, 0, 'f'}, {"no-header", no_argument, 0, O_NOHDR},
        {"list-genres", no_argument, 0, O_LIST}, {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, ":d:m:u:n:g:f:hV", lo, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'm': model_opt = optarg; break;
        case 'u': user = optarg; break;
        case O_USERS: users_file = optarg; break;
        case 'n':
            if (cmd_u32("-n", optarg, 1, 1000000, &count) != 0)
                return EXIT_USAGE;
            break;
        case 'g':
            if (n_genre_opts == 64)
                return cmd_usage("too many --genre options");
            genres[n_genre_opts++] = optarg;
            break;
        case 'f':
            if (cmd_format(optarg, "jsonl", &json) != 0)
                return EXIT_USAGE;
            break;
        case O_NOHDR: header = 0; break;
        case O_LIST: list_genres = 1; break;
        case 'h': return cmd_help(usage);
        case 'V': return cmd_version();
        default: return cmd_bad_option(c, argv);
        }
    }
    if (optind < argc)
        return cmd_usage("unexpected argument '%s'", argv[optind]);
    if (!dir)
        return cmd_usage("missing -d DIR");
    if (!list_genres && !user && !users_file)
        return cmd_usage("missing -u USER (or --users FILE, or --list-genres)");
    if ((user && users_file) || (list_genres && (user || users_file)))
        return cmd_usage("give one of -u, --users and --list-genres");

    lgcn_dataset ds;
    if (list_genres) {
        if (lgcn_dataset_load(dir, &ds) != 0)
            return cmd_fail();
        for (uint32_t g = 0; g < ds.n_genres; g++)
            printf("%s\n", ds.genre_names[g]);
        lgcn_dataset_free(&ds);
        return cmd_flush_stdout();
    }
    int rc = EXIT_DATA;
    uint64_t mask = 0;
    lgcn_model m = {0};
    lgcn_recommender rec = {0};
    lgcn_scored *buf = NULL;
    FILE *in = NULL;
    char *model_path = cmd_model_path(dir, model_opt);
    if (!model_path)
        return cmd_fail();
    if (lgcn_load_pair(dir, model_path, &ds, &m) != 0) {
        free(model_path);
        return cmd_fail();
    }
    for (uint32_t k = 0; k < n_genre_opts; k++)
        if (add_genres(&ds, genres[k], &mask) != 0) {
            cmd_fail();
            goto out;
        }
    if (lgcn_recommender_init(&rec, &ds, &m, mask) != 0 || !(buf = lgcn_malloc((size_t)count * sizeof *buf))) {
        cmd_fail();
        goto out;
    }
    if (user) {
        /* an unknown user fails before anything is printed */
        int64_t raw;
        if (lgcn_parse_i64(user, INT64_MIN, INT64_MAX, "-u", &raw) != 0) {
            rc = cmd_usage("%s", lgcn_errmsg());
            goto out;
        }
        if (lgcn_dataset_find_user(&ds, raw) < 0) {
            cmd_msg("unknown user %lld", (long long)raw);
            goto out;
        }
    }
    if (users_file) {
        in = strcmp(users_file, "-") == 0 ? stdin : fopen(users_file, "r");
        if (!in) {
            lgcn_error_errno("cannot open '%s'", users_file);
            cmd_fail();
            goto out;
        }
    }
    if (header && !json)
        printf("user_id\trank\tmovie_id\tscore\ttitle\tgenres\n");
    if (user) {
        if (recommend_one(&rec, user, count, buf, json) != 0) {
            if (!ferror(stdout))
                cmd_fail();
            cmd_flush_stdout();
            goto out;
        }
        rc = EXIT_OK;
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        unsigned long lineno = 0, failed = 0;
        while ((len = getline(&line, &cap, in)) > 0) {
            lineno++;
            char *s = line;
            while (len && isspace((unsigned char)s[len - 1]))
                s[--len] = 0;
            while (isspace((unsigned char)*s))
                s++;
            if (!*s || *s == '#')
                continue;
            if (recommend_one(&rec, s, count, buf, json) != 0) {
                if (ferror(stdout))
                    break; /* reported once, below */
                cmd_msg("%s: line %lu: %s", strcmp(users_file, "-") ? users_file : "stdin", lineno,
                        lgcn_errmsg());
                failed++;
            }
        }
        free(line);
        if (ferror(in)) {
            lgcn_error_errno("cannot read '%s'", users_file);
            cmd_fail();
            goto out;
        }
        rc = failed ? EXIT_DATA : EXIT_OK;
    }
    if (cmd_flush_stdout() != EXIT_OK)
        rc = EXIT_DATA;
out:
    if (in && in != stdin)
        fclose(in);
    free(buf);
    free(model_path);
    lgcn_recommender_free(&rec);
    lgcn_model_free(&m);
    lgcn_dataset_free(&ds);
    return rc;
}
