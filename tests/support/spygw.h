/* spygw: a real gateway seen through a struct fakegw's records. The spy
 * poses as the real gateway (its name, its capabilities, its split) and
 * passes every call on to it, keeping in the fakegw what the contract
 * suite reads: the calls with their address, text and time, and how many
 * sends, media sends and answers there were. The fakegw's script is not
 * used: the outcomes come from the real gateway and what it talks to (a
 * simulator whose faults the test arms). */
#ifndef CASEBOT_SPYGW_H
#define CASEBOT_SPYGW_H

#include "tests/support/fakegw.h"

/* f becomes the spy of real; real is freed with the spy (ops->free). At
 * most a few spies at once. Returns 0 or -1. */
int spygw_wrap(struct fakegw *f, uv_loop_t *loop, struct gateway *real);

#endif
