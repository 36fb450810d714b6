/* Bounded JSON nesting (see json_depth.h). */
#include "json_depth.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

long hb_json_too_deep(const char *text, size_t len, unsigned max)
{
    unsigned depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (in_str) {
            if (ch == '\\')
                i++;   /* the escaped byte cannot end the string */
            else if (ch == '"')
                in_str = false;
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == '[' || ch == '{') {
            if (++depth > max)
                return (long)i;
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            depth--;
        }
    }
    return -1;
}

/* jansson's error shape: 1-based line and column (in bytes, close enough
 * for a message), and the error code in the text's last byte, which is how
 * jansson.h's json_error_code() reads it. */
static void depth_error(json_error_t *je, const char *text, size_t at)
{
    memset(je, 0, sizeof *je);
    je->line = 1;
    je->column = 1;
    for (size_t i = 0; i < at; i++) {
        if (text[i] == '\n') {
            je->line++;
            je->column = 1;
        } else {
            je->column++;
        }
    }
    je->position = at > INT_MAX ? INT_MAX : (int)at;
    snprintf(je->source, sizeof je->source, "<buffer>");
    snprintf(je->text, sizeof je->text, "JSON nested deeper than %u levels", HB_JSON_DEPTH_MAX);
    je->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)json_error_stack_overflow;
}

json_t *hb_json_loadb(const char *text, size_t len, size_t flags, json_error_t *je)
{
    long at = hb_json_too_deep(text, len, HB_JSON_DEPTH_MAX);
    if (at >= 0) {
        if (je)
            depth_error(je, text, (size_t)at);
        return NULL;
    }
    return json_loadb(text, len, flags, je);
}
