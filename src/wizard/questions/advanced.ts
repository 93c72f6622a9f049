/**
 * Advanced options (reference/lacework.md §1.5): "Configure advanced integration options?", then a menu shown
 * again after each item until Done. Each item sets exactly the answers its flags set (`ADVANCED_MENU`); an item
 * whose flag was given is shown disabled ("set by --flag"). Saved values become the current values of the
 * items the flags did not set, so Enter through the menu reproduces the last run.
 */
import { DEFAULTS, defaultIntegrationName } from '../../config/inputs.js';
import { bucketNameFromArn } from '../../config/naming.js';
import type { SetupAnswers } from '../../config/resolve.js';
import type { SavedOptions } from '../answers.js';
import type { Answers, WizardContext } from '../context.js';
import type { Choice } from '../prompter.js';
import { ADVANCED_MENU, QUESTIONS as Q, checkAbort, flagOf, type AdvancedItem } from './shared.js';

type Ctx = Pick<WizardContext, 'given' | 'prompter' | 'lookups' | 'say' | 'signal'>;

/** The saved options as answers (the file keeps the flags' spelling: lifecycle days as a string, `noKms`). */
export function answersOfSaved(o: SavedOptions): SetupAnswers {
  const a: SetupAnswers = {};
  if (o.existingBucketArn !== undefined) a.existingBucketArn = o.existingBucketArn;
  else {
    if (o.bucketLifecycleDays !== undefined && /^\d+$/.test(o.bucketLifecycleDays)) a.bucketLifecycleDays = Number(o.bucketLifecycleDays);
    if (o.bucketVersioning === false) a.bucketVersioning = false;
  }
  if (o.existingCaRoleArn !== undefined && o.existingCaExternalId !== undefined) {
    a.existingCaRoleArn = o.existingCaRoleArn;
    a.existingCaExternalId = o.existingCaExternalId;
  }
  if (o.existingFirehoseRoleArn !== undefined) a.existingFirehoseRoleArn = o.existingFirehoseRoleArn;
  if (o.existingCwRoleArn !== undefined) a.existingCwRoleArn = o.existingCwRoleArn;
  if (o.kmsKeyArn !== undefined) a.kmsKeyArn = o.kmsKeyArn;
  else if (o.noKms) a.noKms = true;
  if (o.integrationName !== undefined) a.integrationName = o.integrationName;
  if (o.homeRegion !== undefined) a.homeRegion = o.homeRegion;
  return a;
}

/** The answers as the saved-answers file keeps them (the inverse of `answersOfSaved`). */
export function savedOfAnswers(a: SetupAnswers): SavedOptions {
  return {
    existingBucketArn: a.existingBucketArn,
    bucketLifecycleDays: a.bucketLifecycleDays !== undefined ? String(a.bucketLifecycleDays) : undefined,
    bucketVersioning: a.bucketVersioning === false ? false : undefined,
    existingCaRoleArn: a.existingCaRoleArn,
    existingCaExternalId: a.existingCaExternalId,
    existingFirehoseRoleArn: a.existingFirehoseRoleArn,
    existingCwRoleArn: a.existingCwRoleArn,
    kmsKeyArn: a.kmsKeyArn,
    noKms: a.noKms === true ? true : undefined,
    integrationName: a.integrationName,
    homeRegion: a.homeRegion,
  };
}

/** Current value of an item, for the menu's descriptions. */
function describeItem(item: AdvancedItem, a: SetupAnswers, home: string): string | undefined {
  switch (item) {
    case 'bucket':
      return a.existingBucketArn
        ? `existing bucket ${a.existingBucketArn}`
        : `new bucket, objects expire after ${a.bucketLifecycleDays ?? DEFAULTS.bucketLifecycleDays} days, versioning ${a.bucketVersioning === false ? 'off' : 'on'}`;
    case 'caRole':
      return a.existingCaRoleArn ? `existing role ${a.existingCaRoleArn}` : 'a new role is created';
    case 'firehose':
      return a.existingFirehoseRoleArn ? `existing Firehose role ${a.existingFirehoseRoleArn}` : 'a new Firehose role is created';
    case 'cwRole':
      return a.existingCwRoleArn ? `existing role ${a.existingCwRoleArn}` : 'a new role is created';
    case 'kms':
      return a.kmsKeyArn ? `existing key ${a.kmsKeyArn}` : a.noKms ? 'no KMS key' : 'a new KMS key is created';
    case 'integrationName':
      return a.integrationName ? `"${a.integrationName}"` : 'the default name';
    case 'homeRegion':
      return a.homeRegion ?? `${home} (the first region)`;
    default:
      return undefined;
  }
}

/**
 * Asks whether to configure advanced options; if so, runs the menu. Sets `a.advanced` and the advanced answers
 * in `a.setup`; leaves every answer a flag gave as it is.
 * @throws UserAbort on Ctrl+C.
 */
export async function advanced(ctx: Ctx, a: Answers): Promise<void> {
  const savedOptions = a.saved?.options ?? {};
  const hasSaved = Object.values(savedOptions).some((v) => v !== undefined);
  a.advanced = await ctx.prompter.confirm({ message: Q.advanced.message, default: a.saved ? a.saved.advanced || hasSaved : false });
  if (!a.advanced) return;

  const given = ctx.given;
  const isGiven = (keys: (keyof SetupAnswers)[]) => keys.some((k) => given[k] !== undefined);
  const s = a.setup;
  const regions = () => Object.keys(s.regionClusters ?? {});
  // Saved values fill what the flags left open, item by item (an item is all flags or all saved).
  const fromSaved = answersOfSaved(savedOptions);
  for (const m of ADVANCED_MENU) {
    if (isGiven(m.answers)) continue;
    for (const k of m.answers) {
      if (k === 'homeRegion' && !(fromSaved.homeRegion && regions().includes(fromSaved.homeRegion))) continue;
      if (fromSaved[k] !== undefined) (s as Record<string, unknown>)[k] = fromSaved[k];
    }
  }
  const home = () => s.homeRegion ?? regions()[0] ?? '';

  let last: AdvancedItem = hasSaved ? 'done' : 'bucket';
  for (;;) {
    checkAbort(ctx.signal);
    const choices: Choice<AdvancedItem>[] = ADVANCED_MENU.filter((m) => m.item !== 'homeRegion' || regions().length > 1).map((m) => {
      const setBy = m.answers.filter((k) => given[k] !== undefined).map(flagOf);
      const description = describeItem(m.item, s, home());
      return {
        value: m.item,
        name: m.name,
        ...(description ? { description } : {}),
        ...(setBy.length > 0 ? { disabled: `set by ${setBy.join(', ')}` } : {}),
      };
    });
    const item = await ctx.prompter.select<AdvancedItem>({ message: Q.advancedMenu.message, choices, default: last });
    if (item === 'done') return;
    await ITEMS[item](ctx, a, home);
    last = 'done'; // after an item, Enter finishes (the reference asked "Configure another…?" instead)
  }
}

type Item = (ctx: Ctx, a: Answers, home: () => string) => Promise<void>;

/** Bucket settings: an existing bucket (checked: it exists, this account owns it, home region) or the new one's. */
const bucket: Item = async (ctx, a, home) => {
  const s = a.setup;
  const p = ctx.prompter;
  if (await p.confirm({ message: Q.useExistingBucket.message, default: s.existingBucketArn !== undefined })) {
    s.existingBucketArn = await p.input({
      message: Q.existingBucketArn.message,
      ...(s.existingBucketArn ? { default: s.existingBucketArn } : {}),
      async validate(v) {
        const bad = Q.existingBucketArn.validate(v);
        if (bad) return bad;
        const name = bucketNameFromArn(v);
        const where = await ctx.lookups.bucketRegion(name);
        if (where === 'not-found') return `Bucket ${name} does not exist; check the ARN.`;
        if (where === 'denied') return `Bucket ${name} belongs to another account or denies access; use a bucket of this account.`;
        if (where !== home()) {
          return `Bucket ${name} is in ${where}, but the home region is ${home()}; S3 notifies only an SNS topic in its own region, so pick a bucket in ${home()}${Object.keys(s.regionClusters ?? {}).length > 1 ? ' or choose the home region first' : ''}.`;
        }
        return undefined;
      },
    });
    // These apply to a bucket the tool creates only (checkAnswers refuses the combination).
    delete s.bucketLifecycleDays;
    delete s.bucketVersioning;
    return;
  }
  delete s.existingBucketArn;
  const days = await p.input({ message: Q.bucketLifecycleDays.message, default: String(s.bucketLifecycleDays ?? DEFAULTS.bucketLifecycleDays), validate: Q.bucketLifecycleDays.validate });
  s.bucketLifecycleDays = Number(days);
  if (await p.confirm({ message: Q.bucketVersioning.message, default: s.bucketVersioning !== false })) delete s.bucketVersioning;
  else s.bucketVersioning = false;
};

const caRole: Item = async (ctx, a) => {
  const s = a.setup;
  const arn = await ctx.prompter.input({
    message: Q.existingCaRoleArn.message,
    ...(s.existingCaRoleArn ? { default: s.existingCaRoleArn } : {}),
    validate: Q.existingCaRoleArn.validate,
  });
  if (arn === '') {
    delete s.existingCaRoleArn;
    delete s.existingCaExternalId;
    return;
  }
  s.existingCaRoleArn = arn;
  s.existingCaExternalId = await ctx.prompter.input({
    message: Q.existingCaExternalId.message,
    ...(s.existingCaExternalId ? { default: s.existingCaExternalId } : {}),
    validate: Q.existingCaExternalId.validate,
  });
};

const firehose: Item = async (ctx, a) => {
  const s = a.setup;
  if (await ctx.prompter.confirm({ message: Q.useExistingFirehoseRole.message, default: s.existingFirehoseRoleArn !== undefined })) {
    s.existingFirehoseRoleArn = await ctx.prompter.input({
      message: Q.existingFirehoseRoleArn.message,
      ...(s.existingFirehoseRoleArn ? { default: s.existingFirehoseRoleArn } : {}),
      validate: Q.existingFirehoseRoleArn.validate,
    });
  } else delete s.existingFirehoseRoleArn;
};

const cwRole: Item = async (ctx, a) => {
  const s = a.setup;
  const arn = await ctx.prompter.input({
    message: Q.existingCwRoleArn.message,
    ...(s.existingCwRoleArn ? { default: s.existingCwRoleArn } : {}),
    validate: Q.existingCwRoleArn.validate,
  });
  if (arn === '') delete s.existingCwRoleArn;
  else s.existingCwRoleArn = arn;
};

const kms: Item = async (ctx, a, home) => {
  const s = a.setup;
  const choice = await ctx.prompter.select<'new' | 'existing' | 'none'>({
    message: Q.kmsChoice.message,
    default: s.kmsKeyArn ? 'existing' : s.noKms ? 'none' : 'new',
    choices: [
      { value: 'new', name: 'Create a KMS key for them (default)' },
      { value: 'existing', name: 'Use an existing KMS key' },
      { value: 'none', name: 'No KMS key: SSE-S3 on the bucket, AWS-owned key on the stream, unencrypted topic' },
    ],
  });
  delete s.noKms;
  if (choice === 'existing') {
    s.kmsKeyArn = await ctx.prompter.input({
      message: Q.kmsKeyArn.message,
      ...(s.kmsKeyArn ? { default: s.kmsKeyArn } : {}),
      validate: (v) => {
        const bad = Q.kmsKeyArn.validate(v);
        if (bad) return bad;
        const region = v.split(':')[3];
        return region !== home() ? `The key is in ${region}, but the bucket, topic and stream live in ${home()}; use a key of ${home()}.` : undefined;
      },
    });
    return;
  }
  delete s.kmsKeyArn;
  if (choice === 'none') s.noKms = true;
};

const integrationName: Item = async (ctx, a) => {
  const s = a.setup;
  const byDefault = defaultIntegrationName(a.accountId);
  const name = await ctx.prompter.input({ message: Q.integrationName.message, default: s.integrationName ?? byDefault, validate: Q.integrationName.validate });
  // The default stays a default (not a saved choice), so it follows the account if that ever changes.
  if (name === byDefault) delete s.integrationName;
  else s.integrationName = name;
};

const homeRegion: Item = async (ctx, a, home) => {
  const s = a.setup;
  s.homeRegion = await ctx.prompter.select<string>({
    message: Q.homeRegion.message,
    default: home(),
    choices: Object.keys(s.regionClusters ?? {}).map((r) => ({ value: r, name: r })),
  });
  // A key or bucket picked for the old home region no longer fits: drop it now rather than fail in preflight.
  if (s.kmsKeyArn && s.kmsKeyArn.split(':')[3] !== home()) {
    ctx.say(`The KMS key ${s.kmsKeyArn} is not in ${home()}; a new key will be created (or pick one of ${home()} under encryption settings).`);
    delete s.kmsKeyArn;
  }
  if (s.existingBucketArn && ctx.given.existingBucketArn === undefined) {
    const where = await ctx.lookups.bucketRegion(bucketNameFromArn(s.existingBucketArn));
    if (where !== home()) {
      ctx.say(`The bucket ${s.existingBucketArn} is not in ${home()}; a new bucket will be created (or pick one of ${home()} under bucket settings).`);
      delete s.existingBucketArn;
    }
  }
};

const ITEMS: Record<Exclude<AdvancedItem, 'done'>, Item> = { bucket, caRole, firehose, cwRole, kms, integrationName, homeRegion };
