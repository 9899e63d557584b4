// The supervisor's dead-man switch, in plain JavaScript so that it starts in milliseconds without tsx.
//
// The supervisor tells it, over stdin, which process groups it runs ("add <pgid> <signal> <leaderOnly>",
// "remove <pgid>") and "exit" when it has stopped them itself. If stdin closes without "exit", the
// supervisor died without cleaning up (SIGKILL, or tsx's signal relay force-killing a busy process):
// then this stops every group it knows (the stop signal, SIGKILL after a grace), so nothing is orphaned.
import fs from 'node:fs';

const groups = new Map();
let exitRequested = false;
let buffer = '';

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {});

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffer += chunk;
  let index;
  while ((index = buffer.indexOf('\n')) >= 0) {
    const [command, pgid, signal, leaderOnly] = buffer.slice(0, index).split(' ');
    buffer = buffer.slice(index + 1);
    if (command === 'add') groups.set(Number(pgid), { signal, leaderOnly: leaderOnly === '1' });
    else if (command === 'remove') groups.delete(Number(pgid));
    else if (command === 'exit') exitRequested = true;
  }
});
process.stdin.on('close', () => {
  if (exitRequested || groups.size === 0) process.exit(0);
  void reap();
});

async function reap() {
  for (const [pgid, { signal, leaderOnly }] of groups) send(leaderOnly ? pgid : -pgid, signal);
  const deadline = Date.now() + 8000;
  while (Date.now() < deadline && [...groups.keys()].some(alive)) await new Promise((r) => setTimeout(r, 100));
  for (const pgid of groups.keys()) if (alive(pgid)) send(-pgid, 'SIGKILL');
  process.exit(0);
}

function send(target, signal) {
  try {
    process.kill(target, signal);
  } catch {
    // gone already
  }
}

// Zombies do not count: once the supervisor is gone, an init that does not reap leaves them around.
function alive(pgid) {
  let entries = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    // not Linux
  }
  if (entries.length === 0) {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
    } catch {
      // exited meanwhile
    }
  }
  return false;
}
