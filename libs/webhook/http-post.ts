/**
 * One webhook POST: resolves with the HTTP status, rejects on a network error or after
 * `timeoutMs` (headers not in by then). Redirects are not followed (a POST would turn into a
 * GET): a 3xx is the receiver's answer like any other. The response body is not read.
 */
export type WebhookPost = (
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
) => Promise<number>;

export const fetchPost: WebhookPost = async (url, headers, body, timeoutMs) => {
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(timeoutMs),
  });
  await res.body?.cancel().catch(() => undefined);
  return res.status;
};

/** Whether an answer is worth another attempt: 5xx and 429 are, other statuses are final. */
export function outcomeOfStatus(status: number): 'ok' | 'retry' | 'fail' {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 429 || status >= 500) return 'retry';
  return 'fail';
}
