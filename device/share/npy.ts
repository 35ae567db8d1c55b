/**
 * Reads NumPy's `.npy` format (versions 1–3): a magic string, a Python-dict header with `descr`,
 * `fortran_order` and `shape`, then the raw array bytes. Written here rather than taken from npm because the
 * format is one page of spec and the only readers on npm are unmaintained; we need the header and a byte view,
 * nothing more.
 */

export interface NpyArray {
  /** NumPy type string, e.g. `<f4`, `<i8`, `|u1`. */
  readonly dtype: string;
  readonly shape: readonly number[];
  /** The array's bytes, C order. */
  readonly data: Buffer;
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

export class NpyError extends Error {
  override readonly name = 'NpyError';
}

export function parseNpy(buf: Buffer): NpyArray {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new NpyError('not a .npy array (no NUMPY magic)');
  const major = buf[6];
  const lengthBytes = major === 1 ? 2 : 4;
  if (major !== 1 && major !== 2 && major !== 3) throw new NpyError(`unsupported .npy version ${major}`);
  const headerLength = lengthBytes === 2 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = 8 + lengthBytes;
  if (start + headerLength > buf.length) throw new NpyError('.npy header runs past the end of the data');
  const header = buf.subarray(start, start + headerLength).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new NpyError(`malformed .npy header ${JSON.stringify(header.trim())}`);
  }
  if (fortran === 'True') throw new NpyError('Fortran-ordered arrays are not supported');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((n) => !Number.isSafeInteger(n) || n < 0)) throw new NpyError(`bad .npy shape (${shapeText})`);
  const data = buf.subarray(start + headerLength);
  const expected = shape.reduce((a, b) => a * b, 1) * itemSize(descr);
  if (data.length !== expected) {
    throw new NpyError(`.npy data is ${data.length} bytes, shape (${shape.join(', ')}) of ${descr} needs ${expected}`);
  }
  return { dtype: descr, shape, data };
}

function itemSize(descr: string): number {
  const size = Number(/^[<>|=]?[a-zA-Z](\d+)$/.exec(descr)?.[1]);
  if (!Number.isInteger(size) || size <= 0) throw new NpyError(`unsupported .npy dtype ${descr}`);
  return size;
}
