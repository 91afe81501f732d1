// The kernel configuration of a run (tile shapes and the like, chosen per adapter). It changes the
// summation order, hence the bits, so it is recorded in every run's hparams.json and restored on
// resume; it is not a hyperparameter and does not enter the run hash.
import { getConvConfig, setConvConfig, type ConvConfig } from './conv2d.js';

export interface KernelConfig {
  conv2d: ConvConfig;
}

export function getKernelConfig(): KernelConfig {
  return { conv2d: getConvConfig() };
}

export function setKernelConfig(cfg: Partial<KernelConfig> | undefined): void {
  if (cfg?.conv2d) setConvConfig(cfg.conv2d);
}
