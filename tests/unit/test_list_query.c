/* SB_LIST's query (gateway/list_query.c, issue 19): the rows E2B's list
 * pages through, picked and ordered by the manager. Paging with the cursor
 * gives every matching row once, in order, in both directions, also when
 * rows share a start second. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "list_query.h"

#define N 7

static hb_sbinfo_t rows[N];

/* Ids out of order; three rows share a second; one paused, one another image. */
static void make_rows(void)
{
    static const char *const ids[N] = {"sb-f", "sb-b", "sb-c", "sb-a", "sb-g", "sb-e", "sb-d"};
    static const int64_t at[N] = {100, 105, 105, 105, 90, 120, 110};
    memset(rows, 0, sizeof rows);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(hb_str_set(&rows[i].id, ids[i]), 0);
        cr_assert_eq(hb_str_set(&rows[i].status, i == 4 ? "paused" : "running"), 0);
        cr_assert_eq(hb_str_set(&rows[i].image, i == 6 ? "other" : "base"), 0);
        cr_assert_eq(hb_str_set(&rows[i].metadata, i % 2 ? "{\"k\":\"odd\"}" : "{\"k\":\"even\"}"),
                     0);
        rows[i].created_at = at[i];
    }
}

static void free_rows(void)
{
    for (int i = 0; i < N; i++)
        hb_sbinfo_clear(&rows[i]);
}

TestSuite(list_query, .init = make_rows, .fini = free_rows);

/* One page as the manager makes it: ids joined by spaces; *more when cut. */
static void page(hb_msg_t *q, char *out, size_t len, bool *more)
{
    hb_list_query_t lq;
    hb_err_t e = {0};
    cr_assert_eq(hb_list_query_of(q, &lq, &e), 0, "%s", e.msg);
    const hb_sbinfo_t *pick[N];
    size_t n = 0;
    for (int i = 0; i < N; i++)
        if (hb_list_query_keep(&lq, &rows[i]))
            pick[n++] = &rows[i];
    qsort_r(pick, n, sizeof *pick, hb_list_query_cmp, &lq);
    size_t give = lq.limit && lq.limit < n ? lq.limit : n;
    out[0] = '\0';
    for (size_t i = 0; i < give; i++)
        snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? " " : "", pick[i]->id);
    *more = give < n;
    if (give && *more) {   /* the next page's cursor: the last row given */
        q->created_at = pick[give - 1]->created_at;
        cr_assert_eq(hb_str_set(&q->id, pick[give - 1]->id), 0);
    }
    hb_list_query_clear(&lq);
}

/* Every page of `limit` rows, joined: the cursor must neither skip nor repeat. */
static void walk(bool desc, uint64_t limit, const char *want)
{
    hb_msg_t q = {.type = HB_MSG_SB_LIST, .descending = desc, .count = limit};
    char all[256] = "", one[128];
    bool more = true;
    for (int pages = 0; more; pages++) {
        cr_assert_lt(pages, N + 1, "the cursor does not advance");
        page(&q, one, sizeof one, &more);
        snprintf(all + strlen(all), sizeof all - strlen(all), "%s%s", all[0] ? " " : "", one);
    }
    cr_assert_str_eq(all, want, "desc %d limit %llu", desc, (unsigned long long)limit);
    hb_msg_clear(&q);
}

Test(list_query, no_query_gives_every_row_oldest_first)
{
    walk(false, 0, "sb-g sb-f sb-a sb-b sb-c sb-d sb-e");
}

Test(list_query, pages_meet_every_row_once_in_both_orders)
{
    for (uint64_t limit = 1; limit <= N; limit++) {
        walk(false, limit, "sb-g sb-f sb-a sb-b sb-c sb-d sb-e");
        walk(true, limit, "sb-e sb-d sb-c sb-b sb-a sb-f sb-g");
    }
}

Test(list_query, filters)
{
    char got[128];
    bool more;
    hb_msg_t q = {.type = HB_MSG_SB_LIST};
    cr_assert_eq(hb_str_set(&q.state, "paused"), 0);
    page(&q, got, sizeof got, &more);
    cr_assert_str_eq(got, "sb-g");
    cr_assert_eq(hb_str_set(&q.state, "running"), 0);
    cr_assert_eq(hb_str_set(&q.image, "other"), 0);
    page(&q, got, sizeof got, &more);
    cr_assert_str_eq(got, "sb-d");
    hb_msg_clear(&q);
    q = (hb_msg_t){.type = HB_MSG_SB_LIST, .timestamp = 105};
    cr_assert_eq(hb_str_set(&q.metadata, "{\"k\":\"even\"}"), 0);
    page(&q, got, sizeof got, &more);
    cr_assert_str_eq(got, "sb-c sb-d");   /* created at or after 105, k = even */
    hb_msg_clear(&q);
}

Test(list_query, bad_fields_name_themselves)
{
    hb_list_query_t lq;
    hb_err_t e = {0};
    hb_msg_t q = {.type = HB_MSG_SB_LIST, .state = "stopped"};
    cr_assert_eq(hb_list_query_of(&q, &lq, &e), -1);
    cr_assert(strstr(e.msg, "state"), "%s", e.msg);
    q = (hb_msg_t){.type = HB_MSG_SB_LIST, .metadata = "[1]"};
    cr_assert_eq(hb_list_query_of(&q, &lq, &e), -1);
    cr_assert(strstr(e.msg, "metadata"), "%s", e.msg);
}
