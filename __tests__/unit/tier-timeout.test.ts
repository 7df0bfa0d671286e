// The unit tier's default timeout comes from jest.config.js through __tests__/setup.js
// (jest ignores `testTimeout` inside a project). A slow test here would otherwise die at 5 s.
test('a test may run longer than jest\'s 5 s default when its tier allows it', async () => {
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 5_500));
  // Reaching this line at all is the point: under jest's default the test is killed at 5 s. (Timed with the
  // monotonic clock, as timers are: Date.now() once read 5499 ms after a 5500 ms timer.)
  expect(performance.now() - start).toBeGreaterThan(5_000);
});
