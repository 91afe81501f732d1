// Progress on a terminal: a bar with iteration, epoch, loss, accuracy, img/s and ETA (cli-progress).
// When stderr is not a TTY (CI, logs piped to a file), plain lines at a modest rate instead.
import cliProgress from 'cli-progress';

export interface ProgressFields {
  epoch: string;
  loss: string;
  acc: string;
  ips: string;
}

export class Progress {
  private bar: cliProgress.SingleBar | null = null;
  private lastLine = 0;
  private readonly fields: ProgressFields = { epoch: '-', loss: '-', acc: '-', ips: '-' };

  constructor(
    private readonly label: string,
    private readonly total: number,
    start: number,
    private readonly quiet = false,
  ) {
    if (quiet) return;
    if (process.stderr.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          format: `${label} |{bar}| {value}/{total} it | ep {epoch} | loss {loss} | acc {acc} | {ips} img/s | ETA {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 50,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, start, this.fields);
    }
  }

  update(iteration: number, fields: Partial<ProgressFields>): void {
    Object.assign(this.fields, fields);
    if (this.quiet) return;
    if (this.bar) {
      this.bar.update(iteration, this.fields);
      return;
    }
    const now = Date.now();
    if (now - this.lastLine > 10_000 || iteration === this.total) {
      this.lastLine = now;
      process.stderr.write(`${this.label} ${iteration}/${this.total} it | ep ${this.fields.epoch} | loss ${this.fields.loss} | acc ${this.fields.acc} | ${this.fields.ips} img/s\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
