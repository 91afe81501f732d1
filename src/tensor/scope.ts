// A Scope owns the pooled tensors created while it is open and releases them all on dispose.
// A training step opens one scope; everything the forward and backward passes allocate goes back
// to the pool at the end of the step, in a fixed order, so the next step gets the same buffers.
import type { Tensor } from './tensor.js';

export class Scope {
  private static readonly stack: Scope[] = [];
  private readonly owned: Tensor[] = [];

  static adopt(t: Tensor): void {
    const s = Scope.stack[Scope.stack.length - 1];
    if (s) s.owned.push(t);
  }

  /**
   * Run fn inside a new scope; release everything it allocated except what it returns in `keep`.
   * fn must be synchronous (recording GPU work is); for work with awaits use open()/close().
   */
  static run<T>(fn: () => T, keep: (result: T) => Tensor[] = () => []): T {
    const scope = new Scope();
    Scope.stack.push(scope);
    let result: T;
    try {
      result = fn();
    } catch (e) {
      scope.unwind();
      scope.dispose(new Set()); // what fn made before it threw goes back to the pool
      throw e;
    }
    scope.unwind();
    if (result instanceof Promise) throw new Error('Scope.run: fn returned a Promise; use Scope.open() and close() around awaits');
    const kept = new Set(keep(result));
    scope.dispose(kept);
    for (const t of kept) Scope.adopt(t);
    return result;
  }

  static open(): Scope {
    const s = new Scope();
    Scope.stack.push(s);
    return s;
  }

  /**
   * Close this scope and release what it owns, except `keep`. Scopes opened inside it and still open
   * (an exception escaped between their open() and close(), e.g. a failed readback in an awaited
   * evaluation) are released first: closing from a `finally` must not replace that exception with one
   * of its own.
   */
  close(keep: Iterable<Tensor> = []): void {
    this.unwind();
    const kept = new Set(keep);
    this.dispose(kept);
    for (const t of kept) Scope.adopt(t);
  }

  /** Pop this scope off the stack, releasing any scope still open above it; throws if it is not open. */
  private unwind(): void {
    const at = Scope.stack.lastIndexOf(this);
    if (at < 0) throw new Error('Scope.close: this scope is not open (closed twice?)');
    while (Scope.stack.length > at + 1) Scope.stack.pop()!.dispose(new Set());
    Scope.stack.pop();
  }

  /**
   * Close this scope (must be the innermost) without releasing anything: the caller takes over the
   * tensors it owned, in allocation order, and releases them itself.
   */
  detach(): Tensor[] {
    this.unwind();
    return this.owned.splice(0);
  }

  private dispose(keep: Set<Tensor>): void {
    // Release in reverse allocation order so the pool's LIFO lists hand the same buffers out again.
    for (let i = this.owned.length - 1; i >= 0; i--) {
      const t = this.owned[i];
      if (!keep.has(t)) t.release();
    }
    this.owned.length = 0;
  }
}
