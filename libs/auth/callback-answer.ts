/**
 * The answer of an authorization callback (SRS's on_publish / on_play contract): a 2xx status
 * whose body is `{"code":0}` or a bare `0` allows; any other status or body refuses.
 */
export type CallbackAnswer = { allow: true } | { allow: false; why: string };

/** Bodies longer than this are not read as an answer (a refusal). */
export const MAX_ANSWER_BYTES = 64 * 1024;

export function parseCallbackAnswer(status: number, body: string): CallbackAnswer {
  if (!Number.isInteger(status) || status < 200 || status > 299) {
    return { allow: false, why: `status ${status}` };
  }
  if (body.length > MAX_ANSWER_BYTES) return { allow: false, why: 'answer too long' };
  const text = body.trim();
  if (text === '0') return { allow: true };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { allow: false, why: 'answer is neither 0 nor JSON' };
  }
  if (parsed === 0) return { allow: true };
  if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
    const code = (parsed as { code?: unknown }).code;
    if (code === 0) return { allow: true };
    return { allow: false, why: `code ${typeof code === 'number' ? code : 'missing'}` };
  }
  return { allow: false, why: 'answer is not {"code":0}' };
}
