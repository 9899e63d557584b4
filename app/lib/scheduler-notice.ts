import type { SchedulerNotice } from '../../workflows/scheduler/api';

/** What an admin is told after a change, by whether the running scheduler took it. */
export function schedulerNoticeText(notice: SchedulerNotice): { text: string; ok: boolean } {
  switch (notice) {
    case 'updated':
      return { text: 'Saved; the scheduler applies it from now on.', ok: true };
    case 'not-running':
      return { text: 'Saved. No scheduler is running; it reads this when a worker starts it.', ok: true };
    case 'unreachable':
      return { text: 'Saved, but Temporal could not be reached: the running scheduler gets the change when a worker restarts.', ok: false };
  }
}
