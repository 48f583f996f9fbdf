// One logging process of the collector benchmark. It opens its logger, prints "ready",
// waits for "go" on stdin (sent to every process of a run at once, so they start together), logs
// records first … first+records-1, waits for finish(), and prints one JSON line: when the
// loop started, when it ended and when finish() resolved (epoch ms, comparable across
// processes), and its peak RSS.
// Usage: node collector-client.mjs <contender-id> <socket-or-file> <first> <records>
import { writeSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { COLLECTOR_CONTENDERS } from '../collector-contenders.mjs'

const [id, target, firstArg, recordsArg] = process.argv.slice(2)
const first = Number(firstArg)
const end = first + Number(recordsArg)

const contender = COLLECTOR_CONTENDERS.get(id)
if (contender === undefined) throw new TypeError(`Expected a contender id, one of ${[...COLLECTOR_CONTENDERS.keys()].join(', ')}, got \`${String(id)}\` (${typeof id})`)
const { log, finish } = await contender.open(target)
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
writeSync(1, 'ready\n')
const { value: command } = await lines.next()
if (command !== 'go') throw new Error(`collector-client: expected "go" on stdin, got ${JSON.stringify(command)}`)

const now = () => performance.timeOrigin + performance.now()
const startMs = now()
for (let i = first; i < end; i++) log(i)
const loopEndMs = now()
await finish()
const endMs = now()
writeSync(1, `${JSON.stringify({ startMs, loopEndMs, endMs, maxRssKiB: process.resourceUsage().maxRSS })}\n`)
process.exit(0)
