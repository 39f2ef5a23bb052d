// mtcute (npm @mtcute/node, pinned in package.json) as a load client, for
// benches/side_by_side/run.sh.
//
// Usage: node mtcute_bench.mjs HOST PORT PUBLIC_PEM CONCURRENCY SECONDS
//
// One BaseTelegramClient (memory storage, no auth key: it makes its own; its
// Node TCP transport is the intermediate one), with our server as its DC 2
// and our key added to its key index, then CONCURRENCY loops that each call
// messages.setTyping(inputPeerSelf, typing) and wait for the answer, again
// and again, for SECONDS. Every answer is checked (true; anything else counts
// as an error). One call is made before the clock starts.
//
// Prints one JSON object, the shape `mtproto bench --json` prints, plus
// "client". handshake_ms is connect() and the first answer: mtcute's
// connect() returns before its key exchange is done, so the first call
// waits for the key exchange and mtcute's help.getConfig. Exits 1 if a call failed, 2 on bad usage.
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { BaseTelegramClient, MemoryStorage } from '@mtcute/node'
import { NodeCryptoProvider, addPublicKey } from '@mtcute/node/utils.js'

const args = process.argv.slice(2)
if (args.length !== 5) {
  process.stderr.write('usage: node mtcute_bench.mjs HOST PORT PUBLIC_PEM CONCURRENCY SECONDS\n')
  process.exit(2)
}
const [host, portText, pemPath, concText, secondsText] = args
const port = Number(portText)
const concurrency = Number(concText)
const seconds = Number(secondsText)
const version = JSON.parse(
  readFileSync(new URL('./node_modules/@mtcute/node/package.json', import.meta.url), 'utf8'),
).version

function percentile(sorted, q) {
  if (sorted.length === 0) return 0
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * sorted.length + 0.5) - 1))
  return sorted[i]
}

const crypto = new NodeCryptoProvider()
await crypto.initialize?.()
addPublicKey(crypto, readFileSync(pemPath, 'ascii'))

const dc = { id: 2, ipAddress: host, port }
const client = new BaseTelegramClient({
  apiId: 1,
  apiHash: '00000000000000000000000000000000',
  storage: new MemoryStorage(),
  crypto,
  defaultDcs: { main: dc, media: dc },
  disableUpdates: true,
  logLevel: 1, // errors only
})

const request = () => ({
  _: 'messages.setTyping',
  peer: { _: 'inputPeerSelf' },
  action: { _: 'sendMessageTypingAction' },
})

let code = 0
try {
  const t0 = performance.now()
  await client.connect()
  if ((await client.call(request())) !== true) {
    process.stderr.write('mtcute: the warm-up call did not answer true\n')
    process.exit(1)
  }
  const handshakeMs = performance.now() - t0
  const latencies = []
  let errors = 0
  let firstError
  const deadline = performance.now() + seconds * 1000
  const loop = async () => {
    while (performance.now() < deadline) {
      const t = performance.now()
      let ok = false
      let why
      try {
        const r = await client.call(request())
        ok = r === true
        why = `answered ${JSON.stringify(r)}`
      } catch (e) {
        why = String(e)
      }
      latencies.push(Math.round((performance.now() - t) * 1000))
      if (!ok) {
        errors += 1
        firstError ??= why
      }
    }
  }
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, loop))
  const elapsed = (performance.now() - started) / 1000
  latencies.sort((a, b) => a - b)
  const out = {
    client: `mtcute ${version}`,
    connections: 1,
    concurrency,
    calls: latencies.length,
    errors,
    seconds: Number(elapsed.toFixed(3)),
    rps: Number((latencies.length / elapsed).toFixed(1)),
    handshake_ms: { p50: Number(handshakeMs.toFixed(3)), p99: Number(handshakeMs.toFixed(3)) },
    latency_us: {
      p50: percentile(latencies, 0.5),
      p90: percentile(latencies, 0.9),
      p99: percentile(latencies, 0.99),
      max: latencies.length ? latencies[latencies.length - 1] : 0,
    },
  }
  if (firstError !== undefined) out.first_error = firstError
  process.stdout.write(`${JSON.stringify(out)}\n`)
  code = errors ? 1 : 0
} finally {
  await client.destroy?.().catch(() => {})
}
process.exit(code)
