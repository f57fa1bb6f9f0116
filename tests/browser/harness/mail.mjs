// The mail sink: a real SMTP server (npm smtp-server) on a free loopback
// port, keeping every message the server under test sends.

import { EventEmitter } from 'node:events';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';
import { DEFAULT_TIMEOUT_MS, within } from './wait.mjs';

/**
 * A received message: `to` are the envelope recipients (lower case),
 * `text` the plain-text body (decoded), `seq` its order of arrival.
 * @typedef {{seq: number, receivedAt: Date, from: string, to: string[],
 *   subject: string, text: string, html: string|false, raw: string}} Mail
 */

/** The 6-digit code in a sign-in mail: in the subject or the text. */
export function codeIn(mail) {
  for (const part of [mail.subject ?? '', mail.text ?? '']) {
    const found = /code is (\d{6})\b/.exec(part) ?? /\b(\d{6})\b/.exec(part);
    if (found) return found[1];
  }
  return undefined;
}

/** Starts the sink; `sink.url` is the `smtp://` URL for `--smtp-url`. */
export async function startMailSink() {
  const sink = new MailSink();
  await sink.listen();
  return sink;
}

export class MailSink {
  /** @type {Mail[]} */
  messages = [];
  #events = new EventEmitter();
  #refusing = false;
  #server;
  url = '';

  constructor() {
    this.#events.setMaxListeners(0);
    this.#server = new SMTPServer({
      name: 'sink.test',
      logger: false,
      // Plain SMTP on loopback, as `smtp://host:port` means to the server.
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      onData: (stream, session, callback) => this.#receive(stream, session, callback),
    });
    this.#server.on('error', () => {});
  }

  async listen() {
    await new Promise((resolve, reject) => {
      this.#server.server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = this.#server.server.address();
    this.url = `smtp://127.0.0.1:${port}`;
  }

  async close() {
    await new Promise((resolve) => this.#server.close(resolve));
  }

  /** While `true`, every message is refused with 451 (a temporary failure). */
  refuse(refusing = true) {
    this.#refusing = refusing;
  }

  /**
   * A mark in the stream of messages: pass it as `after` to wait only for
   * messages that arrive later.
   */
  cursor() {
    return { seq: this.messages.length };
  }

  /**
   * The first message to `to` that arrived after `after` (a `cursor()`, a
   * message, or a Date), waiting for it until `timeout` ms.
   * @returns {Promise<Mail>}
   */
  async waitFor(to, { after, timeout = DEFAULT_TIMEOUT_MS, where = () => true } = {}) {
    const address = to.toLowerCase();
    const matches = (m) => m.to.includes(address) && isAfter(m, after) && where(m);
    const found = this.messages.find(matches);
    if (found) return found;
    let listener;
    const arrival = new Promise((resolve) => {
      listener = (m) => matches(m) && resolve(m);
      this.#events.on('message', listener);
    });
    try {
      return await within(`a mail to ${to} arrives (${this.messages.length} received so far, to: ${this.#recipients()})`, arrival, timeout);
    } finally {
      this.#events.off('message', listener);
    }
  }

  /**
   * The 6-digit code of the first mail to `to` after `after` that holds
   * one, waiting for it (see `waitFor`).
   */
  async waitForCode(to, options = {}) {
    const mail = await this.waitFor(to, { ...options, where: (m) => codeIn(m) !== undefined && (options.where?.(m) ?? true) });
    return codeIn(mail);
  }

  #recipients() {
    return [...new Set(this.messages.flatMap((m) => m.to))].join(', ') || 'nobody';
  }

  async #receive(stream, session, callback) {
    try {
      const chunks = [];
      for await (const chunk of stream) chunks.push(chunk);
      if (this.#refusing) {
        const refused = new Error('the sink refuses mail for now');
        refused.responseCode = 451;
        return callback(refused);
      }
      const raw = Buffer.concat(chunks);
      const parsed = await simpleParser(raw);
      /** @type {Mail} */
      const mail = {
        seq: this.messages.length + 1,
        receivedAt: new Date(),
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
        subject: parsed.subject ?? '',
        text: parsed.text ?? '',
        html: parsed.html ?? false,
        raw: raw.toString('utf8'),
      };
      this.messages.push(mail);
      callback();
      this.#events.emit('message', mail);
    } catch (e) {
      callback(e);
    }
  }
}

function isAfter(mail, after) {
  if (after === undefined || after === null) return true;
  if (after instanceof Date) return mail.receivedAt >= after;
  if (typeof after.seq === 'number') return mail.seq > after.seq;
  throw new TypeError('`after` is a cursor(), a received message, or a Date');
}
