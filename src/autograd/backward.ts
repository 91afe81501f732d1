// backward(loss): topological sort from the loss, then each node's backward in reverse order.
import { Tensor } from '../tensor/tensor.js';
import { addInPlace, addInto } from '../ops/elementwise.js';
import type { BackwardContext } from './node.js';

function topoSort(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS (deep ResNets would overflow a recursive one only at absurd depth, but be safe).
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    const inputs = t.node?.inputs ?? [];
    if (i < inputs.length) {
      top[1]++;
      const next = inputs[i];
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/**
 * Backpropagate from `root` (usually a scalar loss). `seed` is root's gradient (ones if omitted).
 * Every parameter reached gets its `grad` buffer overwritten (not accumulated across calls);
 * parameters given in `params` that the graph does not reach get a zero gradient.
 */
export function backward(root: Tensor, seed?: Tensor, params: Tensor[] = []): void {
  if (!root.requiresGrad) throw new Error(`backward: ${root} does not require a gradient`);
  const gpu = root.gpu;
  const grads = new Map<Tensor, Tensor>();
  const written = new Set<Tensor>();
  // An op may hand the same gradient tensor to several inputs (add passes dy to both); such a
  // shared tensor must not be accumulated into in place while another holder still needs it. A
  // tensor's gradient is dead once its node's backward has run, so that releases its hold.
  const holders = new Map<Tensor, number>();
  const setGrad = (t: Tensor, g: Tensor) => {
    grads.set(t, g);
    holders.set(g, (holders.get(g) ?? 0) + 1);
  };
  if (seed) setGrad(root, seed);
  else {
    const ones = Tensor.empty(gpu, root.shape, 'f32', 'seed');
    ones.fill(1);
    setGrad(root, ones);
  }
  const order = topoSort(root);
  const position = new Map(order.map((t, i) => [t, i]));
  // tensors whose backward another node left part of an input gradient to (deferTo), and those that ran
  const awaited = new Set<Tensor>();
  const ran = new Set<Tensor>();
  const pass = {};
  for (let n = order.length - 1; n >= 0; n--) {
    const t = order[n];
    const node = t.node;
    const g = grads.get(t);
    if (!node || !g) continue;
    ran.add(t);
    const fresh = new Map<number, Tensor>();
    const accumulated = new Set<number>();
    const ctx: BackwardContext = {
      needsGrad: (i) => node.inputs[i].requiresGrad,
      accumulator: (i) => {
        const prev = grads.get(node.inputs[i]);
        if (!prev || prev === g || (holders.get(prev) ?? 0) !== 1) return null;
        accumulated.add(i);
        return prev;
      },
      gradOutput: (i) => {
        const input = node.inputs[i];
        let out: Tensor;
        if (input.grad && !written.has(input.grad) && !grads.has(input)) {
          out = input.grad;
          written.add(input.grad);
        } else {
          out = Tensor.empty(gpu, input.shape, 'f32', `grad:${node.op}`);
        }
        fresh.set(i, out);
        return out;
      },
      pass,
      deferTo: (other) => {
        const at = position.get(other);
        if (at === undefined || at >= n || !other.node) return false;
        awaited.add(other);
        return true;
      },
    };
    const inputGrads = node.backward(g, ctx);
    holders.set(g, (holders.get(g) ?? 1) - 1);
    inputGrads.forEach((gi, i) => {
      if (!gi) return;
      const input = node.inputs[i];
      if (!input.requiresGrad) return;
      const prev = grads.get(input);
      if (accumulated.has(i) && gi === prev) return; // the op added its part into prev itself
      if (!prev) setGrad(input, gi);
      // (gi === prev: an op handed the tensor it already gave this input, as add(x, x) does: adding
      // it into itself in place would bind one buffer twice in one dispatch)
      else if (gi === prev || (holders.get(prev) ?? 0) > 1) {
        holders.set(prev, holders.get(prev)! - 1);
        setGrad(input, addInto(prev, gi, Tensor.empty(gpu, input.shape, 'f32', 'grad:sum')));
      } else addInPlace(prev, gi);
    });
  }
  for (const t of awaited) {
    if (!ran.has(t)) throw new Error(`backward: an op left part of an input gradient to the backward of a ${t.node?.op} output, which got no gradient and never ran`);
  }
  // Parameters whose gradient ended up in a pooled tensor (an op ignored the hint, or the parameter
  // was used twice) get it copied into their grad buffer; unreached parameters get zero.
  for (const [t, g] of grads) {
    if (t.grad && g !== t.grad) gpu.copy(g, t.grad);
  }
  for (const p of params) {
    if (p.grad && !grads.has(p)) p.grad.fillBits(0);
  }
}
