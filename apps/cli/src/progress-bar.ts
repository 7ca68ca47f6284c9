/** A one-line progress bar for terminals; falls back to occasional plain lines elsewhere. */
export class ProgressBar {
  private lastPlainPercent = -25;
  private lastText = '';
  private lastDetail = '';

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, total: number, detail = ''): void {
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const percent = Math.floor(fraction * 100);
    const text = `${this.label} ${bar(fraction)} ${done}/${total} ${detail}`.trimEnd();
    // A new phase (detail) starts its own quarter steps in a log, else a phase that began at
    // 100% (an empty one) would silence every later phase until it completes.
    if (detail !== this.lastDetail) this.lastPlainPercent = -25;
    this.lastDetail = detail;
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${text}`);
    } else if (percent >= this.lastPlainPercent + 25 || (done === total && text !== this.lastText)) {
      this.lastPlainPercent = percent;
      this.stream.write(`${text}\n`);
    }
    this.lastText = text;
  }

  /** Ends the bar's line on a terminal, so the next output starts on a fresh line. */
  done(): void {
    if (this.stream.isTTY && this.lastText !== '') this.stream.write('\n');
    this.lastText = '';
    this.lastDetail = '';
    this.lastPlainPercent = -25;
  }
}

function bar(fraction: number, width = 24): string {
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
