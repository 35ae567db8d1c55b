import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';

const WILD = /[*?[]/;

/**
 * Files matching a shell-style pattern (`*`, `?`, `[…]` in any path segment; no `**`), sorted. Node 20 has no
 * `fs.globSync` and the CLI takes the pattern quoted (`--images 'data/left*.jpg'`) so the shell does not expand it.
 */
export function globFiles(pattern: string): string[] {
  const absolute = isAbsolute(pattern);
  const segments = pattern.split(/[\\/]+/).filter((s) => s !== '');
  let bases = [absolute ? sep : resolve('.')];
  for (const [i, segment] of segments.entries()) {
    const last = i === segments.length - 1;
    const next: string[] = [];
    for (const base of bases) {
      if (!WILD.test(segment)) {
        const p = join(base, segment);
        if (existsSync(p)) next.push(p);
        continue;
      }
      const re = segmentRegex(segment);
      let names: string[];
      try {
        names = readdirSync(base);
      } catch {
        continue;
      }
      for (const name of names) if (re.test(name)) next.push(join(base, name));
    }
    bases = last ? next : next.filter((p) => isDirectory(p));
  }
  return bases.filter((p) => !isDirectory(p)).sort();
}

function segmentRegex(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = segment.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        const body = segment
          .slice(i + 1, end)
          .replace(/^!/, '^')
          .replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
