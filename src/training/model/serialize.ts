/**
 * Binary model format 3, little-endian:
 *
 *   "AIM" + format byte | u32 header length | JSON header | zero padding to a multiple of 4 |
 *   hashes u32[F] | idf f32[F] | scales f32[C] | biases f32[C] |
 *   start u32[F+D+S+1] | classes u16[N] | values i16[N]
 *
 * (D and S = dense word-vector and sentence-vector columns, 0 for languages without them;
 * N = nonzero weights, see weights.ts.) Format 2, still read, had dense weights i16[(F+D+S)*C]
 * after the biases: models stored by an older release keep working without retraining.
 *
 * The arrays load with one copy each (no parsing), so a worker can load a model per request
 * if it has to. The header carries ALGORITHM_VERSION: a model made by another algorithm
 * computes different features, so loading it is refused rather than silently wrong.
 */
import { endianness } from 'node:os';
import { AppError } from '../../errors/index.ts';
import { ALGORITHM_VERSION, IntentModel, type Calibration } from './model.ts';
import { fromDense, type SparseWeights } from './weights.ts';

const MAGIC = 'AIM';
const FORMAT = 3;
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
  const header: Header = {
    algorithm: ALGORITHM_VERSION, language: s.language, intents: s.intents,
    features: s.vectorizer.hashes.length, wordColumns: s.vectorizer.wordColumns, classColumns: s.vectorizer.classColumns, denseDims: s.vectorizer.denseDims, sentenceDims: s.vectorizer.sentenceDims, calibration: s.calibration, nonzero: s.weights.values.length,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headEnd = align4(8 + json.length);
  const prefix = Buffer.alloc(headEnd);
  prefix.write(MAGIC, 0, 'latin1');
  prefix.writeUInt8(FORMAT, 3);
  prefix.writeUInt32LE(json.length, 4);
  json.copy(prefix, 8);
  const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  return Buffer.concat([prefix, bytes(s.vectorizer.hashes), bytes(s.vectorizer.idf), bytes(s.scales), bytes(s.biases),
    bytes(s.weights.start), bytes(s.weights.classes), bytes(s.weights.values)]);
}

export function deserializeModel(buf: Buffer): IntentModel {
  if (buf.length < 8 || buf.toString('latin1', 0, 3) !== MAGIC) {
    throw new AppError('MODEL_CORRUPT', 'The stored intent model is not in the model format.', { hint: 'Retrain the workspace.' });
  }
  const format = buf.readUInt8(3);
  if (format !== FORMAT && format !== DENSE_FORMAT) {
    throw new AppError('MODEL_STALE', `The stored intent model has format ${format}; this version reads formats ${DENSE_FORMAT} and ${FORMAT}.`, { hint: 'Retrain the workspace.' });
  }
  const jsonLength = buf.readUInt32LE(4);
  const header = JSON.parse(buf.toString('utf8', 8, 8 + jsonLength)) as Header;
  if (header.algorithm !== ALGORITHM_VERSION) {
    throw new AppError('MODEL_STALE', `The stored intent model was trained by algorithm ${header.algorithm}; this version runs ${ALGORITHM_VERSION}.`, {
      hint: 'Retrain the workspace (astore retrain-all retrains every stale workspace).',
    });
  }
  const f = header.features;
  const c = header.intents.length;
  let at = align4(8 + jsonLength);
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
