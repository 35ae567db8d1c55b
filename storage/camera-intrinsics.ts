import type { Db } from './db.ts';

export interface CameraIntrinsicsRow {
  readonly id: number;
  readonly device: string;
  readonly camera: string;
  readonly createdMs: number;
  readonly width: number;
  readonly height: number;
  readonly cameraMatrix: number[];
  readonly distCoeffs: number[];
  readonly rms: number;
  readonly imagesUsed: number;
}

export type NewCameraIntrinsics = Omit<CameraIntrinsicsRow, 'id' | 'createdMs'> & { readonly createdMs?: number };

interface Raw {
  id: number;
  device: string;
  camera: string;
  created_ms: number;
  width: number;
  height: number;
  camera_matrix: string;
  dist_coeffs: string;
  rms: number;
  images_used: number;
}

/** Chessboard calibrations per device and camera; the newest one is the one in use. */
export class CameraIntrinsicsRepository {
  private readonly insert;
  private readonly selectLatest;

  constructor(db: Db) {
    this.insert = db.prepare(
      `INSERT INTO camera_intrinsics (device, camera, created_ms, width, height, camera_matrix, dist_coeffs, rms, images_used)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    );
    this.selectLatest = db.prepare(
      'SELECT * FROM camera_intrinsics WHERE device = ? AND camera = ? ORDER BY id DESC LIMIT 1',
    );
  }

  save(row: NewCameraIntrinsics): number {
    const r = this.insert.get(
      row.device,
      row.camera,
      row.createdMs ?? Date.now(),
      row.width,
      row.height,
      JSON.stringify(row.cameraMatrix),
      JSON.stringify(row.distCoeffs),
      row.rms,
      row.imagesUsed,
    ) as { id: number };
    return r.id;
  }

  latest(device: string, camera = 'scene'): CameraIntrinsicsRow | undefined {
    const r = this.selectLatest.get(device, camera) as Raw | undefined;
    if (r === undefined) return undefined;
    return {
      id: r.id,
      device: r.device,
      camera: r.camera,
      createdMs: r.created_ms,
      width: r.width,
      height: r.height,
      cameraMatrix: JSON.parse(r.camera_matrix) as number[],
      distCoeffs: JSON.parse(r.dist_coeffs) as number[],
      rms: r.rms,
      imagesUsed: r.images_used,
    };
  }
}
