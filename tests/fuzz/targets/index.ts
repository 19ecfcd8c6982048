/** Every fuzz target, by name (the name is also its corpus directory). */
import type { Target } from '../target.ts';
import { busReplyEvent, busRequest } from './bus.ts';
import { bundleTarget } from './bundle.ts';
import { monitorTarget } from './monitor.ts';
import { controllerTarget } from './controller.ts';
import { frame } from './frame.ts';
import { odpActions, odpFlow } from './odp.ts';
import { ofctlActions, ofctlFlow, ofctlGroup } from './ofctl.ts';
import { openflowMsg } from './openflow.ts';
import { ofActions, ofMatch, ofMessages } from './openflow-body.ts';
import { ofContinuation } from './resume.ts';
import { ofGroupMsgs } from './openflow-group.ts';
import { SELFTESTS } from './selftest.ts';

export const TARGETS: ReadonlyMap<string, Target<never>> = new Map(
  ([
    ofctlFlow, ofctlActions, ofctlGroup, odpFlow, odpActions, frame, busRequest, busReplyEvent,
    openflowMsg, ofMatch, ofActions, ofMessages, ofContinuation, controllerTarget, bundleTarget, monitorTarget, ofGroupMsgs, ...SELFTESTS,
  ] as Target<never>[]).map((t) => [t.name, t]),
);
