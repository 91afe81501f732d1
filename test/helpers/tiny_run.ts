// The small training run the resume / determinism tests share.
export const TINY_RUN = {
  hparams: { model: 'resnet8_4', trainingSteps: '6ep', batch: 32, lr: 0.05, milestones: '3ep', evalEvery: '2ep', checkpointEvery: '1ep' },
  trainImages: 256,
  testImages: 64,
};
