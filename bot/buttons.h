/* What a button carries back when it is pressed: one format per kind of
 * button, written by compose (and the staff lists) and read by the
 * handlers that answer them. The data is at most 64 bytes, the least any
 * gateway with buttons allows (Telegram's callback_data). */
#ifndef CASEBOT_BUTTONS_H
#define CASEBOT_BUTTONS_H

/* A family's buttons: the answer to a question. */
#define BUTTON_APPOINTMENT "ap:%lld:%d"   /* appointment id, choice 1..3 */
#define BUTTON_CHECKIN     "ci:%lld:%d"   /* check-in row id, choice 1..4 */
#define BUTTON_DOCUMENT    "dq:%lld:%lld" /* document id, request id */
#define BUTTON_LANGUAGE    "lang:"        /* followed by the language code */
#define BUTTON_LANGUAGE_LEN 5
/* A family message's Details button: the outbox row it shows in full,
 * edited in place; 0. */
#define BUTTON_DETAILS     "dt:%lld:%d"

/* Staff buttons. */
#define BUTTON_REPLY       "rp:%lld:%d"   /* forward's outbox id, 0 */
#define BUTTON_LOG         "lg:%lld:%d"   /* family id, 0 */
#define BUTTON_HANDLED     "mh:%lld:%d"   /* alert id, 0 */
#define BUTTON_ACK         "ak:%lld:%d"   /* alert id, 0 */
#define BUTTON_WINDOW      "wo:%lld:%d"   /* 0, 0: a staff chat asks for what waits */
/* The More button of a long list: the list (l a family's log, f families,
 * a alerts), the id it is about, how many are shown already. */
#define BUTTON_MORE        "mo:%c:%lld:%d"

#endif
