/**
 * How a supervised run ended: the verdict the supervisor (crash/supervisor.ts) states in the
 * run file's last record, and postmortem reads back. Here, with the run files, so that both
 * sides share one list.
 */
export type Verdict = 'clean' | 'error' | 'uncaught' | 'signal' | 'oom' | 'sigkill' | 'hang' | 'not-started'

export const VERDICT_TEXT: Readonly<Record<Verdict, string>> = {
  clean: 'clean exit',
  error: 'error exit',
  uncaught: 'uncaught exception',
  signal: 'killed by a signal',
  oom: 'killed by the OOM killer',
  sigkill: 'SIGKILL from outside, possibly OOM',
  hang: 'hung',
  'not-started': 'the command could not be started',
}
