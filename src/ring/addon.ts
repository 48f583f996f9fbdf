import { createRequire } from 'node:module'

/** What the native addon (native/ring.c) offers: nothing but the mapping. */
export interface RingAddon {
  /** An ArrayBuffer over bytes [0, length) of the open file `fd`, mapped MAP_SHARED. */
  map(fd: number, length: number): ArrayBuffer
}

/** Set to `1` to act as if the addon could not be built: `durability: 'ring'` falls back to `sync`. */
export const NO_ADDON_ENV = 'BLACKBOX_NO_ADDON'
/** The code of the warning emitted when `ring` falls back to `sync`. */
export const RING_FALLBACK_WARNING_CODE = 'BLACKBOX_RING_FALLBACK'

// src/ring/addon.ts and dist/ring/addon.js are both two levels below the package root,
// where node-gyp leaves build/Release/.
const ADDON_PATH = '../../build/Release/blackbox_ring.node'

export type AddonLoad = { addon: RingAddon; reason?: never } | { addon?: never; reason: string }

/** Loads the addon, or says why it is not there. Never throws. */
export function loadRingAddon(env: NodeJS.ProcessEnv = process.env): AddonLoad {
  if (env[NO_ADDON_ENV] === '1') return { reason: `${NO_ADDON_ENV}=1 is set` }
  try {
    const loaded = createRequire(import.meta.url)(ADDON_PATH) as Partial<RingAddon>
    if (typeof loaded.map !== 'function') return { reason: `${ADDON_PATH} has no map()` }
    return { addon: loaded as RingAddon }
  } catch (error) {
    return { reason: `the native addon could not be loaded (${error instanceof Error ? error.message.split('\n')[0] : String(error)}); build it with \`npm rebuild blackbox-log\`` }
  }
}
