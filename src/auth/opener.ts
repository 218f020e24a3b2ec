/**
 * Opens a URL in the person's browser: `$BROWSER` when set (the convention of `man`, git and Python's
 * webbrowser: `:`-separated commands, `%s` for the URL, else the URL appended), else the platform's
 * opener (xdg-open, open, the Windows URL handler). Opening is a convenience — the URL is always
 * printed too — so a failure to open is reported and never fails the sign-in.
 */
import { spawn } from 'node:child_process';

type Env = Readonly<Record<string, string | undefined>>;

/** The command and arguments that open `url`, or undefined when there is nothing to try. */
export function openerCommand(
  url: string,
  { env = process.env, platform = process.platform }: { env?: Env; platform?: NodeJS.Platform } = {},
): string[] | undefined {
  const browser = env.BROWSER?.split(':').find((entry) => entry.trim() !== '');
  if (browser !== undefined) {
    const words = browser.trim().split(/\s+/);
    return words.some((word) => word.includes('%s')) ? words.map((word) => word.replaceAll('%s', url)) : [...words, url];
  }
  if (platform === 'darwin') return ['open', url];
  // Not `cmd /c start`: cmd would split the URL at its `&`s. The URL handler gets it whole.
  if (platform === 'win32') return ['rundll32', 'url.dll,FileProtocolHandler', url];
  return ['xdg-open', url];
}

/** Starts the opener without waiting for it; resolves false (never rejects) when it could not be run. */
export function openBrowser(url: string, options: { env?: Env; platform?: NodeJS.Platform } = {}): Promise<boolean> {
  const command = openerCommand(url, options);
  if (!command) return Promise.resolve(false);
  const [file, ...args] = command as [string, ...string[]];
  return new Promise((resolve) => {
    try {
      const child = spawn(file, args, { stdio: 'ignore', detached: true, windowsHide: true });
      child.once('error', () => resolve(false));
      child.once('spawn', () => {
        child.unref();
        resolve(true);
      });
    } catch {
      resolve(false);
    }
  });
}
