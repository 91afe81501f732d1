// A tensor's stride-2 copy: x[:, :, ::2, ::2] ([N, C, H/2, W/2]), written by x's producer in the
// same launch as x, for a 1x1 stride-2 conv that reads x next (a ResNet block's projection
// shortcut). That conv uses only x's even rows and columns; from x itself its 64-byte loads drop
// half of every row they fetch, and on lavapipe a storage load costs per float fetched, used or not.
// From the copy it runs as a stride-1 1x1 conv over the same output grid: the same products summed in
// the same order, so the same bits (test/stride2_copy.test.ts).
//
// The producer (batchNorm2d's `stride2Copy`, a ResNet block's last BatchNorm when the next block
// projects) calls noteStride2Copy(y, copy) after its dispatch; a consumer asks stride2CopyOf(x),
// which answers only while neither buffer has been written since and neither tensor released, so
// a stale copy is never read (the consumer then reads x as before).
import type { Tensor } from '../tensor/tensor.js';

interface Copy {
  copy: Tensor;
  /** Gpu.writeCount of x's and the copy's buffers just after the producer's dispatch. */
  writes: [number, number];
}

const copies = new WeakMap<Tensor, Copy>();

/** `copy` holds x[:, :, ::2, ::2] as of now (call it right after the dispatch that wrote both). */
export function noteStride2Copy(x: Tensor, copy: Tensor): void {
  const [N, C, H, W] = x.shape;
  if (x.rank !== 4 || copy.rank !== 4 || copy.shape.join() !== [N, C, H / 2, W / 2].join()) {
    throw new Error(`stride-2 copy ${copy.shape.join('x')} does not match x ${x.shape.join('x')}`);
  }
  copies.set(x, { copy, writes: [x.gpu.writeCount(x.buf), x.gpu.writeCount(copy.buf)] });
}

/** x's stride-2 copy, if its producer wrote one and nothing has written x or the copy since; else null. */
export function stride2CopyOf(x: Tensor): Tensor | null {
  const c = copies.get(x);
  if (!c) return null;
  const { copy, writes } = c;
  const current = !x.isReleased && !copy.isReleased && x.gpu.writeCount(x.buf) === writes[0] && x.gpu.writeCount(copy.buf) === writes[1];
  if (!current) copies.delete(x);
  return current ? copy : null;
}
