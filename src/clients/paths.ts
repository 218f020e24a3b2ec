/**
 * The folders clients keep their configuration in, per OS. Everything derives from the injected
 * {@link Platform} (HOME, APPDATA, XDG_CONFIG_HOME, the current folder), so tests point it at a temporary folder.
 */
import { homedir } from 'node:os';
import path from 'node:path';
import type { Platform } from './types.js';

/** The current machine, read from `process`. */
export function currentPlatform(env: Platform['env'] = process.env): Platform {
  const os = process.platform;
  const home = (os === 'win32' ? env.USERPROFILE : env.HOME) || homedir();
  return { os, env, home, cwd: process.cwd() };
}

/** `path.win32` on Windows, else `path.posix`: paths are built in the target OS's spelling. */
export function pathsOf(platform: Platform): path.PlatformPath {
  return platform.os === 'win32' ? path.win32 : path.posix;
}

/**
 * The OS's folder for application settings: `%APPDATA%` on Windows, `~/Library/Application Support`
 * on macOS, `$XDG_CONFIG_HOME` (default `~/.config`) elsewhere.
 */
export function appConfigDir(platform: Platform): string {
  const { join, isAbsolute } = pathsOf(platform);
  if (platform.os === 'win32') return platform.env.APPDATA || join(platform.home, 'AppData', 'Roaming');
  if (platform.os === 'darwin') return join(platform.home, 'Library', 'Application Support');
  const xdg = platform.env.XDG_CONFIG_HOME;
  return xdg && isAbsolute(xdg) ? xdg : join(platform.home, '.config');
}
