/* WebSocket tickets (gateway/gw_ticket.c): single use, bound to the
 * sandbox and target they were made for, a bounded table. */
#include <criterion/criterion.h>
#include <string.h>

#include "gw_ticket.h"

Test(ticket, opens_its_route_once)
{
    char t[HB_TICKET_LEN + 1];
    hb_err_t e = {0};
    cr_assert_eq(hb_ticket_issue("box", "terminal", t, &e), 0);
    cr_assert_eq(strlen(t), HB_TICKET_LEN);
    cr_assert(hb_ticket_redeem(t, strlen(t), "box", "terminal"));
    cr_assert_not(hb_ticket_redeem(t, strlen(t), "box", "terminal"), "a ticket is single use");
}

Test(ticket, another_route_spends_it)
{
    char t[HB_TICKET_LEN + 1], u[HB_TICKET_LEN + 1];
    hb_err_t e = {0};
    cr_assert_eq(hb_ticket_issue("box", "42", t, &e), 0);
    cr_assert_eq(hb_ticket_issue("box", "42", u, &e), 0);
    cr_assert_neq(strcmp(t, u), 0, "tickets are random");
    cr_assert_not(hb_ticket_redeem(t, strlen(t), "box", "terminal"));
    cr_assert_not(hb_ticket_redeem(t, strlen(t), "box", "42"), "spent by the wrong route");
    cr_assert_not(hb_ticket_redeem(u, strlen(u), "other", "42"));
    cr_assert_not(hb_ticket_redeem(u, strlen(u), "box", "42"), "spent by the wrong sandbox");
}

Test(ticket, unknown_text_and_length_are_refused)
{
    cr_assert_not(hb_ticket_redeem("", 0, "box", "terminal"));
    char fake[HB_TICKET_LEN + 1];
    memset(fake, 'A', HB_TICKET_LEN);
    fake[HB_TICKET_LEN] = '\0';
    cr_assert_not(hb_ticket_redeem(fake, HB_TICKET_LEN, "box", "terminal"));
    cr_assert_not(hb_ticket_redeem(fake, HB_TICKET_LEN - 1, "box", "terminal"));
}

Test(ticket, the_table_is_bounded)
{
    static char held[HB_TICKET_MAX][HB_TICKET_LEN + 1];
    hb_err_t e = {0};
    size_t n = 0;
    while (n < HB_TICKET_MAX && hb_ticket_issue("box", "terminal", held[n], &e) == 0)
        n++;
    char t[HB_TICKET_LEN + 1];
    cr_assert_eq(hb_ticket_issue("box", "terminal", t, &e), -1, "a full table refuses");
    cr_assert_eq(e.code, HB_E_LIMIT);
    cr_assert_eq(hb_ticket_live(), HB_TICKET_MAX);
    cr_assert(hb_ticket_redeem(held[0], HB_TICKET_LEN, "box", "terminal"));
    cr_assert_eq(hb_ticket_issue("box", "terminal", t, &e), 0, "a used entry is reused");
    cr_assert(hb_ticket_redeem(t, HB_TICKET_LEN, "box", "terminal"));
    for (size_t i = 1; i < n; i++)
        cr_assert(hb_ticket_redeem(held[i], HB_TICKET_LEN, "box", "terminal"));
    cr_assert_eq(hb_ticket_live(), 0);
}
