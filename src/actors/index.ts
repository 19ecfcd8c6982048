/**
 * src/actors: the daemon's xstate v5 machines, one per file (public surface). The tree:
 *
 *   supervisor ── ovsdb
 *              └─ vswitch ── bridge:NAME ── port:NAME, upcall, revalidator
 *
 * Each machine's I/O is in src/bridge (invoked as actors, so tests swap it with provide());
 * the daemon (src/daemon) starts the supervisor with the Services it built.
 */
export { bridgeMachine, type BridgeActor, type BridgeInput } from './bridge.machine.ts';
export { ovsdbMachine, type OvsdbInput } from './ovsdb.machine.ts';
export { portMachine, type PortInput } from './port.machine.ts';
export { revalidatorMachine, type RevalidatorInput } from './revalidator.machine.ts';
export { supervisorMachine, type SupervisorActor, type SupervisorInput } from './supervisor.machine.ts';
export { upcallMachine, type UpcallInput } from './upcall.machine.ts';
export { vswitchMachine, type VswitchInput } from './vswitch.machine.ts';
