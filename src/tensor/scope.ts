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
    } finally {
      Scope.stack.pop();
    }
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

  /** Close this scope (must be the innermost) and release what it owns, except `keep`. */
  close(keep: Iterable<Tensor> = []): void {
    const top = Scope.stack.pop();
    if (top !== this) throw new Error('Scope.close: scopes must close innermost first');
    const kept = new Set(keep);
    this.dispose(kept);
    for (const t of kept) Scope.adopt(t);
  }

  /**
   * Close this scope (must be the innermost) without releasing anything: the caller takes over the
   * tensors it owned, in allocation order, and releases them itself.
   */
  detach(): Tensor[] {
    const top = Scope.stack.pop();
    if (top !== this) throw new Error('Scope.detach: scopes must close innermost first');
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
