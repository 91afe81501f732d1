import { describe, expect, it } from 'vitest';
import { createModel } from '../src/models/registry.js';

// Parameter counts from ../shared/paper.md (trainable parameters: conv/fc weights and biases, BN gamma/beta).
describe('model parameter counts match the paper', () => {
  const expected: [string, number][] = [
    ['resnet20', 272_474],
    ['resnet56', 855_770],
    ['wrn16_8', 11_093_130],
    ['vgg13', 9_416_010],
  ];
  for (const [name, count] of expected) {
    it(`${name}: ${count.toLocaleString('en-US')}`, () => {
      expect(createModel(name).parameterCount()).toBe(count);
    });
  }
  it('resnet18 (CIFAR stem) is about 11.17M', () => {
    const n = createModel('resnet18').parameterCount();
    expect(n).toBe(11_173_962);
  });
  it('resnet18 with the ImageNet stem differs only in the stem conv (7x7 instead of 3x3)', () => {
    expect(createModel('resnet18_imagenet_stem').parameterCount() - createModel('resnet18').parameterCount()).toBe(64 * 3 * (49 - 9));
  });
});

describe('open_lth state_dict names', () => {
  it('CIFAR ResNet-20 uses conv, bn, blocks.N.*, shortcut.0/1, fc', () => {
    const order = createModel('resnet20').stateDictOrder().map((e) => e.name);
    expect(order.slice(0, 7)).toEqual(['conv.weight', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var', 'bn.num_batches_tracked', 'blocks.0.conv1.weight']);
    expect(order).toContain('blocks.3.shortcut.0.weight');
    expect(order).toContain('blocks.3.shortcut.1.running_var');
    expect(order).not.toContain('blocks.0.shortcut.0.weight');
    expect(order.slice(-2)).toEqual(['fc.weight', 'fc.bias']);
  });
  it('VGG names conv/bn modules by their index in the plan and ignores fc.weight for pruning', () => {
    const m = createModel('vgg13');
    const names = m.paramSpecs().map((s) => s.name);
    expect(names.slice(0, 4)).toEqual(['layers.0.conv.weight', 'layers.0.conv.bias', 'layers.0.bn.weight', 'layers.0.bn.bias']);
    expect(names).toContain('layers.3.conv.weight'); // index 2 is the first max-pool
    expect(m.defaultPruneIgnore()).toEqual(['fc.weight']);
  });
  it('rejects impossible depths with a clear error', () => {
    expect(() => createModel('resnet21')).toThrow(/6N\+2/);
    expect(() => createModel('alexnet')).toThrow(/unknown model 'alexnet'/);
  });
});
