/** What a request handler answers: the connection adds CSeq, Server and Session. */
export interface Reply {
  status: number;
  headers?: [string, string][];
  body?: Buffer;
  /** Close the connection after the answer (TEARDOWN, a bad request we cannot go on from). */
  close?: boolean;
  closeReason?: string;
  /** Runs right after the answer is written (PLAY: the held packets follow it). */
  after?: () => void;
}
