// Reading the revocation stream: Server-Sent Events parsed line by line,
// and a deadline for a request that the follower resets as bytes arrive.

/** A signal that ends with `parent`, or after `ms`, a timer that `reset` starts again; `clear` ends both. */
export interface Deadline {
  signal: AbortSignal;
  reset(ms: number): void;
  /** Whether the timer, not `parent`, ended it. */
  expired(): boolean;
  clear(): void;
}

export function deadline(parent: AbortSignal, ms: number): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onParent = () => controller.abort(parent.reason);
  parent.addEventListener('abort', onParent, { once: true });
  if (parent.aborted) onParent();
  const reset = (after: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('timed out'));
    }, after);
  };
  reset(ms);
  return {
    signal: controller.signal,
    reset,
    expired: () => timedOut,
    clear: () => {
      clearTimeout(timer);
      parent.removeEventListener('abort', onParent);
      controller.abort();
    },
  };
}

export interface SseEvent {
  type: string;
  data: string;
  id: string | undefined;
}

/**
 * Server-Sent Events, line by line (CR, LF or CRLF, split anywhere across
 * chunks); `onEvent` gets each event and each comment (type `comment`).
 */
export class EventParser {
  #buffer = '';
  #type = '';
  #data: string[] = [];
  #id: string | undefined;

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  push(text: string): void {
    this.#buffer += text;
    for (;;) {
      const end = this.#buffer.search(/\r\n|\r|\n/);
      // A lone CR at the end may be the first half of a CRLF.
      if (end < 0 || (end === this.#buffer.length - 1 && this.#buffer[end] === '\r')) return;
      const line = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + (this.#buffer.startsWith('\r\n', end) ? 2 : 1));
      this.#line(line);
    }
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length || this.#type) {
        this.onEvent({ type: this.#type || 'message', data: this.#data.join('\n'), id: this.#id });
      }
      this.#type = '';
      this.#data = [];
      this.#id = undefined;
      return;
    }
    if (line.startsWith(':')) return this.onEvent({ type: 'comment', data: line.slice(1).trim(), id: undefined });
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') this.#type = value;
    else if (field === 'data') this.#data.push(value);
    else if (field === 'id') this.#id = value;
  }
}
