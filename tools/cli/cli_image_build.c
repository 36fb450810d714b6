/* image build NAME --from IMG --run CMD [--run CMD ...] [--file SRC:DEST]
 * [--network M] [--timeout S]: an image from build steps, built by the
 * daemon (POST /api/v1/images, JSON body). The steps' output is printed as
 * it arrives (server-sent events), each step announced on stderr; the exit
 * code is 0 once the image exists, 1 when a step (or the build) failed.
 * `image build` without NAME still builds the base image (cli_image.c). */
#include "cli.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUILD_USAGE "image build NAME [--from IMG] --run CMD [--run CMD ...] " \
                    "[--file SRC:DEST ...] [--network M] [--timeout S]"
#define FILES_MAX   (8u << 20)

typedef struct {
    json_t *run, *files;
    size_t  files_bytes;
    char    err[512];
} build_args_t;

/* SRC's bytes as the text of DEST (UTF-8, as JSON needs). */
static int add_file(build_args_t *a, const char *spec)
{
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || colon[1] != '/') {
        snprintf(a->err, sizeof a->err, "--file %s: expected SRC:/absolute/dest", spec);
        return -1;
    }
    char src[4096];
    snprintf(src, sizeof src, "%.*s", (int)(colon - spec), spec);
    FILE *f = fopen(src, "rb");
    if (!f) {
        snprintf(a->err, sizeof a->err, "--file %.300s: %s", src, strerror(errno));
        return -1;
    }
    char *buf = malloc(FILES_MAX + 1);
    size_t n = buf ? fread(buf, 1, FILES_MAX + 1, f) : 0;
    fclose(f);
    json_t *text = buf && (a->files_bytes += n) <= FILES_MAX ? json_stringn(buf, n) : NULL;
    free(buf);
    if (!text) {
        snprintf(a->err, sizeof a->err, "--file %.300s: %s", src, a->files_bytes > FILES_MAX
                 ? "the files are larger than 8 MiB in all" : "not UTF-8 text");
        return -1;
    }
    json_object_set_new(a->files, colon + 1, text);
    return 0;
}

/* Take this command's own flags out of argv (what is left goes to
 * cli_parse_cmd: NAME and the common options); they go into body. */
static int take_flags(int *argc, char **argv, json_t *body, build_args_t *a)
{
    static const char *const single[] = {"--from", "--network", "--timeout"};
    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *f = argv[i];
        bool known = !strcmp(f, "--run") || !strcmp(f, "--file");
        for (size_t k = 0; k < sizeof single / sizeof single[0]; k++)
            known = known || !strcmp(f, single[k]);
        if (!known) {
            argv[out++] = argv[i];
            continue;
        }
        if (i + 1 >= *argc) {
            snprintf(a->err, sizeof a->err, "%s needs a value", f);
            return -1;
        }
        const char *v = argv[++i];
        if (!strcmp(f, "--run"))
            json_array_append_new(a->run, json_string(v));
        else if (!strcmp(f, "--file") && add_file(a, v) < 0)
            return -1;
        else if (!strcmp(f, "--timeout"))
            json_object_set_new(body, "timeout", json_integer(strtoll(v, NULL, 10)));
        else if (strcmp(f, "--file") != 0)
            json_object_set_new(body, f + 2, json_string(v));
    }
    *argc = out;
    return 0;
}

/* ---- the events ---- */

typedef struct {
    cli_sse_frames_t frames;
    bool   done, failed;
} ev_t;

static void print_out(json_t *d)
{
    const char *s = json_string_value(json_object_get(d, "data"));
    size_t n = json_string_length(json_object_get(d, "data"));
    const char *stream = json_string_value(json_object_get(d, "stream"));
    FILE *to = stream && !strcmp(stream, "stderr") ? stderr : stdout;
    if (json_object_get(d, "encoding")) {
        fputs("[binary output]\n", to);   /* base64: not for a terminal */
        return;
    }
    if (s)
        fwrite(s, 1, n, to);
    fflush(to);
}

static void on_event(ev_t *st, const char *name, json_t *d)
{
    if (!strcmp(name, "step")) {
        fprintf(stderr, "==> step %lld: %s\n",
                (long long)json_integer_value(json_object_get(d, "index")),
                json_string_value(json_object_get(d, "command")));
    } else if (!strcmp(name, "output")) {
        print_out(d);
    } else if (!strcmp(name, "done")) {
        json_t *img = json_object_get(d, "image");
        printf("image %s built\n", json_string_value(json_object_get(img, "name")));
        st->done = true;
    } else if (!strcmp(name, "error")) {
        fprintf(stderr, "hivebox: build failed: %s\n",
                json_string_value(json_object_get(d, "error")));
        st->failed = true;
    }
}

static void on_sse(void *ud, const char *name, char *data)
{
    json_t *d = json_loads(data, 0, NULL);
    if (d)
        on_event(ud, name, d);
    json_decref(d);
}

static int sink(void *ud, const void *p, size_t n)
{
    ev_t *st = ud;
    return cli_sse_feed(&st->frames, p, n, on_sse, st);
}

static int send_build(const cli_opts_t *o, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    if (!text) {
        fprintf(stderr, "hivebox: out of memory\n");
        return CLI_EXIT_ERROR;
    }
    ev_t st = {0};
    cli_resp_t r;
    int rc = cli_http_events(o, "/api/v1/images", text, sink, &st, &r);
    free(text);
    free(st.frames.buf);
    if (rc == 0 && r.status != 200)
        rc = cli_report_error(&r);
    else if (rc == 0 && !st.done && !st.failed)
        fprintf(stderr, "hivebox: the build's stream ended before its outcome\n");
    cli_resp_free(&r);
    return rc == 0 && st.done ? 0 : CLI_EXIT_ERROR;
}

bool cli_image_build_wanted(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "build") != 0)
        return false;
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], "--run"))
            return true;
    return false;
}

int cli_cmd_image_build(int argc, char **argv)
{
    build_args_t a = {.run = json_array(), .files = json_object()};
    json_t *body = json_object();
    cli_opts_t o;
    int rc = take_flags(&argc, argv, body, &a);
    if (rc < 0)
        fprintf(stderr, "hivebox image build: %s\nusage: hivebox %s\n", a.err, BUILD_USAGE);
    else if ((rc = cli_parse_cmd(argc, argv, 0, BUILD_USAGE, 1, 1, false, &o)) == 0 &&
             json_array_size(a.run) == 0) {
        fprintf(stderr, "hivebox image build: at least one --run CMD\nusage: hivebox %s\n",
                BUILD_USAGE);
        rc = -1;
    }
    if (rc == 0) {
        json_object_set_new(body, "name", json_string(o.pos[0]));
        json_object_set(body, "run", a.run);
        if (json_object_size(a.files))
            json_object_set(body, "files", a.files);
        rc = send_build(&o, body);
    } else {
        rc = rc > 0 ? 0 : CLI_EXIT_USAGE;
    }
    json_decref(body);
    json_decref(a.run);
    json_decref(a.files);
    return rc;
}
