import { accessSync, constants } from 'node:fs';

/** Where Debian's and other distributions' packages put Chromium (IPPRO_CHROMIUM overrides). */
const CANDIDATES = ['/usr/bin/chromium', '/usr/lib/chromium/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The Chromium executable to drive, or undefined with the places looked at. */
export function findChromium(): { path?: string; looked: string[] } {
  const explicit = process.env['IPPRO_CHROMIUM'];
  const looked = explicit === undefined || explicit === '' ? CANDIDATES : [explicit];
  for (const candidate of looked) {
    try {
      accessSync(candidate, constants.X_OK);
      return { path: candidate, looked };
    } catch {
      // not here: try the next place
    }
  }
  return { looked };
}
