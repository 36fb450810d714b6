/* read_media_file: an image or audio file as MCP image/audio content
 * (base64 + mimeType). The type comes from the file's magic bytes, the
 * extension only as a fallback (SVG has no magic). */
#include "mcp_tools.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *mime;
    bool        audio;
} media_t;

static bool at(const char *b, size_t n, size_t off, const char *magic, size_t mlen)
{
    return n >= off + mlen && memcmp(b + off, magic, mlen) == 0;
}

static bool by_magic(const char *b, size_t n, media_t *m)
{
    const unsigned char *u = (const unsigned char *)b;
    static const struct { size_t off; const char *magic; size_t len; media_t m; } tbl[] = {
        {0, "\x89PNG\r\n\x1a\n", 8, {"image/png", false}},
        {0, "\xff\xd8\xff", 3, {"image/jpeg", false}},
        {0, "GIF87a", 6, {"image/gif", false}},
        {0, "GIF89a", 6, {"image/gif", false}},
        {8, "WEBP", 4, {"image/webp", false}},
        {8, "WAVE", 4, {"audio/wav", true}},
        {0, "BM", 2, {"image/bmp", false}},
        {0, "OggS", 4, {"audio/ogg", true}},
        {0, "fLaC", 4, {"audio/flac", true}},
        {0, "ID3", 3, {"audio/mpeg", true}},
        {4, "ftypM4A", 7, {"audio/mp4", true}},
    };
    for (size_t i = 0; i < sizeof tbl / sizeof *tbl; i++) {
        if (tbl[i].off == 8 && !at(b, n, 0, "RIFF", 4))
            continue;
        if (at(b, n, tbl[i].off, tbl[i].magic, tbl[i].len)) {
            *m = tbl[i].m;
            return true;
        }
    }
    if (n >= 2 && u[0] == 0xFF && (u[1] & 0xE0) == 0xE0 && (u[1] & 0x06) != 0) {
        *m = (media_t){"audio/mpeg", true}; /* MPEG audio frame sync */
        return true;
    }
    return false;
}

static bool by_ext(const char *path, media_t *m)
{
    static const struct { const char *ext; media_t m; } tbl[] = {
        {"svg", {"image/svg+xml", false}}, {"png", {"image/png", false}},
        {"jpg", {"image/jpeg", false}},    {"jpeg", {"image/jpeg", false}},
        {"gif", {"image/gif", false}},     {"webp", {"image/webp", false}},
        {"bmp", {"image/bmp", false}},     {"wav", {"audio/wav", true}},
        {"mp3", {"audio/mpeg", true}},     {"ogg", {"audio/ogg", true}},
        {"flac", {"audio/flac", true}},    {"m4a", {"audio/mp4", true}},
    };
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return false;
    for (size_t i = 0; i < sizeof tbl / sizeof *tbl; i++)
        if (strcasecmp(dot + 1, tbl[i].ext) == 0) {
            *m = tbl[i].m;
            return true;
        }
    return false;
}

void mcp_tool_read_media_file(const mcp_ctx_t *ctx, json_t *args, mcp_result_t *r)
{
    char path[HB_PATH_MAX];
    if (mcp_arg_path(r, args, "path", path, sizeof path) < 0)
        return;
    char *buf;
    size_t len;
    hb_err_t e = {0};
    if (hb_lease_file_read_buf(ctx->lease, path, MCP_MEDIA_CAP, &buf, &len, &e) < 0) {
        if (e.code == HB_E_TOOBIG)
            mcp_res_error(r, "%s is larger than %u MB: shrink it first (e.g. exec \"convert\" "
                          "or \"ffmpeg\" if installed).", path, MCP_MEDIA_CAP >> 20);
        else
            mcp_res_hberr(r, "read", path, &e);
        return;
    }
    media_t m;
    if (!by_magic(buf, len, &m) && !by_ext(path, &m)) {
        mcp_res_error(r, "%s is not a recognised image or audio file (PNG, JPEG, GIF, WebP, "
                      "BMP, SVG, WAV, MP3, OGG, FLAC, M4A). Use read_file for text.", path);
        free(buf);
        return;
    }
    const char *ver = ctx->session && ctx->session->version[0] ? ctx->session->version : "";
    if (m.audio && strcmp(ver, "2024-11-05") == 0) {
        mcp_res_error(r, "%s is audio (%s); audio content needs MCP protocol 2025-03-26 or "
                      "later, this session negotiated 2024-11-05.", path, m.mime);
        free(buf);
        return;
    }
    char *b64 = mcp_base64(buf, len);
    free(buf);
    if (!b64) {
        mcp_res_error(r, "out of memory encoding %s", path);
        return;
    }
    if (!r->content)
        r->content = json_array();
    json_array_append_new(r->content, json_pack("{s:s, s:s, s:s}", "type",
                                                m.audio ? "audio" : "image", "data", b64,
                                                "mimeType", m.mime));
    free(b64);
}
