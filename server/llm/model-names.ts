/**
 * Ollama model names as Ollama itself reads them: `[scheme://][host/][namespace/]model[:tag][@digest]`,
 * with the host defaulting to `registry.ollama.ai`, the namespace to `library` and the tag to
 * `latest`, compared without regard to case. So `tiny-stop`, `tiny-stop:latest`, `Tiny-Stop` and
 * `registry.ollama.ai/library/tiny-stop:latest` are one model; `tiny-stop:q4` is another.
 */

const DEFAULT_HOST = 'registry.ollama.ai';
const DEFAULT_NAMESPACE = 'library';
const DEFAULT_TAG = 'latest';

/**
 * The shortest name Ollama would show for `name` (default host and namespace left out, the tag
 * always present), lower-cased: equal for exactly the names Ollama treats as one model.
 */
export function normalizeOllamaModel(name: string): string {
  let rest = name.trim().toLowerCase().replace(/^https?:\/\//, '');
  let digest = '';
  const at = rest.lastIndexOf('@');
  if (at >= 0) {
    digest = rest.slice(at);
    rest = rest.slice(0, at);
  }
  let tag = DEFAULT_TAG;
  // A colon before the last slash belongs to a host's port, not to a tag.
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1) || DEFAULT_TAG;
    rest = rest.slice(0, colon);
  }
  const parts = rest.split('/');
  const model = parts.pop() ?? '';
  const namespace = parts.pop() ?? DEFAULT_NAMESPACE;
  const host = parts.join('/') || DEFAULT_HOST;
  const path = host === DEFAULT_HOST ? (namespace === DEFAULT_NAMESPACE ? model : `${namespace}/${model}`) : `${host}/${namespace}/${model}`;
  return `${path}:${tag}${digest}`;
}

export function sameOllamaModel(a: string, b: string): boolean {
  return a === b || normalizeOllamaModel(a) === normalizeOllamaModel(b);
}
