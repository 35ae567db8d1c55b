import { formatLine, type SerialMessage } from '../../../device/serial/protocol.ts';

/** xorshift32: deterministic, so a failing run replays exactly. */
export function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 0x1_0000_0000;
  };
}

export function randomMessage(rnd: () => number, seq: number): SerialMessage {
  const f = () => Math.round((rnd() - 0.5) * 2e5) / 1e4;
  switch (Math.floor(rnd() * 4)) {
    case 0:
      return { type: 'imu', seq, ax: f(), ay: f(), az: f(), gx: f(), gy: f(), gz: f() };
    case 1:
      return { type: 'button', seq, id: Math.floor(rnd() * 8), state: rnd() < 0.5 ? 'down' : 'up' };
    case 2:
      return {
        type: 'battery',
        seq,
        percent: Math.floor(rnd() * 101),
        millivolts: 3000 + Math.floor(rnd() * 1300),
        charging: rnd() < 0.5,
      };
    default:
      return { type: 'temperature', seq, celsius: f() };
  }
}

function ending(rnd: () => number): string {
  return rnd() < 0.5 ? '\r\n' : '\n';
}

/**
 * One garbage line, newline included, that the parser must reject, and never more than one: no `\n` inside,
 * so however the bytes are chunked it is exactly one malformed line.
 */
export function garbageLine(rnd: () => number): Buffer {
  const good = formatLine(randomMessage(rnd, Math.floor(rnd() * 65536)));
  switch (Math.floor(rnd() * 6)) {
    case 0: {
      const cs = Number.parseInt(good.slice(-2), 16);
      const bad = ((cs + 1 + Math.floor(rnd() * 255)) % 256).toString(16).toUpperCase().padStart(2, '0');
      return Buffer.from(`${good.slice(0, -2)}${bad}${ending(rnd)}`);
    }
    case 1:
      // Any strict prefix lacks a complete `*CS`.
      return Buffer.from(`${good.slice(0, 1 + Math.floor(rnd() * (good.length - 1)))}${ending(rnd)}`);
    case 2: {
      // Binary junk; one in ten longer than the link holds (its overflow path), none containing `\n`.
      const length = rnd() < 0.1 ? 1_000 + Math.floor(rnd() * 3_000) : 1 + Math.floor(rnd() * 300);
      const junk = Buffer.alloc(length + 1);
      for (let i = 0; i < length; i++) {
        const b = Math.floor(rnd() * 255);
        junk[i] = b >= 0x0a ? b + 1 : b;
      }
      junk[length] = 0x0a;
      return junk;
    }
    case 3:
      return Buffer.from(`${withChecksum('BAT,1,50,3900')}${ending(rnd)}`);
    case 4:
      return Buffer.from(`${withChecksum(rnd() < 0.5 ? 'GPS,7,1.0,2.0' : 'TMP,8,warm')}${ending(rnd)}`);
    default:
      return Buffer.from(ending(rnd));
  }
}

function withChecksum(body: string): string {
  let cs = 0;
  for (const c of body) cs ^= c.charCodeAt(0);
  return `$${body}*${cs.toString(16).toUpperCase().padStart(2, '0')}`;
}

export function validLine(msg: SerialMessage, rnd: () => number): Buffer {
  return Buffer.from(`${formatLine(msg)}${ending(rnd)}`);
}
