/* OCI index and manifests, docker-archive manifest.json, whiteout names:
 * pure functions on buffers (see oci.h). Every text is size- and
 * depth-checked before jansson parses it. */
#include "oci.h"

#include <stdio.h>
#include <string.h>

#include "json_depth.h"

#define MT_INDEX      "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LST "application/vnd.docker.distribution.manifest.list.v2+json"
#define WH_PREFIX     ".wh."
#define WH_OPAQUE     ".wh..wh..opq"

bool hb_oci_digest_valid(const char *d)
{
    if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != HB_OCI_DIGEST_LEN)
        return false;
    for (const char *p = d + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static json_t *load(const char *what, const char *text, size_t len, hb_err_t *e)
{
    json_error_t je;
    if (len > HB_OCI_JSON_MAX) {
        hb_fail(e, HB_E_INVALID, 0, "%s: larger than %u bytes", what, HB_OCI_JSON_MAX);
        return NULL;
    }
    json_t *j = hb_json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        hb_fail(e, HB_E_INVALID, 0, "%s: not valid JSON: %s", what, je.text);
    else if (!json_is_object(j) && !json_is_array(j)) {
        json_decref(j);
        hb_fail(e, HB_E_INVALID, 0, "%s: not a JSON object", what);
        return NULL;
    }
    return j;
}

/* A descriptor {"mediaType", "digest", "size"}: digest checked, the blob's
 * path in an OCI layout derived from it. */
static int descriptor(const char *what, json_t *d, hb_oci_blob_t *b, hb_err_t *e)
{
    const char *dg = json_string_value(json_object_get(d, "digest"));
    const char *mt = json_string_value(json_object_get(d, "mediaType"));
    memset(b, 0, sizeof *b);
    if (!json_is_object(d) || !dg)
        return hb_fail(e, HB_E_INVALID, 0, "%s: descriptor without a digest", what);
    if (!hb_oci_digest_valid(dg))
        return hb_fail(e, HB_E_INVALID, 0, "%s: digest '%.80s' is not sha256:<64 hex digits> "
                       "(other algorithms are not supported)", what, dg);
    snprintf(b->digest, sizeof b->digest, "%s", dg);
    snprintf(b->path, sizeof b->path, "blobs/sha256/%s", dg + 7);
    snprintf(b->media, sizeof b->media, "%.127s", mt ? mt : "");
    return 0;
}

static bool is_index_type(const char *mt)
{
    return strcmp(mt, MT_INDEX) == 0 || strcmp(mt, MT_DOCKER_LST) == 0;
}

static bool platform_is(json_t *m, const char *os, const char *arch)
{
    json_t *p = json_object_get(m, "platform");
    const char *o = json_string_value(json_object_get(p, "os"));
    const char *a = json_string_value(json_object_get(p, "architecture"));
    return o && a && strcmp(o, os) == 0 && strcmp(a, arch) == 0;
}

/* Attestations (buildx) sit in the index beside the image as manifests of
 * platform unknown/unknown: never an image to run. */
static bool is_attestation(json_t *m)
{
    return platform_is(m, "unknown", "unknown");
}

int hb_oci_index_pick(const char *text, size_t len, hb_oci_blob_t *out, bool *is_index,
                      hb_err_t *e)
{
    json_t *j = load("index.json", text, len, e);
    if (!j)
        return -1;
    json_t *ms = json_object_get(j, "manifests"), *m, *pick = NULL;
    size_t i, usable = 0;
    json_array_foreach(ms, i, m) {
        if (is_attestation(m))
            continue;
        usable++;
        if (!pick || (!platform_is(pick, "linux", "amd64") && platform_is(m, "linux", "amd64")))
            pick = m;   /* the first linux/amd64, else the first */
    }
    int rc = 0;
    if (!json_is_array(ms) || usable == 0)
        rc = hb_fail(e, HB_E_INVALID, 0, "index.json: no manifest listed");
    else if (usable > 1 && !platform_is(pick, "linux", "amd64"))
        rc = hb_fail(e, HB_E_INVALID, 0, "index.json: %zu manifests and none for linux/amd64",
                     usable);
    else
        rc = descriptor("index.json manifest", pick, out, e);
    if (rc == 0)
        *is_index = is_index_type(out->media);
    json_decref(j);
    return rc;
}

/* zstd (and anything but tar and gzip) is refused by media type here, and
 * by magic number when the layer is read. */
static int layer_type_ok(const hb_oci_blob_t *b, size_t i, hb_err_t *e)
{
    if (strstr(b->media, "zstd"))
        return hb_fail(e, HB_E_INVALID, 0, "layer %zu: zstd-compressed layers are not "
                       "supported (use gzip or plain tar)", i + 1);
    if (strstr(b->media, "nondistributable") || strstr(b->media, "foreign"))
        return hb_fail(e, HB_E_INVALID, 0, "layer %zu: foreign layers (%s) are not supported",
                       i + 1, b->media);
    return 0;
}

int hb_oci_manifest_parse(const char *text, size_t len, hb_oci_plan_t *p, hb_err_t *e)
{
    json_t *j = load("manifest", text, len, e);
    if (!j)
        return -1;
    memset(p, 0, sizeof *p);
    const char *mt = json_string_value(json_object_get(j, "mediaType"));
    json_t *ls = json_object_get(j, "layers"), *l;
    int rc = 0;
    if (mt && is_index_type(mt))
        rc = hb_fail(e, HB_E_INVALID, 0, "manifest: an index nested too deep");
    else if (!json_is_array(ls))
        rc = hb_fail(e, HB_E_INVALID, 0, "manifest: no layers array");
    else if (json_array_size(ls) > HB_OCI_LAYERS_MAX)
        rc = hb_fail(e, HB_E_INVALID, 0, "manifest: %zu layers (at most %u)",
                     json_array_size(ls), HB_OCI_LAYERS_MAX);
    else
        rc = descriptor("manifest config", json_object_get(j, "config"), &p->config, e);
    size_t i;
    json_array_foreach(ls, i, l) {
        if (rc < 0)
            break;
        char what[48];
        snprintf(what, sizeof what, "manifest layer %zu", i + 1);
        rc = descriptor(what, l, &p->layers[i], e);
        if (rc == 0)
            rc = layer_type_ok(&p->layers[i], i, e);
        p->n_layers = i + 1;
    }
    json_decref(j);
    return rc;
}

/* A path inside the archive as manifest.json names it: relative, no "..". */
static int archive_path(const char *what, json_t *v, char *out, size_t cap, hb_err_t *e)
{
    const char *s = json_string_value(v);
    if (!s || !s[0] || strlen(s) >= cap)
        return hb_fail(e, HB_E_INVALID, 0, "manifest.json: %s missing or too long", what);
    if (s[0] == '/' || strstr(s, ".."))
        return hb_fail(e, HB_E_INVALID, 0, "manifest.json: %s '%.80s' is not a plain relative "
                       "path", what, s);
    snprintf(out, cap, "%s", s);
    return 0;
}

/* A docker-archive blob named blobs/sha256/<hex> (Docker 25 and later) or
 * <hex>.json (the config of older ones) has its digest in its name. */
static void digest_from_path(hb_oci_blob_t *b)
{
    const char *s = strrchr(b->path, '/');
    s = s ? s + 1 : b->path;
    char d[HB_OCI_DIGEST_LEN + 8];
    snprintf(d, sizeof d, "sha256:%.64s", s);
    size_t n = strlen(s);
    if ((n == 64 || (n == 69 && strcmp(s + 64, ".json") == 0)) && hb_oci_digest_valid(d))
        memcpy(b->digest, d, HB_OCI_DIGEST_LEN + 1);
}

int hb_oci_docker_manifest_parse(const char *text, size_t len, hb_oci_plan_t *p, hb_err_t *e)
{
    json_t *j = load("manifest.json", text, len, e);
    if (!j)
        return -1;
    memset(p, 0, sizeof *p);
    json_t *img = json_array_get(j, 0);
    json_t *ls = json_object_get(img, "Layers"), *l;
    int rc = 0;
    if (!json_is_array(j) || json_array_size(j) != 1)
        rc = hb_fail(e, HB_E_INVALID, 0, "manifest.json: must list exactly one image (has %zu)",
                     json_is_array(j) ? json_array_size(j) : 0);
    else if (!json_is_array(ls))
        rc = hb_fail(e, HB_E_INVALID, 0, "manifest.json: no Layers array");
    else if (json_array_size(ls) > HB_OCI_LAYERS_MAX)
        rc = hb_fail(e, HB_E_INVALID, 0, "manifest.json: %zu layers (at most %u)",
                     json_array_size(ls), HB_OCI_LAYERS_MAX);
    else
        rc = archive_path("Config", json_object_get(img, "Config"), p->config.path,
                          sizeof p->config.path, e);
    if (rc == 0)
        digest_from_path(&p->config);
    size_t i;
    json_array_foreach(ls, i, l) {
        if (rc < 0)
            break;
        char what[48];
        snprintf(what, sizeof what, "Layers[%zu]", i);
        rc = archive_path(what, l, p->layers[i].path, sizeof p->layers[i].path, e);
        if (rc == 0)
            digest_from_path(&p->layers[i]);
        p->n_layers = i + 1;
    }
    json_decref(j);
    return rc;
}

int hb_oci_whiteout(const char *name, char *target, size_t cap)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    size_t dl = slash ? (size_t)(slash - name) : 0;
    if (strncmp(base, WH_PREFIX, 4) != 0)
        return 0;
    if (strcmp(base, WH_OPAQUE) == 0) {
        if (dl >= cap)
            return -1;
        snprintf(target, cap, "%.*s", (int)dl, name);
        return 2;
    }
    const char *victim = base + 4;
    if (!victim[0] || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0 ||
        strncmp(victim, WH_PREFIX, 4) == 0)
        return -1;   /* ".wh." alone, or another .wh..wh. marker we do not know */
    if ((size_t)snprintf(target, cap, "%.*s%s%s", (int)dl, name, dl ? "/" : "", victim) >= cap)
        return -1;
    return 1;
}
