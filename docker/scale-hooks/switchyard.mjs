// Shared by the scale hooks in this folder: reads the recommendation Switchyard writes on their
// stdin, and registers or drains instances through its API. Node only (the worker image has it).
//   node switchyard.mjs field <file> <name>   print a field of the recommendation in <file>
//   node switchyard.mjs register <url> <pool> register an Ollama instance (idempotent)
//   node switchyard.mjs drain <url>           drain one; prints "draining", "drained" or "unregistered"
// SWITCHYARD_URL (the web process, e.g. http://web:3000) and BACKEND_REGISTRATION_TOKEN come
// from the environment the worker runs the hook in.
import { readFileSync } from 'node:fs';

const [command, ...args] = process.argv.slice(2);

async function call(path, body) {
  const base = process.env.SWITCHYARD_URL;
  const token = process.env.BACKEND_REGISTRATION_TOKEN;
  if (!base || !token) throw new Error('SWITCHYARD_URL and BACKEND_REGISTRATION_TOKEN must be set');
  const response = await fetch(new URL(path, base), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${path}: ${response.status} ${answer.error ?? ''}`.trim());
  return answer;
}

try {
  if (command === 'field') {
    const value = JSON.parse(readFileSync(args[0], 'utf8'))[args[1]];
    process.stdout.write(`${value ?? ''}\n`);
  } else if (command === 'register') {
    const backend = await call('/api/backends/register', { url: args[0], pool: args[1] });
    process.stdout.write(`registered ${backend.name} (${backend.id})\n`);
  } else if (command === 'drain') {
    process.stdout.write(`${(await call('/api/backends/drain', { url: args[0] })).state}\n`);
  } else {
    throw new Error(`unknown command ${command ?? '(none)'}`);
  }
} catch (error) {
  process.stderr.write(`switchyard.mjs: ${error.message}\n`);
  process.exit(1);
}
