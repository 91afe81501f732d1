// Float64 reference of a CIFAR ResNet (depth 6N+2, any width) training step, composed from the op
// references: forward in training mode (batch statistics), softmax cross-entropy, full backward,
// and the masked SGD update. Written independently of src/models so it checks the model code too.
import { batchNormBackwardRef, batchNormTrainRef, batchStatsRef, runningUpdateRef, type Shape4 } from './batchnorm.js';
import { conv2dForwardRef, conv2dInputGradRef, conv2dWeightGradRef, convOutSize, type ConvShape } from './conv2d.js';
import { crossEntropyBackwardRef, crossEntropyRef } from './cross_entropy.js';
import { globalAvgPoolRef } from './pooling.js';
import { linearBackwardRef, linearRef } from './linear.js';
import { sgdMaskedRef } from './sgd.js';

export type Params = Map<string, Float64Array>;

interface Act {
  data: Float64Array;
  s: Shape4;
}

type Backward = (dy: Float64Array) => Float64Array;

class Graph {
  readonly grads: Params = new Map();
  readonly backs: (() => void)[] = [];
  readonly running: Params = new Map();

  constructor(
    readonly p: Params,
    readonly buffers: Params,
  ) {}

  addGrad(name: string, g: Float64Array): void {
    const prev = this.grads.get(name);
    if (prev) for (let i = 0; i < g.length; i++) prev[i] += g[i];
    else this.grads.set(name, Float64Array.from(g));
  }
}

// Each helper returns the output and a function that maps the output gradient to the input
// gradient (accumulating parameter gradients into g.grads).
function conv(g: Graph, name: string, x: Act, stride: number, pad: number): [Act, Backward] {
  const w = g.p.get(`${name}.weight`)!;
  const o = w.length / (x.s.c * (pad === 1 ? 9 : 1));
  const k = pad === 1 ? 3 : 1;
  const cs: ConvShape = { N: x.s.n, C: x.s.c, H: x.s.h, W: x.s.w, O: o, KH: k, KW: k, stride, pad };
  const { OH, OW } = convOutSize(cs);
  const y = conv2dForwardRef(x.data, w, null, cs);
  return [
    { data: y, s: { n: x.s.n, c: o, h: OH, w: OW } },
    (dy) => {
      g.addGrad(`${name}.weight`, conv2dWeightGradRef(dy, x.data, cs));
      return conv2dInputGradRef(dy, w, cs);
    },
  ];
}

function bn(g: Graph, name: string, x: Act): [Act, Backward] {
  const gamma = g.p.get(`${name}.weight`)!;
  const beta = g.p.get(`${name}.bias`)!;
  const st = batchStatsRef(x.data, x.s);
  const y = batchNormTrainRef(x.data, gamma, beta, x.s, 1e-5);
  const upd = runningUpdateRef(g.buffers.get(`${name}.running_mean`)!, g.buffers.get(`${name}.running_var`)!, st, 0.1);
  g.running.set(`${name}.running_mean`, upd.mean);
  g.running.set(`${name}.running_var`, upd.var);
  return [
    { data: y, s: x.s },
    (dy) => {
      const r = batchNormBackwardRef(x.data, gamma, dy, x.s, 1e-5, { mean: st.mean, variance: st.varBiased, training: true });
      g.addGrad(`${name}.weight`, r.dgamma);
      g.addGrad(`${name}.bias`, r.dbeta);
      return r.dx;
    },
  ];
}

function reluAct(x: Act): [Act, Backward] {
  const y = x.data.map((v) => (v > 0 ? v : 0));
  return [{ data: y, s: x.s }, (dy) => dy.map((v, i) => (y[i] > 0 ? v : 0))];
}

/** Loss, gradients and updated running statistics of one training step. */
export function resnetStepRef(p: Params, buffers: Params, images: Float64Array, labels: ArrayLike<number>, n: number, hw: number, depth: number, width: number) {
  const g = new Graph(p, buffers);
  const tape: Backward[] = [];
  const push = ([a, b]: [Act, Backward]) => {
    tape.push(b);
    return a;
  };
  let x: Act = { data: images, s: { n, c: 3, h: hw, w: hw } };
  x = push(conv(g, 'conv', x, 1, 1));
  x = push(bn(g, 'bn', x));
  x = push(reluAct(x));
  const blocksPerSegment = (depth - 2) / 6;
  let current = width;
  let b = 0;
  // A residual block is one tape entry whose backward runs its own sub-tape and adds the skip path.
  [width, 2 * width, 4 * width].forEach((filters, segment) => {
    for (let i = 0; i < blocksPerSegment; i++, b++) {
      const down = segment > 0 && i === 0;
      const proj = down || current !== filters;
      const input = x;
      const sub: Backward[] = [];
      const sp = ([a, bk]: [Act, Backward]) => {
        sub.push(bk);
        return a;
      };
      let h = sp(conv(g, `blocks.${b}.conv1`, input, down ? 2 : 1, 1));
      h = sp(bn(g, `blocks.${b}.bn1`, h));
      h = sp(reluAct(h));
      h = sp(conv(g, `blocks.${b}.conv2`, h, 1, 1));
      h = sp(bn(g, `blocks.${b}.bn2`, h));
      const skipSub: Backward[] = [];
      let skip = input;
      if (proj) {
        const [s1, b1] = conv(g, `blocks.${b}.shortcut.0`, input, 2, 0);
        const [s2, b2] = bn(g, `blocks.${b}.shortcut.1`, s1);
        skipSub.push(b1, b2);
        skip = s2;
      }
      const sum: Act = { data: h.data.map((v, j) => v + skip.data[j]), s: h.s };
      const [out, reluBack] = reluAct(sum);
      tape.push((dy) => {
        const dsum = reluBack(dy);
        let dh = dsum;
        for (let t = sub.length - 1; t >= 0; t--) dh = sub[t](dh);
        let ds = dsum;
        for (let t = skipSub.length - 1; t >= 0; t--) ds = skipSub[t](ds);
        return dh.map((v, j) => v + ds[j]);
      });
      x = out;
      current = filters;
    }
  });
  const pooled = globalAvgPoolRef(x.data, n, x.s.c, x.s.h, x.s.w);
  const classes = p.get('fc.bias')!.length;
  const logits = linearRef(pooled, p.get('fc.weight')!, p.get('fc.bias')!, n, x.s.c, classes);
  const loss = crossEntropyRef(logits, labels, n, classes)[0];
  // Backward.
  const dlogits = crossEntropyBackwardRef(logits, labels, n, classes, 1);
  const lb = linearBackwardRef(pooled, p.get('fc.weight')!, dlogits, n, x.s.c, classes);
  g.addGrad('fc.weight', lb.dw);
  g.addGrad('fc.bias', lb.db);
  const hw2 = x.s.h * x.s.w;
  let d: Float64Array = new Float64Array(x.data.length);
  for (let i = 0; i < d.length; i++) d[i] = lb.dx[Math.floor(i / hw2)] / hw2;
  for (let t = tape.length - 1; t >= 0; t--) d = tape[t](d);
  return { loss, logits, grads: g.grads, running: g.running };
}

/** Masked SGD on every parameter (momentum buffers updated in place). */
export function sgdRef(p: Params, grads: Params, momenta: Params, masks: Params, lr: number, momentum: number, wd: number): void {
  for (const [name, w] of p) {
    const ones = new Float64Array(w.length).fill(1);
    sgdMaskedRef(w, grads.get(name)!, momenta.get(name)!, masks.get(name) ?? ones, lr, momentum, wd);
  }
}
