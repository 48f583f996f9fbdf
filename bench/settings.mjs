import { cpus } from 'node:os'

/** N from `BENCH_RECORDS`, or `fallback` when it is not set. */
export function recordsFromEnv(fallback) {
  const raw = process.env['BENCH_RECORDS']
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) {
    throw new TypeError(`Expected \`BENCH_RECORDS\` to be a positive integer, got \`${raw}\` (string)`)
  }
  return value
}

/** The command that started this run, as a reader would type it again: `BENCH_RECORDS=20000 npm run bench`. */
export function commandLine(npmScript, file) {
  const command = process.env['npm_lifecycle_event'] === npmScript ? `npm run ${npmScript}` : `node bench/${file}`
  const records = process.env['BENCH_RECORDS']
  return records === undefined || records === '' ? command : `BENCH_RECORDS=${records} ${command}`
}

/** The first line of a results file: Node, CPU, cores, and the command that made it. */
export function machineLine(command) {
  const cpuList = cpus()
  return `Node ${process.version} · ${cpuList[0]?.model ?? 'unknown CPU'} · ${cpuList.length} cores · \`${command}\``
}

/** A progress line, on stderr so that stdout holds only the tables. */
export function progress(text) {
  process.stderr.write(`${text}\n`)
}
