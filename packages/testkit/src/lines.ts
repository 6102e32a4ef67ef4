import type { Readable } from 'node:stream';

const TEXT_MAX = 1024 * 1024;

interface Waiter {
  match: (line: string) => boolean;
  resolve: (line: string) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Lines of a child's output, read in order by `next()` / `waitFor()` with deadlines. Lines that
 * `waitFor` skips are consumed. When the stream ends, waiting readers are rejected.
 */
export class LineReader {
  private readonly lines: string[] = [];
  private read = 0;
  private partial = '';
  private waiter: Waiter | null = null;
  private endedWith: string | null = null;
  /** What was received, for diagnostics (the last MiB). */
  text = '';

  constructor(
    stream: Readable,
    private readonly describe: () => string,
  ) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.push(chunk));
    stream.on('end', () => this.end('the stream ended'));
  }

  /** The next unread line. */
  next(timeoutMs: number): Promise<string> {
    return this.waitFor(() => true, timeoutMs, 'any line');
  }

  /** The first unread line matching `pattern` (a substring or RegExp); earlier lines are skipped. */
  waitFor(pattern: string | RegExp | ((line: string) => boolean), timeoutMs: number, what = String(pattern)): Promise<string> {
    if (this.waiter !== null) return Promise.reject(new Error('LineReader: one reader at a time'));
    const match = typeof pattern === 'function' ? pattern : typeof pattern === 'string' ? (l: string) => l.includes(pattern) : (l: string) => pattern.test(l);
    while (this.read < this.lines.length) {
      const line = this.lines[this.read++] as string;
      if (match(line)) return Promise.resolve(line);
    }
    if (this.endedWith !== null) return Promise.reject(this.failure(`${this.endedWith} before ${what}`));
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(this.failure(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = { match, resolve, reject, timer };
    });
  }

  /** Reject the current reader: the process behind the stream has gone. */
  end(why: string): void {
    if (this.endedWith !== null) return;
    if (this.partial !== '') this.deliver(this.partial);
    this.partial = '';
    this.endedWith = why;
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.reject(this.failure(`${why} while waiting`));
    }
  }

  private push(chunk: string): void {
    this.text = this.text.length + chunk.length > TEXT_MAX ? (this.text + chunk).slice(-TEXT_MAX) : this.text + chunk;
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() as string;
    for (const line of parts) this.deliver(line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  private deliver(line: string): void {
    const w = this.waiter;
    if (w !== null && this.read === this.lines.length) {
      if (w.match(line)) {
        this.waiter = null;
        clearTimeout(w.timer);
        w.resolve(line);
      }
      return; // consumed, matching or skipped
    }
    this.lines.push(line);
  }

  private failure(message: string): Error {
    return new Error(`${message}; ${this.describe()}`);
  }
}
