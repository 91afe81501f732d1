// The CIFAR-10 data pipeline: reading and validating the official binary files, balanced subsets,
// seeded data order, and GPU-side augmentation.
export * from './cifar10.js';
export * from './subset.js';
export * from './order.js';
export * from './transforms.js';
export * from './gpu_dataset.js';
export * from './prepare.js';
export { philox4x32, seedKey } from '../random/philox.js';
