import { createHash } from 'node:crypto';

/**
 * Chunk framing v1, one MQTT payload per chunk (binary, works the same on MQTT 3.1.1 and 5):
 *
 *   offset 0    1 byte    framing version (1)
 *   offset 1    4 bytes   chunk index, unsigned big-endian (the same as the topic's last level)
 *   offset 5    32 bytes  sha256 of the data
 *   offset 37   …         the data: chunkBytes bytes, fewer for the last chunk
 *
 * 37 bytes per 64 KiB chunk is 0.06 %. The index inside the payload lets the phone catch a chunk filed under
 * the wrong topic; the hash lets it refuse a damaged chunk and ask for it again.
 */
export const CHUNK_FRAMING_VERSION = 1;
export const CHUNK_HEADER_BYTES = 37;

export interface DecodedChunk {
  readonly index: number;
  readonly data: Buffer;
}

/**
 * Writes the header of a frame whose data already sits at CHUNK_HEADER_BYTES (the sender reads the file straight
 * into the frame, so a chunk is never copied).
 */
export function sealChunk(frame: Buffer, index: number): Buffer {
  frame.writeUInt8(CHUNK_FRAMING_VERSION, 0);
  frame.writeUInt32BE(index, 1);
  createHash('sha256').update(frame.subarray(CHUNK_HEADER_BYTES)).digest().copy(frame, 5);
  return frame;
}

export function encodeChunk(index: number, data: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(CHUNK_HEADER_BYTES + data.length);
  data.copy(frame, CHUNK_HEADER_BYTES);
  return sealChunk(frame, index);
}

/** Returns the chunk, or why the frame is refused (wrong version, truncated, checksum mismatch). */
export function decodeChunk(frame: Buffer): DecodedChunk | { readonly error: string } {
  if (frame.length < CHUNK_HEADER_BYTES) return { error: `frame of ${frame.length} bytes is shorter than its header` };
  const version = frame.readUInt8(0);
  if (version !== CHUNK_FRAMING_VERSION) return { error: `unknown chunk framing version ${version}` };
  const data = frame.subarray(CHUNK_HEADER_BYTES);
  const expected = frame.subarray(5, CHUNK_HEADER_BYTES);
  if (!createHash('sha256').update(data).digest().equals(expected)) return { error: 'chunk sha256 mismatch' };
  return { index: frame.readUInt32BE(1), data };
}
