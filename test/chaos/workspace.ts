import { execFileSync } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

// Real git repositories under a temporary WORKSPACE_ROOT, one per task or workflow step, whose
// test command (`.orchestrator.json` testCommand, as run-tests reads it) appends "start" to the
// repository's runs.log, works for a moment, then appends "done". Side effects are counted from
// these files alone, never from the product's events. One repository is made with git and
// copied for the others: a copy of a repository is a repository, and ~1,000 `git init`s would
// cost minutes on a loaded machine.
//
// Deploy tasks and steps get a Salesforce DX project instead (sfdx-project.json, one Apex class
// named after the repository), deployed by the `sf` stand-in to an "org" kept in `<root>/.org`.
// Deploys are counted from the org's own record: `deploys.jsonl` (one line per deploy started)
// and the job file it keeps per deploy, whose components name the repository it came from.

export const MARKER_FILE = 'runs.log';

export interface Runs {
  /** Runs that began (each appends "start <pid> <repo>"). */
  readonly started: number;
  /** Runs that finished (each appends "done <pid> <repo>"): the side effect that must happen exactly once. */
  readonly done: number;
}

/** One deploy the org started (a line of its deploys.jsonl), with the components of its job. */
export interface OrgDeploy {
  readonly id: string;
  readonly checkOnly: boolean;
  readonly time: string;
  /** Component names of the job (from the org's `<id>.json`); empty when the job file is unreadable. */
  readonly components: readonly string[];
}

export interface ChaosWorkspace {
  readonly root: string;
  /** SF_STANDIN_ORG_DIR: the stand-in org's record. */
  readonly orgDir: string;
  makeRepository(name: string): Promise<void>;
  /** A Salesforce DX project whose one Apex class is `deployComponent(name)`. */
  makeSalesforceProject(name: string): Promise<void>;
  runs(name: string): Promise<Runs>;
  /** Every deploy the org started, in order, as its own record has it. */
  orgDeploys(): Promise<OrgDeploy[]>;
}

/** The Apex class of repository `repo`'s project: how an org deploy names the repository it came from. */
export const deployComponent = (repo: string): string => `Chaos_${repo.replace(/[^A-Za-z0-9]/g, '_')}`;

export async function createWorkspace(options: { stepMs: number; parent?: string }): Promise<ChaosWorkspace> {
  const root = await mkdtemp(path.join(options.parent ?? tmpdir(), 'orch-chaos-ws-'));
  const template = path.join(root, '.template');
  await mkdir(template, { recursive: true });
  const seconds = (options.stepMs / 1000).toFixed(3);
  await writeFile(
    path.join(template, 'mark.sh'),
    [
      '#!/bin/sh',
      '# One line per run, appended by the run itself: what the harness counts side effects from.',
      'repo=$(basename "$PWD")',
      `echo "start $$ $repo" >> ${MARKER_FILE}`,
      `sleep ${seconds}`,
      `echo "done $$ $repo" >> ${MARKER_FILE}`,
      'echo "# pass 1"',
      '',
    ].join('\n'),
  );
  await writeFile(path.join(template, '.orchestrator.json'), JSON.stringify({ testCommand: ['/bin/sh', 'mark.sh'] }));
  await writeFile(path.join(template, '.gitignore'), `${MARKER_FILE}\n`);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: template, stdio: 'ignore' });
  git('init', '-q');
  git('add', '.');
  git('-c', 'user.name=chaos', '-c', 'user.email=chaos@example.invalid', 'commit', '-qm', 'init');
  const orgDir = path.join(root, '.org');
  await mkdir(orgDir, { recursive: true });
  return {
    root,
    orgDir,
    makeRepository: (name) => cp(template, path.join(root, name), { recursive: true }),
    async makeSalesforceProject(name) {
      const classes = path.join(root, name, 'force-app', 'main', 'default', 'classes');
      await mkdir(classes, { recursive: true });
      await writeFile(path.join(root, name, 'sfdx-project.json'), JSON.stringify({ packageDirectories: [{ path: 'force-app', default: true }] }));
      const cls = deployComponent(name);
      await writeFile(path.join(classes, `${cls}.cls`), `public class ${cls} {}\n`);
      await writeFile(path.join(classes, `${cls}.cls-meta.xml`), '<ApexClass/>\n');
    },
    async runs(name) {
      const text = await readFile(path.join(root, name, MARKER_FILE), 'utf8').catch(() => '');
      return { started: (text.match(/^start /gm) ?? []).length, done: (text.match(/^done /gm) ?? []).length };
    },
    async orgDeploys() {
      const text = await readFile(path.join(orgDir, 'deploys.jsonl'), 'utf8').catch(() => '');
      const lines = text.split('\n').filter((line) => line.trim() !== '');
      return Promise.all(
        lines.map(async (line) => {
          const entry = JSON.parse(line) as { id: string; checkOnly: boolean; time: string };
          const job = await readFile(path.join(orgDir, `${entry.id}.json`), 'utf8').then(
            (t) => JSON.parse(t) as { final?: { result?: { details?: { componentSuccesses?: { fullName?: string }[]; componentFailures?: unknown } } } },
            () => undefined,
          );
          const details = job?.final?.result?.details;
          const failures =
            details?.componentFailures === undefined ? [] : ([] as { fullName?: string }[]).concat(details.componentFailures as { fullName?: string });
          const components = [...(details?.componentSuccesses ?? []), ...failures].flatMap((c) => (typeof c.fullName === 'string' ? [c.fullName] : []));
          return { id: entry.id, checkOnly: entry.checkOnly, time: entry.time, components };
        }),
      );
    },
  };
}
