import type { RtspResponse } from './message.ts';

interface Pending {
  cseq: number;
  resolve: (r: RtspResponse) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Requests in flight on one client connection, matched to answers by CSeq (RFC 2326 §12.17),
 * each with its own timeout. Requests may be pipelined (a keep-alive beside a TEARDOWN).
 */
export class PendingRequests {
  private readonly byCseq = new Map<number, Pending>();

  /** Waits for the answer to `cseq`; `onTimeout` runs (and the promise rejects) after `timeoutMs`. */
  wait(cseq: number, timeoutMs: number, onTimeout: () => Error): Promise<RtspResponse> {
    return new Promise<RtspResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.byCseq.delete(cseq);
        reject(onTimeout());
      }, timeoutMs);
      this.byCseq.set(cseq, { cseq, resolve, reject, timer });
    });
  }

  /** Hands an answer to its request; one without CSeq goes to the oldest (servers answer in order). */
  answer(res: RtspResponse): void {
    const text = res.headers.get('cseq');
    const p =
      text !== undefined && /^\s*\d{1,10}\s*$/.test(text)
        ? this.byCseq.get(Number(text))
        : this.byCseq.values().next().value;
    if (!p) return; // an answer to nothing we wait for (a late one): ignored
    clearTimeout(p.timer);
    this.byCseq.delete(p.cseq);
    p.resolve(res);
  }

  /** Fails every request in flight with `err`. */
  rejectAll(err: Error): void {
    for (const p of this.byCseq.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.byCseq.clear();
  }
}
