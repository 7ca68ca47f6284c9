/** Keeps the last lines of a process's output for error messages, without unbounded memory. */
export class LineTail {
  private readonly lines: string[] = [];

  constructor(private readonly capacity: number) {}

  push(line: string): void {
    this.lines.push(line);
    if (this.lines.length > this.capacity) this.lines.shift();
  }

  snapshot(): string[] {
    return [...this.lines];
  }

  some(predicate: (line: string) => boolean): boolean {
    return this.lines.some(predicate);
  }
}
