import { describeRequest, parseRequestSample } from '../../host/request-loop';

// The request loop's lines, parsed; the loop itself runs against a real HTTP server in the tools tier
// (__tests__/tools/request-loop.test.ts) and through HAProxy in the end-to-end tier.

describe("the request loop's lines", () => {
  test('a line with curl exit code and time keeps both, and the report names them', () => {
    const sample = parseRequestSample('1796530000123 000 28 5.001234\n');
    expect(sample).toEqual({ at: 1796530000123, ok: false, code: '000', curlExit: 28, seconds: 5.001234 });
    expect(describeRequest(sample!)).toBe('000 (curl exit 28, 5.0 s)');
  });

  test('a line with the HTTP code alone is a sample without curl details', () => {
    const sample = parseRequestSample('1796530000123 200');
    expect(sample).toEqual({ at: 1796530000123, ok: true, code: '200' });
    expect(describeRequest(sample!)).toBe('200');
  });

  test('anything else is no sample', () => {
    for (const line of ['', 'curl: (28) timed out', '1796530000123', '1796530000123 000 28']) expect(parseRequestSample(line)).toBeUndefined();
  });
});
