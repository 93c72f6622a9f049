/**
 * A scripted Prompter for unit tests of the wizard's flow. Each step names the question it expects (a
 * RegExp on the message) and the answer; an unexpected question fails the test at once. Text answers can
 * list rejected tries first: each must be refused by the question's own validator (its reason is recorded),
 * and the final answer must pass it, as a person retyping would see.
 */
import { UserAbort } from '../../../src/errors.js';
import { runValidator, type Choice, type Prompter, type Validator } from '../../../src/wizard/prompter.js';

/** Use the question's default (Enter). */
export const DEFAULT = Symbol('default');
/** Press Ctrl+C at this question. */
export const CTRL_C = Symbol('ctrl-c');

export interface Step {
  expect: RegExp;
  answer: unknown;
  /** Text answers typed (and refused) before `answer`. */
  rejected?: string[];
}

export interface Asked {
  kind: 'confirm' | 'input' | 'password' | 'select' | 'checkbox';
  message: string;
  default?: unknown;
  choices?: Choice<unknown>[];
  /** Reasons the validator gave for the rejected tries. */
  reasons: string[];
}

export interface FakePrompter extends Prompter {
  asked: Asked[];
  /** Steps not reached: should be empty at the end of a test. */
  remaining(): Step[];
}

export function fakePrompter(script: Step[]): FakePrompter {
  const steps = [...script];
  const asked: Asked[] = [];
  function next(kind: Asked['kind'], message: string, def: unknown, choices?: Choice<unknown>[]): { step: Step; record: Asked } {
    const step = steps.shift();
    if (!step) throw new Error(`unexpected ${kind} question: "${message}"`);
    if (!step.expect.test(message)) throw new Error(`expected a question matching ${step.expect}, got ${kind} "${message}"`);
    const record: Asked = { kind, message, default: def, ...(choices ? { choices } : {}), reasons: [] };
    asked.push(record);
    if (step.answer === CTRL_C) throw new UserAbort('Interrupted at a question: nothing was changed.');
    return { step, record };
  }
  async function text(kind: 'input' | 'password', q: { message: string; default?: string; validate?: Validator<string> }) {
    const { step, record } = next(kind, q.message, q.default);
    for (const bad of step.rejected ?? []) {
      const reason = await runValidator(q.validate, bad.trim());
      if (reason === undefined) throw new Error(`"${bad}" was accepted by "${q.message}", expected a refusal`);
      record.reasons.push(reason);
    }
    const value = step.answer === DEFAULT ? (q.default ?? '') : String(step.answer);
    const reason = await runValidator(q.validate, value.trim());
    if (reason !== undefined) throw new Error(`"${value}" was refused by "${q.message}": ${reason}`);
    return value.trim();
  }
  return {
    asked,
    remaining: () => steps,
    async confirm(q) {
      const { step } = next('confirm', q.message, q.default ?? false);
      return step.answer === DEFAULT ? (q.default ?? false) : Boolean(step.answer);
    },
    input: (q) => text('input', q),
    password: (q) => text('password', q),
    async select<T>(q: { message: string; choices: Choice<T>[]; default?: T }): Promise<T> {
      const { step } = next('select', q.message, q.default, q.choices as Choice<unknown>[]);
      const value = (step.answer === DEFAULT ? q.default : step.answer) as T;
      const choice = q.choices.find((c) => c.value === value);
      if (!choice) throw new Error(`"${String(value)}" is not a choice of "${q.message}"`);
      if (choice.disabled) throw new Error(`"${String(value)}" is disabled in "${q.message}"`);
      return value;
    },
    async checkbox<T>(q: { message: string; choices: Choice<T>[]; validate?: Validator<T[]> }): Promise<T[]> {
      const { step, record } = next('checkbox', q.message, undefined, q.choices as Choice<unknown>[]);
      const values = (step.answer === DEFAULT ? q.choices.filter((c) => c.checked).map((c) => c.value) : step.answer) as T[];
      for (const v of values) {
        const choice = q.choices.find((c) => c.value === v);
        if (!choice || choice.disabled) throw new Error(`"${String(v)}" is not a selectable choice of "${q.message}"`);
      }
      const reason = await runValidator(q.validate, values);
      if (reason !== undefined) {
        record.reasons.push(reason);
        throw new Error(`${JSON.stringify(values)} was refused by "${q.message}": ${reason}`);
      }
      return values;
    },
  };
}
