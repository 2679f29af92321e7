/** A one-line progress display on stderr, drawn only when stderr is a terminal. */
export class Progress {
  readonly #tty = Boolean(process.stderr.isTTY);
  #last = 0;

  update(done: number, total: number, label: string): void {
    if (!this.#tty) return;
    const now = Date.now();
    if (now - this.#last < 100 && done < total) return;
    this.#last = now;
    const width = 30;
    const filled = total > 0 ? Math.round((done / total) * width) : width;
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${label}\x1b[K`);
  }

  done(): void {
    if (this.#tty) process.stderr.write('\n');
  }
}
