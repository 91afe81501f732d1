// Step-wise learning-rate schedule: lr(t) = lr0 * gamma^(number of milestones <= t), stepped per
// iteration (paper.md: x0.1 at iterations 31,280 and 46,920 of 62,560).
import { parseStep } from './steps.js';

export class LrSchedule {
  readonly milestones: number[];

  constructor(
    readonly lr0: number,
    milestones: string,
    readonly gamma: number,
    iterationsPerEpoch: number,
  ) {
    this.milestones = milestones ? milestones.split(',').map((m) => parseStep(m, iterationsPerEpoch)).sort((a, b) => a - b) : [];
  }

  at(iteration: number): number {
    let lr = this.lr0;
    for (const m of this.milestones) if (iteration >= m) lr *= this.gamma;
    return lr;
  }
}
