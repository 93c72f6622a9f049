import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { KNOWN_REGIONS, checkRegion } from '../../../src/config/regions.js';

/** The regions of the SDK's `aws` partition, read from its endpoint data (the file the SDK itself uses). */
function sdkCommercialRegions(): string[] {
  const client = createRequire(import.meta.url).resolve('@aws-sdk/core/client');
  const file = path.join(client, '../../../../dist-es/submodules/client/util-endpoints/lib/aws/partitions.js');
  const text = readFileSync(file, 'utf8');
  const aws = text.slice(text.indexOf('"id": "aws"'), text.indexOf('"id": "aws-cn"'));
  return [...aws.matchAll(/"([a-z]{2}-[a-z]+-\d+)": \{/g)].map((m) => m[1] as string);
}

describe('known regions', () => {
  it('are the commercial regions the AWS SDK knows (update KNOWN_REGIONS when the SDK adds one)', () => {
    const sdk = sdkCommercialRegions();
    expect(sdk.length).toBeGreaterThan(30);
    expect([...KNOWN_REGIONS].sort()).toEqual([...sdk].sort());
  });

  it('are all accepted, once each', () => {
    expect(new Set(KNOWN_REGIONS).size).toBe(KNOWN_REGIONS.length);
    for (const r of KNOWN_REGIONS) expect(checkRegion(r), r).toBeUndefined();
  });
});
