// Waiting for a CPU adapter without taking a core away from it.
//
// While any Dawn promise is pending (mapAsync, onSubmittedWorkDone), dawn.node's AsyncRunner polls
// Dawn from the Node main thread: every tick calls ProcessEvents and queues the next tick with the
// global `setImmediate`, looked up afresh each time. That is a busy loop. On a real GPU it costs one
// idle CPU core; on lavapipe, whose compute threads run on the same CPU cores, it takes one of them
// away from the kernels. On this 2-core machine the main thread burned 970 ms of CPU during a
// 1160 ms wait while each of lavapipe's two threads got 560 ms.
//
// `installIdleWait` replaces the global setImmediate with one that passes every JavaScript callback
// straight through and treats Dawn's tick (an anonymous native function) differently: a
// wait keeps polling at full speed for its first `spinMs`, so short readbacks stay fast, and after
// that polls once per timer tick (about 1 ms) and leaves the CPU to the adapter. Completion is
// still seen at the next poll; nothing is skipped, only the polling interval changes.
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { isCpuAdapter, type AdapterIdentity } from './cpu_adapter.js';

export interface IdleWaitOptions {
  /** How long a wait polls at full speed before it sleeps between polls (ms). */
  spinMs?: number;
}

type Immediate = typeof globalThis.setImmediate;

interface Installed {
  original: Immediate;
  spinMs: number;
}

let installed: Installed | null = null;
/** Dawn ticks seen by the patched setImmediate, and how many of them waited for a timer. */
const stats = { nativeTicks: 0, sleptTicks: 0 };

/**
 * Is this dawn.node's poll tick? It is an anonymous native function made by Napi::Function::New:
 * no name, no declared parameters, and (being constructible) a prototype object. Promise resolvers
 * (length 1, no prototype), bound functions (named) and built-ins do not match, so they are never
 * delayed.
 */
function isDawnTick(fn: unknown): boolean {
  return (
    typeof fn === 'function' &&
    fn.name === '' &&
    fn.length === 0 &&
    typeof (fn as { prototype?: unknown }).prototype === 'object' &&
    Function.prototype.toString.call(fn).includes('[native code]')
  );
}

/** Poll Dawn gently while waiting (idempotent; a later call only updates spinMs). */
export function installIdleWait(options: IdleWaitOptions = {}): void {
  const spinMs = options.spinMs ?? 0.3;
  if (installed) {
    installed.spinMs = spinMs;
    return;
  }
  const state: Installed = { original: globalThis.setImmediate, spinMs };
  // A wait is one chain of ticks: each tick, while Dawn still has pending work, queues the next from
  // inside its own callback. A tick queued from anywhere else (mapAsync, onSubmittedWorkDone called
  // by JavaScript) starts a new wait, which polls at full speed again for its first spinMs.
  let inTick = false;
  let waitStart = 0;
  const patched = function setImmediate(callback: (...args: unknown[]) => void, ...args: unknown[]) {
    if (!isDawnTick(callback)) return state.original(callback, ...args);
    stats.nativeTicks++;
    const now = performance.now();
    if (!inTick) waitStart = now;
    const tick = () => {
      inTick = true;
      try {
        callback(...args);
      } finally {
        inTick = false;
      }
    };
    if (now - waitStart < state.spinMs) return state.original(tick);
    stats.sleptTicks++;
    // Dawn only needs the tick to run later; a pending timer keeps the event loop alive like an immediate
    return setTimeout(tick, 1) as unknown as NodeJS.Immediate;
  };
  // keep util.promisify(setImmediate) working
  const custom = Object.getOwnPropertyDescriptor(state.original, promisify.custom);
  if (custom) Object.defineProperty(patched, promisify.custom, custom);
  globalThis.setImmediate = patched as Immediate;
  installed = state;
}

export function idleWaitInstalled(): boolean {
  return installed !== null;
}

/** Counters since start: Dawn ticks seen, and those that slept (a timer) instead of spinning. */
export function idleWaitStats(): { nativeTicks: number; sleptTicks: number } {
  return { ...stats };
}

/**
 * Should waits sleep on this adapter? Yes for CPU adapters (lavapipe/llvmpipe, SwiftShader, any
 * fallback adapter), whose kernels run on the cores the main thread would spin on. The environment
 * variable EARLY_PHASE_IDLE_WAIT=1 or 0 forces it either way.
 */
export function wantsIdleWait(adapter: AdapterIdentity): boolean {
  const env = process.env.EARLY_PHASE_IDLE_WAIT;
  if (env === '1') return true;
  if (env === '0') return false;
  return isCpuAdapter(adapter);
}

/** Install the idle wait if this adapter wants it (wantsIdleWait); true when it is installed. */
export function useIdleWaitFor(adapter: AdapterIdentity): boolean {
  if (wantsIdleWait(adapter)) installIdleWait();
  return idleWaitInstalled();
}
