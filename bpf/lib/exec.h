/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * exec.h: the execute path, the program bvs_exec. Userspace hands a frame and an action list to
 * the kernel and the kernel runs them with the fast path's own action code (bvs_action), so
 * every packet, the first of a flow included, is parsed, rewritten and sent by one
 * implementation.
 *
 * Mechanism: BPF_PROG_TEST_RUN of bvs_exec on [frame][struct bvs_exec_req] (bvs_abi.h). The
 * kernel builds an skb from the bytes in the caller's network namespace and runs the program
 * once, with bottom halves disabled. bvs_exec copies the trailer into the per-CPU scratch map,
 * trims it off the skb, parses the frame like bvs_ingress does (with in_port from the request)
 * and runs the actions. A test run performs no final redirect, so every OUTPUT is a clone
 * (bpf_clone_redirect transmits at once); the original skb is then freed by the test run.
 *
 * Differences from the fast path, and why:
 *  - no rx counters: the packet was counted when it arrived and missed;
 *  - no bpf_redirect_peer (only valid at TC ingress): a clone goes out of the port's device;
 *  - the frame is at most PAGE_SIZE minus the skb overheads minus the trailer (about 3.3 KB):
 *    the kernel refuses larger test-run input with EINVAL, which userspace reports.
 *
 * Return value: negative enum bvs_exec_error for a bad request, else the outcome packed as
 * outputs | upcalls << 8 | BVS_EXEC_FAILED (bvs_abi.h).
 */
#ifndef BVS_LIB_EXEC_H
#define BVS_LIB_EXEC_H

#include "common.h"
#include "maps.h"
#include "parse.h"
#include "actions.h"

static __always_inline int bvs_exec_frame(struct __sk_buff *skb)
{
	struct bvs_ctx c = {};
	struct bvs_exec_req *req;
	struct bvs_exec st = {};
	__u32 zero = 0, len = skb->len, flen, n, i;

	req = bpf_map_lookup_elem(&exec_scratch, &zero);
	if (!req)
		return BVS_EXEC_E_SCRATCH;
	if (len < sizeof(*req) + ETH_HLEN)
		return BVS_EXEC_E_REQUEST;
	flen = len - sizeof(*req);
	if (bpf_skb_load_bytes(skb, flen, req, sizeof(*req)))
		return BVS_EXEC_E_REQUEST;
	n = req->n_actions;
	if (req->magic != BVS_EXEC_MAGIC || n > BVS_MAX_ACTIONS)
		return BVS_EXEC_E_REQUEST;
	if (bpf_skb_change_tail(skb, flen, 0))
		return BVS_EXEC_E_TRIM;

	c.key.in_port = req->in_port;
	bvs_parse(skb, &c);

	/* st.last stays 0: every output is a clone (see above). */
	for (i = 0; i < BVS_MAX_ACTIONS; i++) {
		if (i >= n)
			break;
		/* As the fast path: a failed action ends the list. */
		if (bvs_action(skb, &c, &req->actions[i], &st))
			break;
	}
	return (int)((st.outputs & 0xff) | (st.sent_up & 0xff) << 8 | (st.failed ? BVS_EXEC_FAILED : 0));
}

#endif /* BVS_LIB_EXEC_H */
