import { readdirSync } from 'node:fs'
import { join } from 'node:path'

/** Every file under `dir/<date>/`, sorted by path: what a run left behind. */
export function listRunFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .flatMap((folder) => readdirSync(join(dir, folder.name)).map((name) => join(dir, folder.name, name)))
    .sort()
}
