// The load generator of `make bench`: autocannon against one URL for a bounded time.
// argv[2] is a JSON spec: {"url", "duration", "connections",
//   "requests": [{"body", "headers", "every"}]}; a request with "every": n is sent as
// every n-th request (the mixed workload: 1 write in 10), the first one otherwise.
// Prints one JSON line: requests/s, latency percentiles (ms), errors and non-2xx answers.
import autocannon from 'autocannon';

const spec = JSON.parse(process.argv[2]);
const [main, ...others] = spec.requests;
let sent = 0;

function pick() {
  sent += 1;
  return others.find((r) => r.every && sent % r.every === 0) ?? main;
}

const result = await autocannon({
  url: spec.url,
  method: 'POST',
  duration: spec.duration,
  connections: spec.connections,
  pipelining: 1,
  headers: { 'content-type': 'application/json' },
  requests: [
    {
      setupRequest: (request) => {
        const chosen = pick();
        return { ...request, method: 'POST', body: chosen.body, headers: { ...request.headers, ...chosen.headers } };
      },
    },
  ],
});
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    seconds: result.duration,
    requests_per_second: result.requests.total / result.duration,
    p50_ms: result.latency.p50,
    p90_ms: result.latency.p90,
    p99_ms: result.latency.p99,
    max_ms: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  })}\n`,
);
