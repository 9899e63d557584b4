import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createJobMetrics } from '../server/metrics/jobs.ts';
import { createProcessRegistry } from '../server/metrics/registry.ts';
import { createResourceGauges } from '../server/metrics/resources.ts';

// The monitoring files of docker/ (profile "monitoring") checked by parsing: every metric a rule or
// panel reads is one the code registers, and the scrape jobs reach the processes that serve them.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const compose = parse(read('docker/compose.yaml'), { merge: true }) as {
  services: Record<string, { volumes?: string[]; environment?: Record<string, string | number>; profiles?: string[] }>;
};
const prometheus = parse(read('docker/prometheus/prometheus.yml')) as {
  rule_files: string[];
  scrape_configs: Array<{ job_name: string; static_configs?: Array<{ targets: string[] }>; dns_sd_configs?: Array<{ names: string[]; port: number }> }>;
};
const alerts = parse(read('docker/prometheus/alerts.yml')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
const dashboard = JSON.parse(read('docker/grafana/dashboards/switchyard.json')) as {
  panels: Array<{ type: string; title: string; datasource?: { uid: string }; targets?: Array<{ expr: string }> }>;
};

/** What a web and a worker expose, as Prometheus names the series (histograms as _bucket, _sum, _count). */
function registeredSeries(): Set<string> {
  const worker = createJobMetrics(createProcessRegistry()).registry;
  const web = new Registry();
  createResourceGauges(web, { maxWaitingJobs: 15_000 });
  const names = new Set<string>(['up']);
  for (const metric of [...worker.getMetricsAsArray(), ...web.getMetricsAsArray()]) {
    names.add(metric.name);
    if (metric.type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(metric.name + suffix);
  }
  return names;
}

/** Metric names in a PromQL expression: identifiers not followed by `(`, outside label matchers and strings. */
function metricNames(expr: string): string[] {
  const bare = expr.replace(/\{[^}]*\}/g, '').replace(/"[^"]*"/g, '').replace(/\[[^\]]*\]/g, '');
  const keywords = new Set(['by', 'without', 'and', 'or', 'unless', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'le']);
  // Aggregations may put `by (…)` between their name and their argument.
  const aggregations = new Set(['sum', 'min', 'max', 'avg', 'count', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values']);
  return [...bare.matchAll(/\b([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((name) => !keywords.has(name) && !aggregations.has(name) && !/^\d/.test(name) && !/^(e|inf|nan)$/i.test(name))
    .filter((name, i, all) => all.indexOf(name) === i)
    // Label names inside by (...) / without (...) are not metrics.
    .filter((name) => !new RegExp(`\\b(by|without)\\s*\\([^)]*\\b${name}\\b`).test(bare));
}

const rules = alerts.groups.flatMap((group) => group.rules);
const panelQueries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));

describe('docker/prometheus and docker/grafana', () => {
  const known = registeredSeries();

  it('alert on what the code registers: backend down, queue wait, dead letters, scheduler stalled, workers gone', () => {
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining(['SwitchyardBackendDown', 'SwitchyardQueueWaitHigh', 'SwitchyardDeadLettersRising', 'SwitchyardSchedulerNotProgressing', 'SwitchyardWorkersGone']),
    );
    for (const rule of rules) {
      const names = metricNames(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names) expect(known, `${rule.alert} reads ${name}`).toContain(name);
    }
  });

  it('draw dashboard panels only from registered metrics, on the provisioned data source', () => {
    expect(panelQueries.length).toBeGreaterThan(10);
    for (const { panel, expr } of panelQueries) {
      for (const name of metricNames(expr)) expect(known, `panel "${panel}" reads ${name}`).toContain(name);
    }
    const datasource = parse(read('docker/grafana/provisioning/datasources/prometheus.yml')) as { datasources: Array<{ uid: string; url: string }> };
    const uids = new Set(datasource.datasources.map((d) => d.uid));
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) expect(uids, panel.title).toContain(panel.datasource?.uid);
    expect(datasource.datasources[0]!.url).toBe('http://prometheus:9090');
    // The panels the issue asks for, by what they read.
    const all = panelQueries.map((q) => q.expr).join('\n');
    for (const metric of ['switchyard_pool_queue_depth', 'switchyard_queue_wait_seconds_bucket', 'switchyard_pool_busy_slots', 'switchyard_jobs_total', 'switchyard_tokens_total', 'switchyard_team_tokens_total']) {
      expect(all).toContain(metric);
    }
  });

  it('scrape the web and every worker where they serve /metrics, and alert on those jobs', () => {
    const jobs = new Map(prometheus.scrape_configs.map((config) => [config.job_name, config]));
    expect(jobs.get('switchyard-web')?.static_configs?.[0]?.targets).toEqual(['web:3000']);
    const worker = jobs.get('switchyard-worker')?.dns_sd_configs?.[0];
    expect(worker?.names).toEqual(['worker']);
    expect(String(compose.services.worker!.environment?.WORKER_METRICS_PORT)).toBe(String(worker?.port));
    expect(compose.services.worker!.environment?.HOST).toBe('0.0.0.0');
    for (const rule of rules) for (const [, job] of rule.expr.matchAll(/job="([^"]+)"/g)) expect(jobs.has(job!), `${rule.alert}: job ${job}`).toBe(true);
  });

  it('are optional compose services mounting these files', () => {
    for (const name of ['prometheus', 'grafana']) expect(compose.services[name]!.profiles).toEqual(['monitoring']);
    const mounts = (name: string) => (compose.services[name]!.volumes ?? []).map((volume) => volume.split(':'));
    expect(mounts('prometheus')).toEqual(expect.arrayContaining([['./prometheus/prometheus.yml', '/etc/prometheus/prometheus.yml', 'ro'], ['./prometheus/alerts.yml', '/etc/prometheus/alerts.yml', 'ro']]));
    expect(prometheus.rule_files).toEqual(['alerts.yml']);
    const provider = parse(read('docker/grafana/provisioning/dashboards/switchyard.yml')) as { providers: Array<{ options: { path: string } }> };
    expect(mounts('grafana')).toEqual(
      expect.arrayContaining([['./grafana/provisioning', '/etc/grafana/provisioning', 'ro'], ['./grafana/dashboards', provider.providers[0]!.options.path, 'ro']]),
    );
  });

  // CI installs promtool from Debian's prometheus package (.ci/run).
  it('pass promtool check rules and check config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-prometheus-'));
    try {
      for (const file of ['prometheus.yml', 'alerts.yml']) copyFileSync(join(root, 'docker/prometheus', file), join(dir, file));
      writeFileSync(join(dir, 'metrics-token'), 'a-metrics-token-of-some-length\n');
      const run = (...args: string[]) => execFileSync('promtool', args, { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
      expect(run('check', 'rules', 'alerts.yml')).toContain(`SUCCESS: ${rules.length} rules found`);
      expect(run('check', 'config', 'prometheus.yml')).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
