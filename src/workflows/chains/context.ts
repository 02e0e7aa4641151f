/*
 * ctx.chain: where a job stands in its chain, and the steps it adds. Loaded by the worker's job
 * context (src/worker/job-context.ts) for a job that carries the chain header; it holds no
 * storage code: what a step adds is written when the step succeeds (settle-job.ts).
 */
import { ConfigError } from '../../errors.js';
import {
  parseChainHeader,
  storeStep,
  type AnyStep,
  type ChainRef,
  type StoredStep,
} from './stored-step.js';

/**
 * `ctx.chain` inside a step of a chain (and inside its catch job); undefined for any other job.
 */
export interface ChainContext {
  /** The chain's id (what chain().dispatch() returned). */
  readonly id: string;
  /** This step's index, from 0. In the catch job: the index of the step that failed. */
  readonly index: number;
  /** Steps in the chain, those this step added included. */
  readonly length: number;
  /**
   * Adds steps at the end of the chain. They are checked at once (schema, options: throws as
   * dispatch does) and written when this step succeeds; if it fails, they are dropped. A step
   * that runs again (after a crash) adds nothing twice: the first run that succeeded wins.
   */
  append(steps: AnyStep | AnyStep[]): void;
  /**
   * Adds steps to run next, right after this one, in the order given; a later prepend runs
   * before an earlier one. Checked and written as append's.
   */
  prepend(steps: AnyStep | AnyStep[]): void;
}

/** Steps a job added, in call order (settle-job.ts applies them). */
export interface ChainEdit {
  kind: 'append' | 'prepend';
  steps: Array<{ step: StoredStep; queueGiven: boolean }>;
}

/** ctx.chain of a job whose header is `header`; undefined when the header is not a chain's. */
export function chainContextOf(header: string): JobChain | undefined {
  const ref = parseChainHeader(header);
  return ref ? new JobChain(ref) : undefined;
}

/** The ChainContext of one run of a job. */
export class JobChain implements ChainContext {
  readonly id: string;
  readonly index: number;
  /** @internal What append/prepend gave, in order. */
  readonly edits: ChainEdit[] = [];
  private added = 0;

  constructor(private readonly ref: ChainRef) {
    this.id = ref.id;
    this.index = ref.index;
  }

  get length(): number {
    return this.ref.length + this.added;
  }

  append(steps: AnyStep | AnyStep[]): void {
    this.edit('append', steps);
  }

  prepend(steps: AnyStep | AnyStep[]): void {
    this.edit('prepend', steps);
  }

  private edit(kind: ChainEdit['kind'], given: AnyStep | AnyStep[]): void {
    if (this.ref.catch) {
      throw new ConfigError(
        `ctx.chain.${kind}() in the catch job of chain ${this.id}: the chain has stopped, so it cannot take more steps.`,
        { hint: 'Dispatch the jobs with ctx.dispatch, or start a new chain.' },
      );
    }
    const list = Array.isArray(given) ? given : [given];
    const steps = list.map((step, i) => ({
      // The chain's own queue is applied when the step is written (the row knows it).
      step: storeStep(step, undefined, `ctx.chain.${kind}() step ${i}`),
      queueGiven: step.options?.queue !== undefined,
    }));
    this.edits.push({ kind, steps });
    this.added += steps.length;
  }
}

/**
 * `steps` with the edits step `index` made: appended at the end, prepended right after `index`
 * (a later prepend before an earlier one). A step without a queue of its own takes `queue`.
 */
export function applyEdits(
  steps: StoredStep[],
  index: number,
  edits: readonly ChainEdit[],
  queue: string | null,
): StoredStep[] {
  const result = [...steps];
  for (const edit of edits) {
    const added = edit.steps.map(({ step, queueGiven }) =>
      queue !== null && !queueGiven ? { ...step, queue } : step,
    );
    if (edit.kind === 'append') result.push(...added);
    else result.splice(index + 1, 0, ...added);
  }
  return result;
}
