/* The tools' definitions (schemas with descriptions, so a model uses them
 * well) and the validator every tools/call argument object passes before a
 * tool sees it. The validator understands exactly the JSON Schema subset the
 * definitions use: type, properties, required, additionalProperties:false,
 * minLength/maxLength, minimum/maximum, enum, items, minItems/maxItems.
 *
 * The definitions are parsed once into read-only jansson values; callers get
 * deep copies, so no thread ever writes to them. */
#include "mcp.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mcp_tool {
    const char *name;
    const char *title;
    const char *description;
    const char *input;      /* JSON Schema text */
    const char *output;     /* JSON Schema text or NULL */
    bool        read_only;
    json_t     *in_schema;  /* parsed once */
    json_t     *out_schema;
};

#define PATH_DESC(what) \
    "\"type\":\"string\",\"minLength\":1,\"maxLength\":4096,\"description\":\"" what \
    " (absolute, or relative to /root)\""

static mcp_tool_t g_tools[] = {
    {"exec", "Run a shell command",
     "Run a shell command inside the sandbox with /bin/sh -c, as root, in /root unless cwd is "
     "given. Returns stdout, stderr and the exit code (also as structuredContent). Output beyond "
     "100 KB per stream is truncated. Use file tools for reading and writing files.",
     "{\"type\":\"object\",\"properties\":{"
     "\"command\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":262144,"
     "\"description\":\"Shell command line, e.g. \\\"python3 script.py --flag\\\"\"},"
     "\"timeout\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":3600,"
     "\"description\":\"Seconds before the command is killed (default 120)\"},"
     "\"cwd\":{" PATH_DESC("Working directory") "}},"
     "\"required\":[\"command\"],\"additionalProperties\":false}",
     "{\"type\":\"object\",\"properties\":{\"exit_code\":{\"type\":\"integer\"},"
     "\"stdout\":{\"type\":\"string\"},\"stderr\":{\"type\":\"string\"}},"
     "\"required\":[\"exit_code\",\"stdout\",\"stderr\"]}",
     false, NULL, NULL},
    {"read_file", "Read a text file",
     "Read a UTF-8 text file. Give head (first N lines) or tail (last N lines) to read part "
     "of a large file. Files over 200 KB are truncated with a note; binary files are refused "
     "(use read_media_file for images and audio).",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{" PATH_DESC("File to read") "},"
     "\"head\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"Only the first N lines\"},"
     "\"tail\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"Only the last N lines\"}},"
     "\"required\":[\"path\"],\"additionalProperties\":false}",
     NULL, true, NULL, NULL},
    {"read_multiple_files", "Read several files",
     "Read several text files at once. Each file's content appears under a '=== path ===' "
     "header; a file that cannot be read shows its own error without failing the others.",
     "{\"type\":\"object\",\"properties\":{"
     "\"paths\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":50,\"items\":{" PATH_DESC("File")
     "},\"description\":\"Files to read (at most 50)\"}},"
     "\"required\":[\"paths\"],\"additionalProperties\":false}",
     NULL, true, NULL, NULL},
    {"write_file", "Write a file",
     "Create a file or replace its whole content (parent directories are created). Use "
     "edit_file for a targeted change to an existing file.",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{" PATH_DESC("File to write") "},"
     "\"content\":{\"type\":\"string\",\"description\":\"The complete new content\"}},"
     "\"required\":[\"path\",\"content\"],\"additionalProperties\":false}",
     NULL, false, NULL, NULL},
    {"edit_file", "Replace text in a file",
     "Replace old_text with new_text in a file. old_text must match exactly (whitespace "
     "included) and occur exactly once, unless replace_all is true. Read the file first.",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{" PATH_DESC("File to edit") "},"
     "\"old_text\":{\"type\":\"string\",\"minLength\":1,\"description\":\"Exact text to find\"},"
     "\"new_text\":{\"type\":\"string\",\"description\":\"Replacement text\"},"
     "\"replace_all\":{\"type\":\"boolean\",\"description\":\"Replace every occurrence "
     "(default false: old_text must be unique)\"}},"
     "\"required\":[\"path\",\"old_text\",\"new_text\"],\"additionalProperties\":false}",
     NULL, false, NULL, NULL},
    {"list_directory", "List a directory",
     "List a directory's entries, each marked [DIR], [FILE] or [LINK].",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{" PATH_DESC("Directory") "}},"
     "\"required\":[\"path\"],\"additionalProperties\":false}",
     NULL, true, NULL, NULL},
    {"directory_tree", "Show a directory tree",
     "Recursive tree of a directory, directories marked with a trailing '/'. At most 500 "
     "entries are shown.",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{" PATH_DESC("Root of the tree") "},"
     "\"max_depth\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":10,"
     "\"description\":\"Levels to descend (default 3)\"}},"
     "\"required\":[\"path\"],\"additionalProperties\":false}",
     NULL, true, NULL, NULL},
    {"search_files", "Search file contents",
     "Search text files under a directory for lines matching a regular expression (POSIX "
     "extended, as grep -E), like grep -rn: each match as path:line:text. At most 200 "
     "matches are shown.",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{" PATH_DESC("Directory (or file) to search") "},"
     "\"pattern\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":4096,"
     "\"description\":\"Regular expression, e.g. \\\"def [a-z_]+\\\\(\\\"\"},"
     "\"file_pattern\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":256,"
     "\"description\":\"Only files whose name matches this glob, e.g. \\\"*.py\\\"\"}},"
     "\"required\":[\"path\",\"pattern\"],\"additionalProperties\":false}",
     NULL, true, NULL, NULL},
    {"glob", "Find files by name pattern",
     "Find files whose path matches a glob: '*' and '?' within a name, '**' across "
     "directories. A pattern without '/' matches names at any depth (\"*.json\" finds every "
     "JSON file). Hidden entries are skipped. At most 500 results, sorted.",
     "{\"type\":\"object\",\"properties\":{"
     "\"pattern\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024,"
     "\"description\":\"Glob such as \\\"**/*.ts\\\" or \\\"src/*.c\\\"\"},"
     "\"path\":{" PATH_DESC("Directory to search from (default /root)") "}},"
     "\"required\":[\"pattern\"],\"additionalProperties\":false}",
     NULL, true, NULL, NULL},
    {"get_file_info", "File metadata",
     "Metadata of a file or directory (not following a final symlink): type, size, "
     "permissions, owner and times.",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{" PATH_DESC("File or directory") "}},"
     "\"required\":[\"path\"],\"additionalProperties\":false}",
     NULL, true, NULL, NULL},
    {"create_directory", "Create a directory",
     "Create a directory and any missing parents. Succeeds if it already exists.",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{" PATH_DESC("Directory to create") "}},"
     "\"required\":[\"path\"],\"additionalProperties\":false}",
     NULL, false, NULL, NULL},
    {"move_file", "Move or rename",
     "Move or rename a file or directory. Fails if the destination already exists.",
     "{\"type\":\"object\",\"properties\":{"
     "\"source\":{" PATH_DESC("Existing file or directory") "},"
     "\"destination\":{" PATH_DESC("New path") "}},"
     "\"required\":[\"source\",\"destination\"],\"additionalProperties\":false}",
     NULL, false, NULL, NULL},
    {"read_media_file", "Read an image or audio file",
     "Read an image (PNG, JPEG, GIF, WebP, BMP, SVG) or audio file (WAV, MP3, OGG, FLAC, M4A) "
     "as base64 content with its MIME type. At most 10 MB.",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{" PATH_DESC("Image or audio file") "}},"
     "\"required\":[\"path\"],\"additionalProperties\":false}",
     NULL, true, NULL, NULL},
    {"list_directory_with_sizes", "List a directory with sizes",
     "List a directory's entries with human-readable file sizes, plus totals.",
     "{\"type\":\"object\",\"properties\":{"
     "\"path\":{" PATH_DESC("Directory") "},"
     "\"sort_by\":{\"type\":\"string\",\"enum\":[\"name\",\"size\"],"
     "\"description\":\"Order entries by name (default) or by size, largest first\"}},"
     "\"required\":[\"path\"],\"additionalProperties\":false}",
     NULL, true, NULL, NULL},
    {"list_skills", "List skills",
     "List the skills available in this sandbox (read-only under /opt/skills/<name>), each "
     "with its description. Read a skill's SKILL.md with read_skill_file before using it; its "
     "scripts can be run with exec.",
     "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
     NULL, true, NULL, NULL},
    {"read_skill_file", "Read a skill file",
     "Read a file of a skill: its SKILL.md by default, or another file inside the skill "
     "directory (e.g. \"scripts/tool.py\").",
     "{\"type\":\"object\",\"properties\":{"
     "\"skill\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":63,"
     "\"description\":\"Skill name, as list_skills shows it\"},"
     "\"file\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":1024,"
     "\"description\":\"Path inside the skill directory (default SKILL.md)\"}},"
     "\"required\":[\"skill\"],\"additionalProperties\":false}",
     NULL, true, NULL, NULL},
};

#define N_TOOLS (sizeof g_tools / sizeof *g_tools)

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void parse_all(void)
{
    for (size_t i = 0; i < N_TOOLS; i++) {
        json_error_t err;
        g_tools[i].in_schema = json_loads(g_tools[i].input, 0, &err);
        if (!g_tools[i].in_schema) {
            fprintf(stderr, "mcp: bad built-in schema of %s: %s\n", g_tools[i].name, err.text);
            abort();
        }
        if (g_tools[i].output) {
            g_tools[i].out_schema = json_loads(g_tools[i].output, 0, &err);
            if (!g_tools[i].out_schema)
                abort();
        }
    }
}

const mcp_tool_t *mcp_tool_find(const char *name)
{
    pthread_once(&g_once, parse_all);
    for (size_t i = 0; name && i < N_TOOLS; i++)
        if (strcmp(g_tools[i].name, name) == 0)
            return &g_tools[i];
    return NULL;
}

const char *mcp_tool_name(const mcp_tool_t *t) { return t->name; }

json_t *mcp_tools_list(bool with_output)
{
    pthread_once(&g_once, parse_all);
    json_t *arr = json_array();
    for (size_t i = 0; i < N_TOOLS; i++) {
        const mcp_tool_t *t = &g_tools[i];
        json_t *o = json_pack("{s:s, s:s, s:o}", "name", t->name, "description", t->description,
                              "inputSchema", json_deep_copy(t->in_schema));
        if (with_output) {
            json_object_set_new(o, "title", json_string(t->title));
            if (t->out_schema)
                json_object_set_new(o, "outputSchema", json_deep_copy(t->out_schema));
        }
        json_object_set_new(o, "annotations",
                            json_pack("{s:s, s:b, s:b, s:b}", "title", t->title, "readOnlyHint",
                                      t->read_only, "destructiveHint", !t->read_only,
                                      "openWorldHint", false));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* ---- validation ---- */

static const char *type_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: return "integer";
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    default: return "null";
    }
}

/* JSON Schema's "integer" also admits 3.0. */
static bool as_integer(const json_t *v, json_int_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (isfinite(d) && d == floor(d) && fabs(d) < 9.0e15) {
            *out = (json_int_t)d;
            return true;
        }
    }
    return false;
}

static int check(const json_t *schema, const json_t *v, const char *where, char *msg, size_t len);

static int check_string(const json_t *schema, const json_t *v, const char *where, char *msg,
                        size_t len)
{
    size_t n = json_string_length(v);
    json_t *mn = json_object_get(schema, "minLength"), *mx = json_object_get(schema, "maxLength");
    if (mn && n < (size_t)json_integer_value(mn)) {
        snprintf(msg, len, "%s must not be empty", where);
        return -1;
    }
    if (mx && n > (size_t)json_integer_value(mx)) {
        snprintf(msg, len, "%s is too long (%zu bytes, at most %lld)", where, n,
                 (long long)json_integer_value(mx));
        return -1;
    }
    /* Bounded strings are names, paths and commands, which a NUL would cut
     * short; only free text (file content) may carry one. */
    if (json_object_get(schema, "maxLength") && memchr(json_string_value(v), '\0', n)) {
        snprintf(msg, len, "%s must not contain NUL characters", where);
        return -1;
    }
    json_t *en = json_object_get(schema, "enum");
    if (en) {
        size_t i;
        json_t *e;
        json_array_foreach(en, i, e)
            if (json_equal(e, v))
                return 0;
        snprintf(msg, len, "%s must be one of %s", where, "the listed values");
        char *s = json_dumps(en, JSON_COMPACT);
        if (s)
            snprintf(msg, len, "%s must be one of %s", where, s);
        free(s);
        return -1;
    }
    return 0;
}

static int check_integer(const json_t *schema, const json_t *v, const char *where, char *msg,
                         size_t len)
{
    json_int_t x;
    if (!as_integer(v, &x)) {
        snprintf(msg, len, "%s must be an integer, got %s", where, type_of(v));
        return -1;
    }
    json_t *mn = json_object_get(schema, "minimum"), *mx = json_object_get(schema, "maximum");
    if ((mn && x < json_integer_value(mn)) || (mx && x > json_integer_value(mx))) {
        if (mn && mx)
            snprintf(msg, len, "%s must be between %lld and %lld", where,
                     (long long)json_integer_value(mn), (long long)json_integer_value(mx));
        else
            snprintf(msg, len, "%s must be at least %lld", where,
                     (long long)json_integer_value(mn));
        return -1;
    }
    return 0;
}

static int check_array(const json_t *schema, const json_t *v, const char *where, char *msg,
                       size_t len)
{
    size_t n = json_array_size(v);
    json_t *mn = json_object_get(schema, "minItems"), *mx = json_object_get(schema, "maxItems");
    if (mn && n < (size_t)json_integer_value(mn)) {
        snprintf(msg, len, "%s needs at least %lld item(s)", where,
                 (long long)json_integer_value(mn));
        return -1;
    }
    if (mx && n > (size_t)json_integer_value(mx)) {
        snprintf(msg, len, "%s has %zu items, at most %lld allowed", where, n,
                 (long long)json_integer_value(mx));
        return -1;
    }
    json_t *items = json_object_get(schema, "items");
    for (size_t i = 0; items && i < n; i++) {
        char w[160];
        snprintf(w, sizeof w, "%s[%zu]", where, i);
        if (check(items, json_array_get(v, i), w, msg, len) < 0)
            return -1;
    }
    return 0;
}

static int check_object(const json_t *schema, const json_t *v, const char *where, char *msg,
                        size_t len)
{
    json_t *props = json_object_get(schema, "properties");
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)v, key, val) {
        json_t *ps = json_object_get(props, key);
        if (!ps) {
            snprintf(msg, len, "unknown argument '%.64s'%s%s", key, where[0] ? " in " : "", where);
            return -1;
        }
        char w[160];
        snprintf(w, sizeof w, "argument '%s'", key);
        if (check(ps, val, w, msg, len) < 0)
            return -1;
    }
    size_t i;
    json_t *req;
    json_array_foreach(json_object_get(schema, "required"), i, req) {
        if (!json_object_get(v, json_string_value(req))) {
            snprintf(msg, len, "missing required argument '%s'", json_string_value(req));
            return -1;
        }
    }
    return 0;
}

static int check(const json_t *schema, const json_t *v, const char *where, char *msg, size_t len)
{
    const char *want = json_string_value(json_object_get(schema, "type"));
    if (!want)
        return 0;
    if (strcmp(want, "integer") == 0)
        return check_integer(schema, v, where, msg, len);
    if (strcmp(want, type_of(v)) != 0) {
        snprintf(msg, len, "%s must be %s %s, got %s", where[0] ? where : "arguments",
                 strcmp(want, "integer") == 0 || strcmp(want, "object") == 0 ||
                         strcmp(want, "array") == 0
                     ? "an"
                     : "a",
                 want, type_of(v));
        return -1;
    }
    if (json_is_string(v))
        return check_string(schema, v, where, msg, len);
    if (json_is_array(v))
        return check_array(schema, v, where, msg, len);
    if (json_is_object(v))
        return check_object(schema, v, where, msg, len);
    return 0;
}

int mcp_tool_validate(const mcp_tool_t *t, json_t *args, char *msg, size_t len)
{
    json_t *empty = NULL;
    if (!args)
        args = empty = json_object();
    int r = check(t->in_schema, args, "", msg, len);
    json_decref(empty);
    return r;
}
