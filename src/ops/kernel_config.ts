// The kernel configuration of a run (tile shapes and the like, chosen per adapter). It changes the
// summation order, hence the bits, so it is recorded in every run's hparams.json and restored on
// resume; it is not a hyperparameter and does not enter the run hash.
import type { Gpu } from '../gpu/runtime.js';
import { batchNormConfigFor, defaultBatchNormConfig, getBatchNormConfig, setBatchNormConfig, type BatchNormConfig } from './batchnorm.js';
import { defaultConvConfig, getConvConfig, setConvConfig, type ConvConfig } from './conv2d.js';

export interface KernelConfig {
  conv2d: ConvConfig;
  batchnorm: BatchNormConfig;
}

export function getKernelConfig(): KernelConfig {
  return { conv2d: getConvConfig(), batchnorm: getBatchNormConfig() };
}

/**
 * The settings chosen by the kind of adapter rather than measured (the conv configuration is the
 * autotuner's): BatchNorm's chunk size (batchNormConfigFor). Run when a session opens its GPU, before
 * a run records or adopts its configuration.
 */
export function adoptAdapterKernelConfig(gpu: Gpu): void {
  setBatchNormConfig(batchNormConfigFor(gpu.dev.description));
}

/**
 * Adopt a recorded configuration (a run's hparams.json). A field the record lacks (added to the code
 * after the run started) takes its default, which reproduces the code before the field existed; never
 * the value this process happens to have (e.g. autotuned), which the run never used.
 */
export function setKernelConfig(cfg: Partial<KernelConfig> | undefined): void {
  if (cfg?.conv2d) setConvConfig({ ...defaultConvConfig, ...cfg.conv2d });
  if (cfg) setBatchNormConfig({ ...defaultBatchNormConfig, ...cfg.batchnorm });
}
