import { z } from 'zod';
import type { SessionUser } from '../auth/session';
import { NotFoundError, ValidationError } from '../errors';
import type { Prisma, PrismaClient } from '../generated/prisma/client';
import type { UsageKind } from '../generated/prisma/enums';
import { budgetWindow, describePeriod } from './admission';
import type { TeamService } from './teams';
import { tokensUsedSince, utcDay } from './usage-ledger';

/**
 * Reading usage: tokens, cost, requests and jobs per UTC day, from the UsageDay rows the ledger
 * keeps (server/services/usage-ledger.ts). A user reads their own usage in the teams they are in;
 * a team's owner reads the whole team's. Both rules are in the query's `where`.
 */

export const USAGE_GROUPS = ['model', 'apiKey', 'kind', 'user'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];
/** The longest range one read covers. */
const MAX_DAYS = 366;
const DAY_MS = 86_400_000;

const day = z
  .string({ error: 'Give days as YYYY-MM-DD.' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'Give days as YYYY-MM-DD.')
  .refine((value) => !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && utcDay(new Date(`${value}T00:00:00Z`)) === value, 'That day does not exist.');

export const usageInput = z
  .object({
    /** A team the caller owns: the whole team's usage. Absent: the caller's own, across their teams. */
    teamId: z.uuid().optional(),
    /** UTC days, both included; default: the `days` days up to today. */
    from: day.optional(),
    to: day.optional(),
    days: z.number().int().min(1, 'Ask for at least one day.').max(MAX_DAYS, `Ask for at most ${MAX_DAYS} days.`).optional(),
    groupBy: z.enum(USAGE_GROUPS, { error: `Group by ${USAGE_GROUPS.join(', ')}.` }).default('model'),
  })
  .superRefine((input, ctx) => {
    if (input.days !== undefined && (input.from !== undefined || input.to !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['days'], message: 'Give either days or from/to, not both.' });
    }
  });
export type UsageQuery = z.output<typeof usageInput>;

export interface UsageTotals {
  promptTokens: number;
  completionTokens: number;
  tokens: number;
  costUsd: number;
  requests: number;
  jobs: number;
}

const KIND_LABELS: Record<UsageKind, string> = { generation: 'Generation', review: 'Review', chat: 'API chat' };
const GROUP_COLUMN = { model: 'model', apiKey: 'apiKeyId', kind: 'kind', user: 'userId' } as const satisfies Record<UsageGroup, keyof Prisma.UsageDayGroupByOutputType>;

/** The inclusive day range a read covers, checked. */
export function usageRange(input: Pick<UsageQuery, 'from' | 'to' | 'days'>, now: Date): { from: string; to: string; days: string[] } {
  const to = input.to ?? utcDay(now);
  const from = input.from ?? utcDay(new Date(Date.parse(`${to}T00:00:00Z`) - ((input.days ?? 30) - 1) * DAY_MS));
  const start = Date.parse(`${from}T00:00:00Z`);
  const count = (Date.parse(`${to}T00:00:00Z`) - start) / DAY_MS + 1;
  if (count < 1) throw new ValidationError('The range ends before it starts.', 'from');
  if (count > MAX_DAYS) throw new ValidationError(`Ask for at most ${MAX_DAYS} days.`, 'from');
  return { from, to, days: Array.from({ length: count }, (_, i) => utcDay(new Date(start + i * DAY_MS))) };
}

const totalsOf = (sum: { promptTokens: bigint | null; completionTokens: bigint | null; costUsd: number | null; requests: number | null; jobs: number | null }): UsageTotals => {
  const promptTokens = Number(sum.promptTokens ?? 0);
  const completionTokens = Number(sum.completionTokens ?? 0);
  return { promptTokens, completionTokens, tokens: promptTokens + completionTokens, costUsd: sum.costUsd ?? 0, requests: sum.requests ?? 0, jobs: sum.jobs ?? 0 };
};

export function createUsageService({ prisma, teams, now = () => new Date() }: { prisma: PrismaClient; teams: TeamService; now?: () => Date }) {
  /** Whose rows a read covers: the team's (its owner asking) or the caller's own in their teams. */
  async function scope(user: SessionUser, teamId: string | undefined): Promise<Prisma.UsageDayWhereInput> {
    if (!teamId) return { userId: user.id, team: { memberships: { some: { userId: user.id } } } };
    await teams.requireOwner(user.id, teamId, 'see the team’s usage');
    return { teamId, team: { memberships: { some: { userId: user.id, role: 'owner' } } } };
  }

  /** What each group key is called: key names (the web, or a key deleted since), people, kinds. */
  async function labels(groupBy: UsageGroup, keys: string[], where: Prisma.UsageDayWhereInput): Promise<Map<string, string>> {
    if (groupBy === 'model') return new Map(keys.map((key) => [key, key]));
    if (groupBy === 'kind') return new Map(keys.map((key) => [key, KIND_LABELS[key as UsageKind]]));
    if (groupBy === 'user') {
      const users = await prisma.user.findMany({ where: { id: { in: keys }, usageDays: { some: where } }, select: { id: true, name: true } });
      return new Map(users.map((u) => [u.id, u.name]));
    }
    const ids = keys.filter(Boolean);
    const found = await prisma.apiKey.findMany({ where: { id: { in: ids }, team: { usageDays: { some: where } } }, select: { id: true, name: true } });
    const names = new Map(found.map((k) => [k.id, k.name]));
    return new Map(keys.map((key) => [key, key === '' ? 'Web' : (names.get(key) ?? 'A deleted key')]));
  }

  return {
    /**
     * Usage per day and group over a range: `rows` (one per day and group that has any), `groups`
     * (each group's totals, largest first) and the range's `totals`.
     */
    async get(user: SessionUser, input: UsageQuery) {
      const range = usageRange(input, now());
      const where: Prisma.UsageDayWhereInput = {
        ...(await scope(user, input.teamId)),
        day: { gte: new Date(`${range.from}T00:00:00Z`), lte: new Date(`${range.to}T00:00:00Z`) },
      };
      const column = GROUP_COLUMN[input.groupBy];
      const _sum = { promptTokens: true, completionTokens: true, costUsd: true, requests: true, jobs: true } as const;
      const grouped = await prisma.usageDay.groupBy({ by: ['day', column], where, _sum, orderBy: [{ day: 'asc' }] });
      const rows = grouped
        .map((g) => ({ day: utcDay(g.day), key: String(g[column]), ...totalsOf(g._sum) }))
        .sort((a, b) => a.day.localeCompare(b.day) || a.key.localeCompare(b.key));
      const names = await labels(input.groupBy, [...new Set(rows.map((r) => r.key))], where);
      const groups = new Map<string, UsageTotals & { key: string; label: string }>();
      const totals: UsageTotals = { promptTokens: 0, completionTokens: 0, tokens: 0, costUsd: 0, requests: 0, jobs: 0 };
      for (const r of rows) {
        const group = groups.get(r.key) ?? { key: r.key, label: names.get(r.key) ?? r.key, promptTokens: 0, completionTokens: 0, tokens: 0, costUsd: 0, requests: 0, jobs: 0 };
        for (const field of ['promptTokens', 'completionTokens', 'tokens', 'costUsd', 'requests', 'jobs'] as const) {
          group[field] += r[field];
          totals[field] += r[field];
        }
        groups.set(r.key, group);
      }
      return {
        teamId: input.teamId ?? null,
        groupBy: input.groupBy,
        ...range,
        groups: [...groups.values()].sort((a, b) => b.tokens - a.tokens || a.label.localeCompare(b.label)),
        rows,
        totals,
      };
    },

    /** A team's token budget in the current period, for its members: null when unlimited. */
    async budget(user: SessionUser, teamId: string) {
      const team = await prisma.team.findFirst({
        where: { id: teamId, memberships: { some: { userId: user.id } } },
        select: { tier: { select: { name: true, tokenBudget: true, budgetPeriodSeconds: true } } },
      });
      if (!team) throw new NotFoundError('team');
      const { tokenBudget, budgetPeriodSeconds, name } = team.tier;
      if (tokenBudget === 0) return null;
      const window = budgetWindow(budgetPeriodSeconds, now().getTime());
      const used = await tokensUsedSince(prisma, teamId, window.start);
      return { tier: name, limit: tokenBudget, used, left: Math.max(0, tokenBudget - used), period: describePeriod(budgetPeriodSeconds), resetsAt: window.end };
    },
  };
}

export type UsageService = ReturnType<typeof createUsageService>;

/** usage.get's input from a query string (the usage page's URL, the CSV export's): checked by usageInput. */
export function usageParams(search: URLSearchParams): Record<string, unknown> {
  const text = (name: string) => search.get(name) || undefined;
  const days = text('days');
  return { teamId: text('teamId'), from: text('from'), to: text('to'), days: days === undefined ? undefined : Number(days), groupBy: text('groupBy') };
}

const GROUP_HEADINGS: Record<UsageGroup, string> = { model: 'model', apiKey: 'api_key', kind: 'kind', user: 'user' };

/**
 * A CSV field: quoted when it holds a comma, quote or line break; a text starting like a formula
 * (=, +, -, @, tab) is prefixed with a quote, so a spreadsheet shows a key's name and never runs it.
 */
function csvField(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** One line per day and group, as usage.get read them. */
export function usageCsv(usage: Awaited<ReturnType<UsageService['get']>>): string {
  const labels = new Map(usage.groups.map((g) => [g.key, g.label]));
  const header = ['day', GROUP_HEADINGS[usage.groupBy], 'prompt_tokens', 'completion_tokens', 'tokens', 'cost_usd', 'requests', 'jobs'];
  const lines = usage.rows.map((r) =>
    [r.day, labels.get(r.key) ?? r.key, r.promptTokens, r.completionTokens, r.tokens, Number(r.costUsd.toFixed(6)), r.requests, r.jobs].map(csvField).join(','),
  );
  return [header.join(','), ...lines].join('\r\n') + '\r\n';
}
