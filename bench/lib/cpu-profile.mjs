// Preloaded with --import by `bench:overhead --profile DIR`: records a V8 CPU profile of the
// process and writes it to DIR when the process exits (NODE_OPTIONS may not carry --cpu-prof).
import fs from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

const dir = process.env.SWITCHYARD_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.start');
  process.on('exit', () => {
    // Posts on a same-thread session complete synchronously, so this runs inside 'exit'.
    session.post('Profiler.stop', (error, result) => {
      if (error) return;
      fs.mkdirSync(dir, { recursive: true });
      const name = `${path.basename(process.argv[1] ?? 'node', '.ts')}-${process.pid}.cpuprofile`;
      fs.writeFileSync(path.join(dir, name), JSON.stringify(result.profile));
    });
  });
}
