/**
 * RTSP header fields (RFC 2326 §4.2, §12): names are case-insensitive, order is kept, and a
 * name may repeat (a 401 carries one WWW-Authenticate per scheme, RFC 7235 §4.1).
 */
export class RtspHeaders {
  private readonly list: [string, string][] = [];

  constructor(init?: Iterable<readonly [string, string]>) {
    if (init) for (const [n, v] of init) this.append(n, v);
  }

  /** The first value of `name`, or undefined. */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    for (const [n, v] of this.list) if (n.toLowerCase() === key) return v;
    return undefined;
  }

  getAll(name: string): string[] {
    const key = name.toLowerCase();
    return this.list.filter(([n]) => n.toLowerCase() === key).map(([, v]) => v);
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Replaces every value of `name` with one, kept where the first one was. */
  set(name: string, value: string): this {
    const key = name.toLowerCase();
    const at = this.list.findIndex(([n]) => n.toLowerCase() === key);
    if (at < 0) {
      this.list.push([name, value]);
      return this;
    }
    this.list[at] = [name, value];
    for (let i = this.list.length - 1; i > at; i--) {
      if (this.list[i]![0].toLowerCase() === key) this.list.splice(i, 1);
    }
    return this;
  }

  append(name: string, value: string): this {
    this.list.push([name, value]);
    return this;
  }

  delete(name: string): this {
    const key = name.toLowerCase();
    for (let i = this.list.length - 1; i >= 0; i--) {
      if (this.list[i]![0].toLowerCase() === key) this.list.splice(i, 1);
    }
    return this;
  }

  get size(): number {
    return this.list.length;
  }

  /** [name as received or set, value] pairs in order. */
  entries(): Iterable<[string, string]> {
    return this.list.map(([n, v]): [string, string] => [n, v]);
  }
}

export interface RtspRequest {
  method: string;
  uri: string;
  headers: RtspHeaders;
  body: Buffer;
}

export interface RtspResponse {
  status: number;
  reason: string;
  headers: RtspHeaders;
  body: Buffer;
}

/** What an RTSP connection carries: messages, and RTP/RTCP frames interleaved on TCP (RFC 2326 §10.12). */
export type RtspItem =
  | { type: 'request'; request: RtspRequest }
  | { type: 'response'; response: RtspResponse }
  | { type: 'interleaved'; channel: number; payload: Buffer };
