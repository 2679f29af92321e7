/**
 * Binary model formats, little-endian:
 *
 *   "AIM" + format byte | u32 header length | JSON header | zero padding to a multiple of 4 |
 *   hashes u32[F] | idf f32[F] | scales f32[C] | biases f32[C] | weights
 *
 * weights, format 2 (dense): i16[(F+D+S)*C], column-major;
 * weights, format 3 (sparse): start u32[F+D+S+1] | classes u16[N] | values i16[N].
 *
 * (D and S = dense word-vector and sentence-vector columns, 0 for languages without them;
 * N = nonzero weights, see weights.ts.) A model is written in whichever is smaller: dense for
 * small workspaces, where most weights are nonzero and an index per weight would double the
 * size; sparse for big ones, where most are zero. The header names the algorithm, and a sparse
 * model names SPARSE_ALGORITHM_VERSION (see there why).
 *
 * The arrays load with one copy each (no parsing), so a worker can load a model per request
 * if it has to. A model made by another algorithm computes different features, so loading it
 * is refused rather than silently wrong.
 */
import { endianness } from 'node:os';
import { AppError } from '../../errors/index.ts';
import { ALGORITHM_VERSION, IntentModel, SPARSE_ALGORITHM_VERSION, type Calibration } from './model.ts';
import { fromDense, toDense, type SparseWeights } from './weights.ts';

const MAGIC = 'AIM';
const SPARSE_FORMAT = 3;
const DENSE_FORMAT = 2;

interface Header {
  algorithm: string;
  language: string;
  intents: string[];
  features: number;
  wordColumns: number;
  classColumns: number;
  denseDims: number;
  sentenceDims: number;
  calibration: Calibration;
  /** Format 3: how many nonzero weights. */
  nonzero?: number;
}

if (endianness() !== 'LE') throw new Error('the intent model format assumes a little-endian CPU');

export function serializeModel(model: IntentModel): Buffer {
  const s = model.state;
  const classes = s.intents.length;
  const columns = s.weights.start.length - 1;
  const nonzero = s.weights.values.length;
  const sparse = 4 * (columns + 1) + 4 * nonzero < 2 * columns * classes;
  const header: Header = {
    algorithm: sparse ? SPARSE_ALGORITHM_VERSION : ALGORITHM_VERSION, language: s.language, intents: s.intents,
    features: s.vectorizer.hashes.length, wordColumns: s.vectorizer.wordColumns, classColumns: s.vectorizer.classColumns, denseDims: s.vectorizer.denseDims, sentenceDims: s.vectorizer.sentenceDims, calibration: s.calibration,
    ...(sparse ? { nonzero } : {}),
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headEnd = align4(8 + json.length);
  const prefix = Buffer.alloc(headEnd);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt8(sparse ? SPARSE_FORMAT : DENSE_FORMAT, 3);
  prefix.writeUInt32LE(json.length, 4);
  json.copy(prefix, 8);
  const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const weights = sparse ? [bytes(s.weights.start), bytes(s.weights.classes), bytes(s.weights.values)] : [bytes(toDense(s.weights, classes))];
  return Buffer.concat([prefix, bytes(s.vectorizer.hashes), bytes(s.vectorizer.idf), bytes(s.scales), bytes(s.biases), ...weights]);
}

/** The algorithm a serialized model names (what the models table records beside it). */
export function storedAlgorithm(buf: Buffer): string {
  return readHeader(buf).header.algorithm;
}

function readHeader(buf: Buffer): { format: number; header: Header; end: number } {
  if (buf.length < 8 || buf.toString('latin1', 0, 3) !== MAGIC) {
    throw new AppError('MODEL_CORRUPT', 'The stored intent model is not in the model format.', { hint: 'Retrain the workspace.' });
  }
  const format = buf.readUInt8(3);
  if (format !== SPARSE_FORMAT && format !== DENSE_FORMAT) {
    throw new AppError('MODEL_STALE', `The stored intent model has format ${format}; this version reads formats ${DENSE_FORMAT} and ${SPARSE_FORMAT}.`, { hint: 'Retrain the workspace.' });
  }
  const jsonLength = buf.readUInt32LE(4);
  return { format, header: JSON.parse(buf.toString('utf8', 8, 8 + jsonLength)) as Header, end: 8 + jsonLength };
}

export function deserializeModel(buf: Buffer): IntentModel {
  const { format, header, end } = readHeader(buf);
  if (header.algorithm !== ALGORITHM_VERSION && header.algorithm !== SPARSE_ALGORITHM_VERSION) {
    throw new AppError('MODEL_STALE', `The stored intent model was trained by algorithm ${header.algorithm}; this version runs ${ALGORITHM_VERSION}.`, {
      hint: 'Retrain the workspace (astore retrain-all retrains every stale workspace).',
    });
  }
  const f = header.features;
  const c = header.intents.length;
  let at = align4(end);
  const take = (n: number) => {
    if (at + n > buf.length) throw new AppError('MODEL_CORRUPT', 'The stored intent model is truncated.', { hint: 'Retrain the workspace.' });
    // Copy into a fresh, aligned ArrayBuffer: the input may be a slice at any offset.
    const out = new Uint8Array(n);
    buf.copy(out, 0, at, at + n);
    at += n;
    return out.buffer;
  };
  const hashes = new Uint32Array(take(4 * f));
  const idf = new Float32Array(take(4 * f));
  const scales = new Float32Array(take(4 * c));
  const biases = new Float32Array(take(4 * c));
  const columns = f + header.denseDims + header.sentenceDims;
  let weights: SparseWeights;
  if (format === DENSE_FORMAT) {
    weights = fromDense(new Int16Array(take(2 * columns * c)), columns, c);
  } else {
    const start = new Uint32Array(take(4 * (columns + 1)));
    const n = header.nonzero ?? 0;
    weights = { start, classes: new Uint16Array(take(2 * n)), values: new Int16Array(take(2 * n)) };
    // Checked once here, so that scoring can index without bounds checks.
    if (start[0] !== 0 || start[columns] !== n || start.some((e, i) => i > 0 && e < start[i - 1]!) || weights.classes.some((k) => k >= c)) {
      throw new AppError('MODEL_CORRUPT', 'The stored intent model\'s weight table is inconsistent.', { hint: 'Retrain the workspace.' });
    }
  }
  return new IntentModel({
    language: header.language, intents: header.intents,
    vectorizer: { hashes, idf, wordColumns: header.wordColumns, classColumns: header.classColumns, denseDims: header.denseDims, sentenceDims: header.sentenceDims },
    weights, scales, biases, calibration: header.calibration,
  });
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
