import fs from 'node:fs';
import path from 'node:path';

/**
 * A llama-architecture GGUF small enough to generate in the test (a few hundred KB) whose answer
 * is fixed: it says the same sentence whatever the prompt, the sampler settings or the seed, so a
 * resumed answer can be compared with an uninterrupted one, and the simulator with the real thing.
 *
 * How it answers: attention and MLP write nothing (their output projections are zero), so the
 * residual stream at the last position is just that token's embedding. Each token of the sentence
 * has an embedding axis of its own; the output head maps that axis to the next token of the
 * sentence. Every other token (bytes, specials, the template's newline) shares one "default" axis
 * that maps to the first token. The next token thus depends on the previous token only, which is
 * why the sentence's tokens must all differ. The winning logit is 64 (RMSNorm scales a unit axis
 * to 8, times 8) against 0 for every other token: at any temperature and with Ollama's default
 * repeat penalty, nothing else is ever sampled.
 */

export interface TinyModel {
  /** Registered under this name, tagged like a pulled model. */
  name: string;
  /** The file stem of the GGUF and its Modelfile. */
  file: string;
  /** The answer, one vocabulary piece per token; '▁' is SentencePiece's space. */
  pieces: string[];
  /** Ends with EOS (done_reason "stop"); otherwise repeats the sentence until num_predict. */
  stops: boolean;
  /** A default `num_predict` in the Modelfile, for callers that send none (the job path). */
  numPredict?: number;
}

export const tinyStop: TinyModel = {
  name: 'tiny-stop:latest',
  file: 'tiny-stop',
  pieces: ['Hello', '▁from', '▁the', '▁tiny', '▁model', '.'],
  stops: true,
};

/** Never stops; its trailing space piece separates the repetitions. */
export const tinyLoop: TinyModel = {
  name: 'tiny:latest',
  file: 'tiny',
  pieces: ['Tick', '▁tock', '▁goes', '▁the', '▁clock', '.', '▁'],
  stops: false,
};

export const tinyModels = [tinyStop, tinyLoop];

/** The text of the first `tokens` tokens of the model's answer (the whole sentence by default). */
export function answerOf(model: TinyModel, tokens = model.pieces.length): string {
  let text = '';
  for (let i = 0; i < tokens; i++) {
    if (model.stops && i >= model.pieces.length) break;
    text += model.pieces[i % model.pieces.length]!.replaceAll('▁', ' ');
  }
  return text;
}

/**
 * The prompt is every message's content, a newline after each non-assistant one. A chat that
 * ends with a user message thus ends with the newline byte (default axis: the sentence starts);
 * one that ends with a partial assistant answer ends with that answer's last token, so the model
 * continues it exactly as if it had never stopped.
 */
export const tinyTemplate = '{{- range .Messages }}{{ .Content }}{{ if ne .Role "assistant" }}\n{{ end }}{{ end }}';

/** Writes `<file>.gguf` and `<file>.Modelfile` into dir; returns the Modelfile's path. */
export function writeTinyModel(dir: string, model: TinyModel): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${model.file}.gguf`), buildGguf(model));
  const modelfile = path.join(dir, `${model.file}.Modelfile`);
  // One thread: a model this small gains nothing from two, and llama.cpp's threads spin at a
  // barrier per op, which on a busy machine costs a time slice each. Measured on two cores at
  // load 15: 3–6 tokens/s with the default two threads, 3,000–4,500 with one.
  const numPredict = model.numPredict ? `PARAMETER num_predict ${model.numPredict}\n` : '';
  fs.writeFileSync(modelfile, `FROM ./${model.file}.gguf\nTEMPLATE """${tinyTemplate}"""\nPARAMETER num_thread 1\n${numPredict}`);
  return modelfile;
}

const EMBED = 64;
const FFN = 128;
const HEADS = 4;
const LAYERS = 2;
const LOGIT_SCALE = 8;
const DEFAULT_AXIS = EMBED - 1;

// SentencePiece token types, as llama.cpp reads them.
const NORMAL = 1;
const UNKNOWN = 2;
const CONTROL = 3;
const BYTE = 6;

interface Vocab {
  tokens: string[];
  types: number[];
  scores: number[];
}

/**
 * <unk> <s> </s>, the 256 byte tokens (so any prompt tokenizes, by byte fallback), then the
 * sentence's pieces. llama.cpp's SentencePiece tokenizer builds a word by merging adjacent
 * symbols whose concatenation is in the vocabulary, so each piece brings its prefixes along
 * ("▁t", "▁ti", "▁tin" for "▁tiny"); otherwise a resumed answer would come back as bytes.
 */
function buildVocab(model: TinyModel): Vocab {
  const vocab: Vocab = { tokens: ['<unk>', '<s>', '</s>'], types: [UNKNOWN, CONTROL, CONTROL], scores: [0, 0, 0] };
  for (let b = 0; b < 256; b++) {
    vocab.tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    vocab.types.push(BYTE);
    vocab.scores.push(0);
  }
  for (const piece of model.pieces) {
    const chars = [...piece];
    for (let n = Math.min(2, chars.length); n <= chars.length; n++) {
      const prefix = chars.slice(0, n).join('');
      if (vocab.tokens.includes(prefix)) continue;
      vocab.tokens.push(prefix);
      vocab.types.push(NORMAL);
      vocab.scores.push([...prefix].length); // longer merges first
    }
  }
  return vocab;
}

function buildGguf(model: TinyModel): Buffer {
  const vocab = buildVocab(model);
  const ids = model.pieces.map((piece) => vocab.tokens.indexOf(piece));
  if (new Set(ids).size !== ids.length) throw new Error(`${model.name}: the sentence repeats a token, so the next token is ambiguous`);
  if (ids.length > DEFAULT_AXIS) throw new Error(`${model.name}: at most ${DEFAULT_AXIS} tokens`);
  const vocabSize = vocab.tokens.length;

  const embedding = new Float32Array(vocabSize * EMBED);
  for (let token = 0; token < vocabSize; token++) {
    const position = ids.indexOf(token);
    embedding[token * EMBED + (position >= 0 ? position : DEFAULT_AXIS)] = 1;
  }
  const output = new Float32Array(vocabSize * EMBED);
  const EOS = 2;
  ids.forEach((_, position) => {
    const next = position + 1 < ids.length ? ids[position + 1]! : model.stops ? EOS : ids[0]!;
    output[next * EMBED + position] = LOGIT_SCALE;
  });
  output[ids[0]! * EMBED + DEFAULT_AXIS] = LOGIT_SCALE;

  const ones = (n: number) => new Float32Array(n).fill(1);
  const zeros = (n: number) => new Float32Array(n);
  // ggml dimensions are innermost first: [columns, rows].
  const tensors: Tensor[] = [
    f16('token_embd.weight', [EMBED, vocabSize], embedding),
    f32('output_norm.weight', [EMBED], ones(EMBED)),
    f16('output.weight', [EMBED, vocabSize], output),
  ];
  for (let layer = 0; layer < LAYERS; layer++) {
    const blk = `blk.${layer}`;
    tensors.push(
      f32(`${blk}.attn_norm.weight`, [EMBED], ones(EMBED)),
      ...['attn_q', 'attn_k', 'attn_v', 'attn_output'].map((name) => f16(`${blk}.${name}.weight`, [EMBED, EMBED], zeros(EMBED * EMBED))),
      f32(`${blk}.ffn_norm.weight`, [EMBED], ones(EMBED)),
      f16(`${blk}.ffn_gate.weight`, [EMBED, FFN], zeros(EMBED * FFN)),
      f16(`${blk}.ffn_up.weight`, [EMBED, FFN], zeros(EMBED * FFN)),
      f16(`${blk}.ffn_down.weight`, [FFN, EMBED], zeros(EMBED * FFN)),
    );
  }

  const metadata: [string, Buffer][] = [
    ['general.architecture', str('llama')],
    ['general.name', str(model.file)],
    // 1 = mostly F16: what /api/show and /api/tags report as the quantization level.
    ['general.file_type', u32(1)],
    ['general.alignment', u32(ALIGNMENT)],
    ['llama.context_length', u32(4096)],
    ['llama.embedding_length', u32(EMBED)],
    ['llama.block_count', u32(LAYERS)],
    ['llama.feed_forward_length', u32(FFN)],
    ['llama.attention.head_count', u32(HEADS)],
    ['llama.attention.head_count_kv', u32(HEADS)],
    ['llama.attention.layer_norm_rms_epsilon', f32Value(1e-5)],
    ['llama.rope.dimension_count', u32(EMBED / HEADS)],
    ['llama.rope.freq_base', f32Value(10000)],
    ['llama.vocab_size', u32(vocabSize)],
    ['tokenizer.ggml.model', str('llama')],
    ['tokenizer.ggml.tokens', array(TYPE.string, vocab.tokens.map((t) => string(t)))],
    ['tokenizer.ggml.scores', array(TYPE.f32, vocab.scores.map(f32Raw))],
    ['tokenizer.ggml.token_type', array(TYPE.i32, vocab.types.map(i32Raw))],
    ['tokenizer.ggml.unknown_token_id', u32(0)],
    ['tokenizer.ggml.bos_token_id', u32(1)],
    ['tokenizer.ggml.eos_token_id', u32(EOS)],
    ['tokenizer.ggml.add_bos_token', bool(true)],
    ['tokenizer.ggml.add_eos_token', bool(false)],
    // Off, so that the answer's first word has no leading space and a chat's prompt tokenizes the
    // same wherever it is cut.
    ['tokenizer.ggml.add_space_prefix', bool(false)],
  ];

  const parts: Buffer[] = [Buffer.from('GGUF', 'latin1'), u32Raw(3), u64Raw(tensors.length), u64Raw(metadata.length)];
  for (const [key, value] of metadata) parts.push(string(key), value);
  let offset = 0;
  for (const tensor of tensors) {
    parts.push(string(tensor.name), u32Raw(tensor.dims.length), ...tensor.dims.map(u64Raw), u32Raw(tensor.type), u64Raw(offset));
    offset = align(offset + tensor.data.length);
  }
  const header = Buffer.concat(parts);
  const data = Buffer.alloc(offset);
  offset = 0;
  for (const tensor of tensors) {
    tensor.data.copy(data, offset);
    offset = align(offset + tensor.data.length);
  }
  return Buffer.concat([header, Buffer.alloc(align(header.length) - header.length), data]);
}

const ALIGNMENT = 32;
const align = (n: number) => Math.ceil(n / ALIGNMENT) * ALIGNMENT;

interface Tensor {
  name: string;
  dims: number[];
  /** ggml type: 0 = F32, 1 = F16. */
  type: number;
  data: Buffer;
}

// Matrices in F16 like a real unquantized model; norm weights stay F32 as llama.cpp expects.
function f16(name: string, dims: number[], values: Float32Array): Tensor {
  const data = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => data.writeUInt16LE(half(v), i * 2));
  return { name, dims, type: 1, data };
}

function f32(name: string, dims: number[], values: Float32Array): Tensor {
  return { name, dims, type: 0, data: Buffer.from(values.buffer, values.byteOffset, values.byteLength) };
}

/** Half precision of a weight chosen to be exact in it (0, 1, 8): no rounding to get wrong. */
function half(value: number): number {
  if (value === 0) return 0;
  const sign = value < 0 ? 0x8000 : 0;
  const exponent = Math.floor(Math.log2(Math.abs(value)));
  const mantissa = (Math.abs(value) / 2 ** exponent - 1) * 1024;
  if (exponent < -14 || exponent > 15 || !Number.isInteger(mantissa)) throw new Error(`${value} is not exact in half precision`);
  return sign | ((exponent + 15) << 10) | mantissa;
}

// GGUF metadata value types.
const TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9 } as const;

function u32Raw(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}
function i32Raw(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
}
function f32Raw(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeFloatLE(n);
  return b;
}
function u64Raw(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
}
function string(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([u64Raw(bytes.length), bytes]);
}
const typed = (type: number, payload: Buffer) => Buffer.concat([u32Raw(type), payload]);
const u32 = (n: number) => typed(TYPE.u32, u32Raw(n));
const f32Value = (n: number) => typed(TYPE.f32, f32Raw(n));
const bool = (b: boolean) => typed(TYPE.bool, Buffer.from([b ? 1 : 0]));
const str = (s: string) => typed(TYPE.string, string(s));
const array = (type: number, items: Buffer[]) => typed(TYPE.array, Buffer.concat([u32Raw(type), u64Raw(items.length), ...items]));

// `tsx tests/ollama/tiny-model.ts <dir>`: writes the models' files, e.g. to try them by hand.
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const dir = process.argv[2] ?? '.';
  for (const model of tinyModels) console.log(writeTinyModel(dir, model));
}
