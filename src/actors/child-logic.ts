/**
 * The type under which a machine declares a child machine in setup({ actors }).
 *
 * xstate's ActorLogic is invariant in its snapshot and event types, so a child declared as its
 * concrete machine can only be replaced (machine.provide({ actors })) by that same machine: a
 * test's stand-in (a small machine, a fromPromise that fails) would need a cast. Declared as
 * ChildLogic<Input>, any logic that takes that input fits, and spawnChild still checks the
 * input. The parent never reads a child's snapshot; it talks to children by events only.
 */
import type { ActorLogic } from 'xstate';

// `any`: the invariant snapshot and event parameters must be left open (see above).
export type ChildLogic<TInput> = ActorLogic<any, any, TInput>;
