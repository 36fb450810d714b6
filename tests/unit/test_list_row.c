/* The list rows kept as text (gateway/list_row.c, issue 19): what they
 * write is the JSON GET /hiveboxes gave before them (hb_json_list),
 * byte for byte, at any time, with OpenCode on or off and under a filter. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "list_row.h"
#include "req_parse.h"   /* hb_meta_match */

/* Every field set; strings that need escaping wherever the API lets a
 * client put one (image names are checked at create, but the renderer
 * must not rely on it). */
static void full_row(hb_sbinfo_t *s, const char *id, int64_t created, const char *meta)
{
    memset(s, 0, sizeof *s);
    cr_assert_eq(hb_str_set(&s->id, id), 0);
    cr_assert_eq(hb_str_set(&s->status, "failed"), 0);
    cr_assert_eq(hb_str_set(&s->image, "img \"q\" \\ \"uptime_seconds\":0,\"ttl_seconds\":0"), 0);
    s->created_at = created;
    s->expires_at = created + 3600;
    cr_assert_eq(hb_str_set(&s->memory, "512m"), 0);
    s->memory_bytes = 512u << 20;
    s->cpus = 0.3;
    s->pids = 77;
    cr_assert_eq(hb_str_set(&s->network, "shared"), 0);
    cr_assert_eq(hb_str_set(&s->net_group, "g1"), 0);
    cr_assert_eq(hb_str_set(&s->net_ip, "10.99.0.7"), 0);
    s->commands_executed = 12345;
    s->has_usage = true;
    s->usage_memory_bytes = 1000;
    s->usage_disk_bytes = 4096;
    cr_assert_eq(hb_str_set(&s->disk, "10g"), 0);
    s->disk_bytes = 10ull << 30;
    cr_assert_eq(hb_str_set(&s->failure, "init died: \"signal\" 9\n\t\x01"), 0);
    s->failed_at = created + 10;
    cr_assert_eq(hb_str_set(&s->metadata, meta), 0);
    cr_assert_eq(hb_str_set(&s->env_names, "[\"A\",\"B\\\"C\"]"), 0);
    s->paused_at = created + 20;
    s->auto_resume = true;
    cr_assert_eq(hb_str_set(&s->on_timeout, "pause"), 0);
    cr_assert_eq(hb_str_set(&s->egress, "{\"allow_out\":[\"1.2.3.4\"]}"), 0);
}

/* What hb_list_text writes against what hb_json_list gives. */
static void same_as_before(hb_sbinfo_t *s, size_t n, const json_t *filter, int64_t now,
                           bool oc)
{
    hb_list_row_t *rows = calloc(n, sizeof *rows), **ptrs = calloc(n, sizeof *ptrs);
    hb_sbinfo_t *kept = calloc(n, sizeof *kept);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(hb_list_row_render(&rows[i], &s[i]), 0);
        ptrs[i] = &rows[i];
        if (!filter || hb_meta_match(s[i].metadata, filter))
            kept[k++] = s[i];   /* borrowed */
    }
    size_t len = 0;
    char *got = hb_list_text(ptrs, n, filter, now, oc, &len);
    size_t want_len = 0;
    json_t *ref = hb_json_list(kept, k, now, oc);
    char *want = hb_json_text(ref, &want_len);
    json_decref(ref);
    cr_assert_not_null(got);
    cr_assert_eq(len, strlen(got));
    cr_assert_str_eq(got, want, "oc=%d now=%lld", oc, (long long)now);
    free(got);
    free(want);
    for (size_t i = 0; i < n; i++)
        hb_list_row_clear(&rows[i]);
    free(rows);
    free(ptrs);
    free(kept);
}

Test(list_row, one_row_with_every_field_byte_for_byte)
{
    hb_sbinfo_t s;
    full_row(&s, "box-1", 1700000000, "{\"k\":\"v \\\"q\\\" \\u00e9 \\n\",\"t\":\"x\"}");
    for (int oc = 0; oc < 2; oc++) {
        same_as_before(&s, 1, NULL, 1700000000 - 5, oc);   /* clock behind created */
        same_as_before(&s, 1, NULL, 1700000123, oc);
        same_as_before(&s, 1, NULL, 1700009999, oc);       /* past its expiry */
    }
    hb_sbinfo_clear(&s);
}

Test(list_row, fields_left_out_when_unset)
{
    hb_sbinfo_t s = {0};
    cr_assert_eq(hb_str_set(&s.id, "bare"), 0);
    s.created_at = 100;
    same_as_before(&s, 1, NULL, 160, true);
    same_as_before(&s, 1, NULL, 160, false);
    hb_sbinfo_clear(&s);
}

Test(list_row, many_rows_filtered_and_empty)
{
    hb_sbinfo_t s[3];
    full_row(&s[0], "a", 10, "{\"team\":\"x\"}");
    full_row(&s[1], "b", 20, "{\"team\":\"y\"}");
    full_row(&s[2], "c", 30, "{\"team\":\"x\",\"z\":\"1\"}");
    json_t *f = json_pack("{s:s}", "team", "x");
    same_as_before(s, 3, NULL, 50, true);
    same_as_before(s, 3, f, 50, false);
    json_t *none = json_pack("{s:s}", "team", "nobody");
    same_as_before(s, 3, none, 50, false);   /* {"sandboxes":[],"total":0} */
    same_as_before(s, 0, NULL, 50, false);
    json_decref(f);
    json_decref(none);
    for (int i = 0; i < 3; i++)
        hb_sbinfo_clear(&s[i]);
}

Test(list_row, sorted_by_created_then_id)
{
    hb_list_row_t r[3] = {{.created_at = 5, .id = "b"}, {.created_at = 5, .id = "a"},
                          {.created_at = 1, .id = "z"}};
    hb_list_row_t *p[3] = {&r[0], &r[1], &r[2]};
    qsort(p, 3, sizeof *p, hb_list_row_cmp);
    cr_assert_str_eq(p[0]->id, "z");
    cr_assert_str_eq(p[1]->id, "a");
    cr_assert_str_eq(p[2]->id, "b");
}
