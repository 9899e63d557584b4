import type { SimModel } from './options';

/** What the simulator says about a model's files: family, size, digest (deterministic, from the name). */

function familyOf(name: string): string {
  const base = name.split(':')[0] ?? name;
  if (base.startsWith('qwen')) return 'qwen2';
  if (base.startsWith('llama') || base.startsWith('codellama')) return 'llama';
  return base.replace(/[^a-z0-9]+/gi, '').toLowerCase() || 'llama';
}


function parameterSize(name: string): string {
  const tag = /:(\d+(?:\.\d+)?)b\b/i.exec(name)?.[1];
  return tag ? `${tag}B` : '7B';
}

/** Bytes of the model's files; unless set, a Q4_K_M model's: roughly 0.6 bytes per parameter. */
export function fileSizeOf(model: Pick<SimModel, 'name' | 'sizeBytes'>): number {
  return model.sizeBytes ?? Math.round(Number.parseFloat(parameterSize(model.name)) * 0.6e9);
}

/** A loaded runner's memory: its weights plus KV cache and compute graph, about a fifth more. */
export function memorySizeOf(model: Pick<SimModel, 'name' | 'sizeBytes'>): number {
  return Math.round(fileSizeOf(model) * 1.2);
}

export function details(name: string) {
  const family = familyOf(name);
  return { parent_model: '', format: 'gguf', family, families: [family], parameter_size: parameterSize(name), quantization_level: 'Q4_K_M' };
}

export function digestOf(name: string): string {
  let hex = '';
  for (let i = 0; hex.length < 64; i++) hex += ((name.charCodeAt(i % name.length) * 2654435761 + i) >>> 0).toString(16).padStart(8, '0');
  return hex.slice(0, 64);
}
