/* `hivebox port ID PORT [--public | --private] [--expires SECONDS]`: a
 * preview URL of a sandbox's port (README "Preview ports"). Plain: the URL
 * (the host form with --preview-domain, else the path form), opened with
 * the API key, the preview token or, with --expires, a signed URL that
 * needs neither; --public/--private first sets who may open it. */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

#define USAGE "port ID PORT [--public | --private] [--expires SECONDS] [--json]"

typedef struct {
    int access;              /* 1 --public, 0 --private, -1 unchanged */
    const char *expires;     /* --expires SECONDS, or NULL */
} port_opts_t;

/* Our options out of argv (the rest goes to the common parser); -1 on a
 * missing value. */
static int take_own(int *argc, char **argv, port_opts_t *p)
{
    int k = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--public") == 0 || strcmp(argv[i], "--private") == 0) {
            p->access = argv[i][2] == 'p' && argv[i][3] == 'u';
        } else if (strcmp(argv[i], "--expires") == 0) {
            if (i + 1 >= *argc)
                return -1;
            p->expires = argv[++i];
        } else {
            argv[k++] = argv[i];
        }
    }
    *argc = k;
    return 0;
}

static bool number_ok(const char *what, const char *s, long long lo, long long hi)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!errno && end != s && !*end && v >= lo && v <= hi)
        return true;
    fprintf(stderr, "hivebox port: %s: expected a number from %lld to %lld, got '%.64s'\n"
            "usage: hivebox " USAGE "\n", what, lo, hi, s);
    return false;
}

/* One call; its JSON answer printed (--json) or its "url". */
static int call(const cli_opts_t *o, const char *method, const char *path, const char *body,
                bool print)
{
    cli_resp_t r;
    if (cli_http(o, method, path, body, &r) < 0)
        return CLI_EXIT_ERROR;
    int rc = 0;
    if (r.status != 200) {
        rc = cli_report_error(&r);
    } else if (print && o->json) {
        printf("%s\n", r.body ? r.body : "");
    } else if (print) {
        json_t *j = json_loads(r.body ? r.body : "", 0, NULL);
        const char *url = json_string_value(json_object_get(j, "url"));
        printf("%s\n", url ? url : "?");
        json_decref(j);
    }
    cli_resp_free(&r);
    return rc;
}

/* The listed port's URL; one not listening yet gets the path form. */
static int print_listed(const cli_opts_t *o, const cli_resp_t *r, const char *port)
{
    json_t *j = json_loads(r->body ? r->body : "", 0, NULL), *v;
    size_t i;
    const char *url = NULL;
    json_array_foreach(json_object_get(j, "ports"), i, v) {
        if (json_integer_value(json_object_get(v, "port")) == atoi(port))
            url = json_string_value(json_object_get(v, "url"));
    }
    if (url)
        printf("%s\n", url);
    else
        printf("%s/api/v1/hiveboxes/%s/ports/%s/\n", cli_api_url(o), o->pos[0], port);
    json_decref(j);
    return 0;
}

int cli_cmd_port(int argc, char **argv)
{
    port_opts_t p = {.access = -1};
    cli_opts_t o;
    if (take_own(&argc, argv, &p) < 0) {
        fprintf(stderr, "hivebox port: --expires needs SECONDS\nusage: hivebox " USAGE "\n");
        return CLI_EXIT_USAGE;
    }
    int prc = cli_parse_cmd(argc, argv, 0, USAGE, 2, 2, false, &o);
    if (prc != 0)
        return prc > 0 ? 0 : CLI_EXIT_USAGE;
    if (!cli_id_ok(o.pos[0]) || !number_ok("PORT", o.pos[1], 1, 65535) ||
        (p.expires && !number_ok("--expires", p.expires, 1, 30LL * 24 * 3600)))
        return CLI_EXIT_USAGE;
    char path[HB_ID_MAX + 64], body[64];
    snprintf(path, sizeof path, "/api/v1/hiveboxes/%s/ports/%s", o.pos[0], o.pos[1]);
    if (p.access >= 0) {
        snprintf(body, sizeof body, "{\"public\":%s}", p.access ? "true" : "false");
        int rc = call(&o, "PUT", path, body, !p.expires);
        if (rc != 0 || !p.expires)
            return rc;
    }
    if (p.expires) {
        char mint[sizeof path + 8];
        snprintf(body, sizeof body, "{\"expires_in\":%s}", p.expires);
        snprintf(mint, sizeof mint, "%s/url", path);
        return call(&o, "POST", mint, body, true);
    }
    /* No change asked: the port's URL as GET .../ports shows it. */
    cli_resp_t r;
    char list[HB_ID_MAX + 48];
    snprintf(list, sizeof list, "/api/v1/hiveboxes/%s/ports", o.pos[0]);
    if (cli_http(&o, "GET", list, NULL, &r) < 0)
        return CLI_EXIT_ERROR;
    int rc = r.status == 200 ? 0 : cli_report_error(&r);
    if (rc == 0)
        rc = o.json ? (printf("%s\n", r.body ? r.body : ""), 0) : print_listed(&o, &r, o.pos[1]);
    cli_resp_free(&r);
    return rc;
}
