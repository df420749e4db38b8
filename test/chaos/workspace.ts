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

export const MARKER_FILE = 'runs.log';

export interface Runs {
  /** Runs that began (each appends "start <pid> <repo>"). */
  readonly started: number;
  /** Runs that finished (each appends "done <pid> <repo>"): the side effect that must happen exactly once. */
  readonly done: number;
}

export interface ChaosWorkspace {
  readonly root: string;
  makeRepository(name: string): Promise<void>;
  runs(name: string): Promise<Runs>;
}

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
  return {
    root,
    makeRepository: (name) => cp(template, path.join(root, name), { recursive: true }),
    async runs(name) {
      const text = await readFile(path.join(root, name, MARKER_FILE), 'utf8').catch(() => '');
      return { started: (text.match(/^start /gm) ?? []).length, done: (text.match(/^done /gm) ?? []).length };
    },
  };
}
