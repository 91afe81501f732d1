// Run a test body under a BatchNorm kernel configuration (fields over the current one), restoring the
// configuration after it, whatever it throws.
import { getBatchNormConfig, setBatchNormConfig, type BatchNormConfig } from '../../src/ops/batchnorm.js';

export function withBatchNormConfig<T>(cfg: Partial<BatchNormConfig>, fn: () => Promise<T>): Promise<T> {
  const saved = getBatchNormConfig();
  setBatchNormConfig({ ...saved, ...cfg });
  return fn().finally(() => setBatchNormConfig(saved));
}
