import { goDuration } from '../../bootstrap/private/kubeadm-timeouts';

describe('goDuration prints seconds as Go time.Duration does', () => {
  test.each([
    [0, '0s'],
    [45, '45s'],
    [600, '10m0s'],
    [3600, '1h0m0s'],
    [6000, '1h40m0s'],
    [86400, '24h0m0s'],
  ])('%i s is %s', (seconds, printed) => {
    expect(goDuration(seconds)).toBe(printed);
  });

  test.each([-1, 1.5, Number.NaN])('refuses %p, naming the value and what is allowed', (seconds) => {
    expect(() => goDuration(seconds)).toThrow(`goDuration: seconds must be a whole number >= 0, got ${seconds}`);
  });
});
