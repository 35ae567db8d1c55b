/**
 * Linear least squares for the small, well-posed systems of gaze mapping (7 or 13 unknowns, hundreds of rows):
 * normal equations with a whisper of ridge regularisation, solved by Cholesky. Features are kept in [-1, 1] by
 * the caller, so the normal matrix is well conditioned and this is as accurate as a QR would be here.
 */
export function solveLeastSquares(
  rows: readonly Float64Array[],
  targets: readonly number[],
  unknowns: number,
): Float64Array | null {
  const n = unknowns;
  if (rows.length < n) return null;
  const ata = new Float64Array(n * n);
  const atb = new Float64Array(n);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as Float64Array;
    const t = targets[r] as number;
    for (let i = 0; i < n; i++) {
      const ri = row[i] as number;
      atb[i] = (atb[i] as number) + ri * t;
      for (let j = 0; j <= i; j++) ata[i * n + j] = (ata[i * n + j] as number) + ri * (row[j] as number);
    }
  }
  let trace = 0;
  for (let i = 0; i < n; i++) trace += ata[i * n + i] as number;
  const ridge = (1e-9 * trace) / n;
  for (let i = 0; i < n; i++) ata[i * n + i] = (ata[i * n + i] as number) + ridge;
  return choleskySolve(ata, atb, n);
}

/** Solves A x = b for symmetric positive-definite A given by its lower triangle (row-major n×n). */
function choleskySolve(a: Float64Array, b: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j] as number;
      for (let k = 0; k < j; k++) s -= (l[i * n + k] as number) * (l[j * n + k] as number);
      if (i === j) {
        if (!(s > 0)) return null;
        l[i * n + i] = Math.sqrt(s);
      } else {
        l[i * n + j] = s / (l[j * n + j] as number);
      }
    }
  }
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i] as number;
    for (let k = 0; k < i; k++) s -= (l[i * n + k] as number) * (y[k] as number);
    y[i] = s / (l[i * n + i] as number);
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i] as number;
    for (let k = i + 1; k < n; k++) s -= (l[k * n + i] as number) * (x[k] as number);
    x[i] = s / (l[i * n + i] as number);
  }
  return x;
}
