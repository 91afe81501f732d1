// The kernel configuration of a run (tile shapes and the like, chosen per adapter). It changes the
// summation order, hence the bits, so it is recorded in every run's hparams.json and restored on
// resume; it is not a hyperparameter and does not enter the run hash.
import { defaultConvConfig, getConvConfig, setConvConfig, type ConvConfig } from './conv2d.js';

export interface KernelConfig {
  conv2d: ConvConfig;
}

export function getKernelConfig(): KernelConfig {
  return { conv2d: getConvConfig() };
}

/**
 * Adopt a recorded configuration (a run's hparams.json). A field the record lacks (added to the code
 * after the run started) takes its default, which reproduces the code before the field existed; never
 * the value this process happens to have (e.g. autotuned), which the run never used.
 */
export function setKernelConfig(cfg: Partial<KernelConfig> | undefined): void {
  if (cfg?.conv2d) setConvConfig({ ...defaultConvConfig, ...cfg.conv2d });
}
