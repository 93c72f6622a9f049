/**
 * AWS commercial regions where EKS runs and FortiCNAPP ingests audit logs: the `aws` partition of the SDK's
 * endpoint data (test/unit/config/regions.test.ts keeps the two in step). GovCloud and China are left out on
 * purpose: FortiCNAPP does not support them (reference/lacework.md §6, go-sdk #1231/#1325). The wizard lists
 * them in this order.
 */
export const KNOWN_REGIONS: readonly string[] = [
  'af-south-1',
  'ap-east-1', 'ap-east-2',
  'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3',
  'ap-south-1', 'ap-south-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7',
  'ca-central-1', 'ca-west-1',
  'eu-central-1', 'eu-central-2',
  'eu-north-1',
  'eu-south-1', 'eu-south-2',
  'eu-west-1', 'eu-west-2', 'eu-west-3',
  'il-central-1',
  'me-central-1', 'me-south-1', 'me-west-1',
  'mx-central-1',
  'sa-east-1', 'sa-west-1',
  'us-east-1', 'us-east-2',
  'us-west-1', 'us-west-2',
];

const REGION_SHAPE = /^[a-z]{2}-[a-z]+-\d{1,2}$/;

/**
 * A region name (`--region-clusters`, `--home-region`, the wizard's typed region): a known commercial region.
 * @returns undefined when fine; otherwise one line that says what is wrong and what to do ("did you mean").
 */
export function checkRegion(region: string): string | undefined {
  if (/^(us-gov|cn|us-iso)-/.test(region)) {
    return `Region '${region}' is not supported: FortiCNAPP does not ingest EKS audit logs from GovCloud or China.`;
  }
  if (!REGION_SHAPE.test(region)) {
    return `'${region}' is not an AWS region name (expected something like eu-central-1).`;
  }
  if (!KNOWN_REGIONS.includes(region)) {
    const near = closest(region);
    return near
      ? `Unknown AWS region '${region}'; did you mean ${near}?`
      : `Unknown AWS region '${region}'; see 'aws ec2 describe-regions' for the regions your account has.`;
  }
  return undefined;
}

/** The known region at edit distance 2 or less, if exactly one is nearest. */
function closest(input: string): string | undefined {
  const dist = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0] as number;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const cur = row[j] as number;
        row[j] = Math.min(cur + 1, (row[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = cur;
      }
    }
    return row[b.length] as number;
  };
  const scored = KNOWN_REGIONS.map((r) => ({ r, d: dist(input, r) })).sort((x, y) => x.d - y.d);
  const best = scored[0];
  return best && best.d <= 2 && scored[1]?.d !== best.d ? best.r : undefined;
}
