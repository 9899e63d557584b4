import type { JobProgressEvent } from '../../server/realtime/events';

type ShownProgress = Pick<JobProgressEvent, 'stage' | 'percent' | 'activity'> & Partial<Pick<JobProgressEvent, 'etaMs' | 'at' | 'tokensPerSecond'>>;

const STAGE_LABELS: Record<JobProgressEvent['stage'], string> = {
  validating: 'validating',
  waiting: 'waiting for a slot',
  generating: 'generating',
  reviewing: 'reviewing',
  saving: 'saving',
  done: 'done',
};

function timeLeft(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  return seconds < 90 ? `about ${seconds} s left` : `about ${Math.round(seconds / 60)} min left`;
}

/**
 * A running job's stage, percent, activity and ETA, on one line of fixed height: it is there from
 * the first paint (before anything is known) so the header never grows when progress arrives.
 */
export function JobProgressLine({ progress }: { progress: ShownProgress | null }) {
  if (!progress) {
    return (
      <p className="muted job-view-progress" data-testid="job-progress">
        <progress max={100} aria-label="Progress" />
        <span>starting…</span>
      </p>
    );
  }
  const { stage, percent, activity, etaMs, at, tokensPerSecond } = progress;
  const parts = [STAGE_LABELS[stage], `${percent} %`, activity, tokensPerSecond ? `${Math.round(tokensPerSecond)} tokens/s` : null, etaMs != null ? timeLeft(etaMs) : null];
  return (
    <p className="muted job-view-progress" data-testid="job-progress" data-stage={stage} data-at={at} data-eta-ms={etaMs ?? undefined}>
      <progress max={100} value={percent} aria-label="Progress" />
      <span>{parts.filter(Boolean).join(' · ')}</span>
    </p>
  );
}
