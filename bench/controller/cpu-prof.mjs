/**
 * Preload for profiling a daemon from the benchmark (NODE_OPTIONS=--import=<this file>, env
 * BVS_CPU_PROF=FILE): SIGUSR2 starts V8's CPU profiler, the process's exit writes the profile
 * to FILE (open it in Chrome DevTools, or summarise it with bench/controller/prof-top.ts).
 *
 * Why not `node --cpu-prof`: that samples from the first instruction, and its SIGPROF
 * interrupts the kernel's BPF verifier (the prog load fails with EAGAIN), so the daemon cannot
 * load its datapath under it. Starting the profiler on a signal, after the bridge is up, avoids that.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const file = process.env.BVS_CPU_PROF;
if (file) {
  const s = new Session();
  s.connect();
  let on = false;
  process.on('SIGUSR2', () => {
    if (on) return;
    on = true;
    s.post('Profiler.enable', () => s.post('Profiler.setSamplingInterval', { interval: 200 }, () => s.post('Profiler.start')));
  });
  // The in-process session answers synchronously, so this works in an exit handler.
  process.on('exit', () => {
    if (!on) return;
    s.post('Profiler.stop', (err, r) => { if (!err) writeFileSync(file, JSON.stringify(r.profile)); });
  });
}
