/**
 * The tool vector cache: `<stateDir>/vectors/<space>.bin`, one file per vector space (embedding
 * provider, model and endpoint), holding the embedding of every tool definition hash seen. Binary,
 * because a JSON array of 10,000 × 1,536 floats is ~150 MB of text to parse at every start-up; this is
 * a 40-byte header, an index of 8-byte tool hashes, and the vectors as little-endian Float32:
 *
 *   "AMCPVEC1" | dimension u32 | count u32 | checksum 8 bytes | space 16 ASCII | hashes | vectors
 *
 * The checksum (SHA-256 of everything after the header, first 8 bytes) catches a truncated or damaged
 * file: such a file reads as `corrupt`, and the caller embeds afresh and overwrites it. Several
 * gateways share the folder: a write merges with what is on disk under the file lock (jsonFile.ts) and
 * replaces the file through a rename, so no reader sees half of one and no writer drops another's work.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { dirname, join } from 'node:path';
import { withFileLock, writeFileAtomic } from './jsonFile.js';

const MAGIC = 'AMCPVEC1';
const HEADER_BYTES = 40;
/** Tool hashes are 16 hex characters (catalog/hash.ts): 8 bytes each in the index. */
const HASH_BYTES = 8;
/** The file is little-endian; on such a host (nearly every one) floats are copied as bytes. */
const LITTLE_ENDIAN = endianness() === 'LE';
/** Most vectors one file keeps; the current catalog's always stay, others fill up to this. */
export const MAX_VECTORS = 100_000;

/** Vectors by tool definition hash, all of one dimension. */
export interface VectorTable {
  dimension: number;
  vectors: Map<string, Float32Array>;
}

/** What reading gave: the table, nothing (no file yet), or a file that must be rebuilt. */
export type VectorRead = { kind: 'ok'; table: VectorTable } | { kind: 'missing' } | { kind: 'corrupt'; reason: string };

/** The file of one vector space. */
export function vectorFilePath(stateDir: string, space: string): string {
  return join(stateDir, 'vectors', `${space}.bin`);
}

/** Reads the vector file of `space`. */
export async function readVectorFile(file: string, space: string): Promise<VectorRead> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'corrupt', reason: (error as Error).message };
  }
  return decodeVectors(bytes, space);
}

/** Decodes a vector file's bytes (see the layout above). */
export function decodeVectors(bytes: Buffer, space: string): VectorRead {
  const corrupt = (reason: string): VectorRead => ({ kind: 'corrupt', reason });
  if (bytes.length < HEADER_BYTES || bytes.toString('latin1', 0, 8) !== MAGIC) return corrupt('not a vector file');
  const dimension = bytes.readUInt32LE(8);
  const count = bytes.readUInt32LE(12);
  if (bytes.toString('latin1', 24, 40) !== space) return corrupt('the file belongs to another vector space');
  const expected = HEADER_BYTES + count * HASH_BYTES + count * dimension * 4;
  if (dimension === 0 || bytes.length !== expected) return corrupt(`expected ${expected} bytes, found ${bytes.length}`);
  if (!checksum(bytes.subarray(HEADER_BYTES)).equals(bytes.subarray(16, 24))) return corrupt('checksum mismatch');
  // Copied out of the (possibly unaligned, pooled) buffer once, so each vector is a view of one block.
  const start = HEADER_BYTES + count * HASH_BYTES;
  const values = new Float32Array(count * dimension);
  if (LITTLE_ENDIAN) new Uint8Array(values.buffer).set(bytes.subarray(start));
  else for (let i = 0; i < values.length; i++) values[i] = bytes.readFloatLE(start + i * 4);
  const vectors = new Map<string, Float32Array>();
  for (let i = 0; i < count; i++) {
    const hash = bytes.toString('hex', HEADER_BYTES + i * HASH_BYTES, HEADER_BYTES + (i + 1) * HASH_BYTES);
    vectors.set(hash, values.subarray(i * dimension, (i + 1) * dimension));
  }
  return { kind: 'ok', table: { dimension, vectors } };
}

/** Encodes a table (see the layout above). */
export function encodeVectors(table: VectorTable, space: string): Buffer {
  const entries = [...table.vectors].filter(([hash, vector]) => /^[0-9a-f]{16}$/.test(hash) && vector.length === table.dimension);
  const count = entries.length;
  const bytes = Buffer.alloc(HEADER_BYTES + count * HASH_BYTES + count * table.dimension * 4);
  bytes.write(MAGIC, 0, 'latin1');
  bytes.writeUInt32LE(table.dimension, 8);
  bytes.writeUInt32LE(count, 12);
  bytes.write(space.padEnd(16, '0').slice(0, 16), 24, 'latin1');
  let at = HEADER_BYTES;
  for (const [hash] of entries) at += bytes.write(hash, at, 'hex');
  for (const [, vector] of entries) {
    if (LITTLE_ENDIAN) {
      bytes.set(new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength), at);
      at += vector.byteLength;
    } else for (const value of vector) at = bytes.writeFloatLE(value, at);
  }
  checksum(bytes.subarray(HEADER_BYTES)).copy(bytes, 16);
  return bytes;
}

/**
 * Adds `fresh` to the file of `space` and writes it back atomically, under the file's lock: vectors
 * another gateway wrote meanwhile are kept (unless their dimension differs: the model changed under
 * the same name, and the newest wins). `keep` (the current catalog's hashes) never falls to the cap.
 * A corrupt file is replaced. Resolves with the number of vectors written.
 */
export async function mergeVectorFile({
  file,
  space,
  fresh,
  keep,
  max = MAX_VECTORS,
}: {
  file: string;
  space: string;
  fresh: VectorTable;
  keep: ReadonlySet<string>;
  max?: number;
}): Promise<number> {
  await mkdir(dirname(file), { recursive: true });
  return withFileLock(file, async () => {
    const onDisk = await readVectorFile(file, space);
    const merged = new Map<string, Float32Array>();
    const others: [string, Float32Array][] = [];
    const take = (hash: string, vector: Float32Array) => {
      if (keep.has(hash)) merged.set(hash, vector);
      else others.push([hash, vector]);
    };
    for (const [hash, vector] of fresh.vectors) take(hash, vector);
    if (onDisk.kind === 'ok' && onDisk.table.dimension === fresh.dimension) {
      for (const [hash, vector] of onDisk.table.vectors) if (!fresh.vectors.has(hash)) take(hash, vector);
    }
    for (const [hash, vector] of others) {
      if (merged.size >= max) break;
      merged.set(hash, vector);
    }
    const bytes = encodeVectors({ dimension: fresh.dimension, vectors: merged }, space);
    await writeFileAtomic(file, bytes);
    return merged.size;
  });
}

function checksum(bytes: Buffer): Buffer {
  return createHash('sha256').update(bytes).digest().subarray(0, 8);
}
