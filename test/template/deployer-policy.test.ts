import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { packageStagingEnv } from '../../dev/package-staging';

/**
 * deploy/deployer-policy.json, the IAM policy docs/deployment.md gives the CI/CD role that runs
 * `serverless deploy` and `serverless remove`, against the template `serverless package` builds with every
 * optional resource on (the gateway's JWT authorizer, the custom domain): each resource of the template
 * needs the calls CloudFormation makes to create, update and delete it, on the resource's own ARN, and a
 * type this table does not know fails the test, so a resource added to serverless.yml cannot go unnoticed.
 */

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const STAGE = 'ci';
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const ZONE = 'Z0123456789ABCDEFGHIJ';
const DOMAIN = 'dora.example.com';
const STACK = `dora-api-${STAGE}`;

interface Resource {
  Type: string;
  Properties: Record<string, unknown>;
}
interface Template {
  Resources: Record<string, Resource>;
}
interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
}
interface Policy {
  Version: string;
  Statement: Statement[];
}

/** One call the deployer makes: an IAM action on an ARN. */
type Call = [action: string, arn: string];

const list = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

/** IAM's wildcards: `*` any run of characters, `?` one; actions compare case-insensitively. */
function wildcard(pattern: string, flags = ''): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, flags);
}

function allows(policy: Policy, [action, arn]: Call): boolean {
  return policy.Statement.some(
    (statement) =>
      statement.Effect === 'Allow' &&
      list(statement.Action).some((a) => wildcard(a, 'i').test(action)) &&
      list(statement.Resource).some((r) => wildcard(r).test(arn)),
  );
}

function filled(text: string): Policy {
  return JSON.parse(
    text
      .replaceAll('HOSTED_ZONE_ID', ZONE)
      .replaceAll('ACCOUNT_ID', ACCOUNT)
      .replaceAll('REGION', REGION)
      .replaceAll('STAGE', STAGE),
  ) as Policy;
}

/** The few intrinsic functions the template uses for names: Ref of a pseudo parameter, Fn::Join. */
function resolved(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if (node.Ref === 'AWS::Region') return REGION;
  if (node.Ref === 'AWS::AccountId') return ACCOUNT;
  if (node.Ref === 'AWS::Partition') return 'aws';
  const join = node['Fn::Join'] as [string, unknown[]] | undefined;
  if (join) return join[1].map(resolved).join(join[0]);
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

/** CloudFormation's name for a resource without one: stack, logical id, a random suffix. */
const generatedName = (logicalId: string, max = 64) =>
  `${`${STACK}-${logicalId}`.slice(0, max - 13)}-1A2B3C4D5E6F`;

const lambdaArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
const apis = `arn:aws:apigateway:${REGION}::/apis`;
const apiArn = `${apis}/a1b2c3d4e5`;
const domainArn = `arn:aws:apigateway:${REGION}::/domainnames/${DOMAIN}`;

/**
 * What CloudFormation calls to create, update and delete a resource of each type (the resource's handler
 * as documented in the CloudFormation resource type schemas), on the ARN that resource gets.
 */
function callsOf(template: Template, logicalId: string, resource: Resource): Call[] | undefined {
  const p = resource.Properties;
  const functionName = (ref: unknown): string => {
    const target =
      (ref as { Ref?: string; 'Fn::GetAtt'?: [string, string] }).Ref ??
      (ref as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    return resolved(template.Resources[target]?.Properties.FunctionName);
  };
  switch (resource.Type) {
    case 'AWS::Lambda::Function': {
      const arn = lambdaArn(resolved(p.FunctionName));
      const role = `arn:aws:iam::${ACCOUNT}:role/${STACK}-${REGION}-lambdaRole`;
      return [
        ...[
          'CreateFunction',
          'GetFunction',
          'GetFunctionConfiguration',
          'UpdateFunctionCode',
          'UpdateFunctionConfiguration',
          'ListTags',
          'TagResource',
          'UntagResource',
          'DeleteFunction',
        ].map((a): Call => [`lambda:${a}`, arn]),
        ['iam:PassRole', role],
      ];
    }
    case 'AWS::Lambda::Permission': {
      const arn = lambdaArn(functionName(p.FunctionName));
      return [
        ['lambda:AddPermission', arn],
        ['lambda:GetPolicy', arn],
        ['lambda:RemovePermission', arn],
      ];
    }
    case 'AWS::Lambda::Version': {
      const arn = lambdaArn(functionName(p.FunctionName));
      return [
        ['lambda:PublishVersion', arn],
        ['lambda:ListVersionsByFunction', arn],
        ['lambda:GetFunctionConfiguration', `${arn}:1`],
      ];
    }
    case 'AWS::Lambda::EventInvokeConfig': {
      const arn = `${lambdaArn(functionName(p.FunctionName))}:$LATEST`;
      return ['Put', 'Get', 'Update', 'Delete'].map(
        (verb): Call => [`lambda:${verb}FunctionEventInvokeConfig`, arn],
      );
    }
    case 'AWS::Logs::LogGroup': {
      const arn = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${resolved(p.LogGroupName)}:*`;
      return [
        ['logs:CreateLogGroup', arn],
        ['logs:PutRetentionPolicy', arn],
        ['logs:DeleteRetentionPolicy', arn],
        ['logs:TagResource', arn],
        ['logs:ListTagsForResource', arn],
        ['logs:DescribeLogGroups', `arn:aws:logs:${REGION}:${ACCOUNT}:log-group::log-stream:`],
        ['logs:DeleteLogGroup', arn],
      ];
    }
    case 'AWS::IAM::Role': {
      const arn = `arn:aws:iam::${ACCOUNT}:role/${resolved(p.RoleName)}`;
      return [
        'CreateRole',
        'GetRole',
        'PutRolePolicy',
        'GetRolePolicy',
        'DeleteRolePolicy',
        'DeleteRole',
      ].map((a): Call => [`iam:${a}`, arn]);
    }
    case 'AWS::S3::Bucket': {
      const arn = `arn:aws:s3:::${generatedName(logicalId.toLowerCase(), 63).toLowerCase()}`;
      const configured: Record<string, string> = {
        BucketEncryption: 'EncryptionConfiguration',
        PublicAccessBlockConfiguration: 'BucketPublicAccessBlock',
        OwnershipControls: 'BucketOwnershipControls',
        VersioningConfiguration: 'BucketVersioning',
        LifecycleConfiguration: 'LifecycleConfiguration',
      };
      return [
        ['s3:CreateBucket', arn],
        ['s3:ListBucket', arn],
        ['s3:DeleteBucket', arn],
        ...Object.entries(configured)
          .filter(([property]) => property in p)
          .flatMap(([, name]): Call[] => [
            [`s3:Put${name}`, arn],
            [`s3:Get${name}`, arn],
          ]),
      ];
    }
    case 'AWS::S3::BucketPolicy': {
      const bucket = (p.Bucket as { Ref: string }).Ref;
      const arn = `arn:aws:s3:::${generatedName(bucket.toLowerCase(), 63).toLowerCase()}`;
      return [
        ['s3:PutBucketPolicy', arn],
        ['s3:GetBucketPolicy', arn],
        ['s3:DeleteBucketPolicy', arn],
      ];
    }
    case 'AWS::Events::Rule': {
      const arn = `arn:aws:events:${REGION}:${ACCOUNT}:rule/${generatedName(logicalId)}`;
      return [
        'PutRule',
        'DescribeRule',
        'PutTargets',
        'ListTargetsByRule',
        'RemoveTargets',
        'DeleteRule',
      ].map((a): Call => [`events:${a}`, arn]);
    }
    case 'AWS::ApiGatewayV2::Api':
      return [
        ['apigateway:POST', apis],
        ...['GET', 'PATCH', 'PUT', 'DELETE'].map((v): Call => [`apigateway:${v}`, apiArn]),
      ];
    case 'AWS::ApiGatewayV2::Route':
    case 'AWS::ApiGatewayV2::Integration':
    case 'AWS::ApiGatewayV2::Stage':
    case 'AWS::ApiGatewayV2::Authorizer': {
      const kind = `${resource.Type.split('::')[2]?.toLowerCase()}s`;
      return [
        ['apigateway:POST', `${apiArn}/${kind}`],
        ...['GET', 'PATCH', 'DELETE'].map((v): Call => [`apigateway:${v}`, `${apiArn}/${kind}/x1y2z3`]),
      ];
    }
    case 'AWS::ApiGatewayV2::DomainName':
      return [
        ['apigateway:POST', `arn:aws:apigateway:${REGION}::/domainnames`],
        ...['GET', 'PATCH', 'DELETE'].map((v): Call => [`apigateway:${v}`, domainArn]),
      ];
    case 'AWS::ApiGatewayV2::ApiMapping':
      return [
        ['apigateway:POST', `${domainArn}/apimappings`],
        ...['GET', 'PATCH', 'DELETE'].map(
          (v): Call => [`apigateway:${v}`, `${domainArn}/apimappings/m1n2o3`],
        ),
      ];
    case 'AWS::CertificateManager::Certificate': {
      const arn = `arn:aws:acm:${REGION}:${ACCOUNT}:certificate/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6`;
      return [
        ['acm:RequestCertificate', '*'],
        ['acm:DescribeCertificate', arn],
        ['acm:ListTagsForCertificate', arn],
        ['acm:DeleteCertificate', arn],
        // DNS validation: CloudFormation writes the validation record into the hosted zone.
        [
          'route53:ChangeResourceRecordSets',
          `arn:aws:route53:::hostedzone/${resolved(
            (p.DomainValidationOptions as Array<{ HostedZoneId: string }>)[0]?.HostedZoneId,
          )}`,
        ],
      ];
    }
    case 'AWS::Route53::RecordSet': {
      const zone = `arn:aws:route53:::hostedzone/${resolved(p.HostedZoneId)}`;
      return [
        ['route53:ChangeResourceRecordSets', zone],
        ['route53:ListResourceRecordSets', zone],
        ['route53:GetHostedZone', zone],
        ['route53:GetChange', 'arn:aws:route53:::change/C0123456789ABC'],
      ];
    }
    default:
      return undefined;
  }
}

/** What osls itself calls around the stack (lib/plugins/aws/deploy, remove, info). */
const DEPLOYER_CALLS: Call[] = [
  ...[
    'DescribeStacks',
    'CreateChangeSet',
    'DescribeChangeSet',
    'ExecuteChangeSet',
    'DeleteChangeSet',
    'CreateStack',
    'UpdateStack',
    'DescribeStackEvents',
    'DescribeStackResource',
    'DescribeStackResources',
    'ListStackResources',
    'GetTemplate',
    'DeleteStack',
  ].map(
    (a): Call => [
      `cloudformation:${a}`,
      `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK}/0a1b2c3d`,
    ],
  ),
  ['cloudformation:ValidateTemplate', '*'],
  ['cloudformation:ListExports', '*'],
  // The artifacts in the deployment bucket: upload, compare (check-for-changes), prune, empty on remove.
  ...['PutObject', 'GetObject', 'DeleteObject', 'DeleteObjectVersion', 'AbortMultipartUpload'].map(
    (a): Call => [
      `s3:${a}`,
      `arn:aws:s3:::${generatedName('serverlessdeploymentbucket', 63).toLowerCase()}/serverless/dora-api/${STAGE}/1/health.zip`,
    ],
  ),
  ...['ListBucket', 'ListBucketVersions', 'GetBucketLocation'].map(
    (a): Call => [`s3:${a}`, `arn:aws:s3:::${generatedName('serverlessdeploymentbucket', 63).toLowerCase()}`],
  ),
  [
    'logs:DescribeSubscriptionFilters',
    `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${STACK}-health:*`,
  ],
  ['apigateway:GET', apiArn],
];

describe('the deployer policy of docs/deployment.md', () => {
  let outDir: string;
  let template: Template;
  const policyText = readFileSync(path.join(ROOT, 'deploy', 'deployer-policy.json'), 'utf8');
  const policy = filled(policyText);
  const workFolder = `.esbuild-deployer-policy-test-${process.pid}`;

  beforeAll(async () => {
    outDir = mkdtempSync(path.join(tmpdir(), 'dora-deployer-policy-'));
    await run(
      path.join(ROOT, 'node_modules/.bin/serverless'),
      [
        'package',
        '--stage',
        STAGE,
        '--region',
        REGION,
        '--package',
        outDir,
        '--param',
        `customDomain=${DOMAIN}`,
        '--param',
        `hostedZoneId=${ZONE}`,
        '--param',
        'auth=gateway',
        '--param',
        'jwtIssuer=https://issuer.example.com',
        '--param',
        'jwtAudience=dora-api',
      ],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          ESBUILD_WORK_FOLDER: workFolder,
          ...packageStagingEnv(outDir),
          AWS_ACCESS_KEY_ID: '',
          AWS_SECRET_ACCESS_KEY: '',
          AWS_PROFILE: '',
        },
        timeout: 180_000,
      },
    );
    template = JSON.parse(
      readFileSync(path.join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'),
    ) as Template;
  }, 200_000);

  afterAll(() => {
    rmSync(outDir, { recursive: true, force: true });
    rmSync(path.join(ROOT, workFolder), { recursive: true, force: true });
  });

  it('knows every resource type of the template, custom domain and gateway authorizer included', () => {
    const unknown = Object.entries(template.Resources)
      .filter(([id, resource]) => callsOf(template, id, resource) === undefined)
      .map(([id, resource]) => `${id} (${resource.Type})`);

    expect(unknown).toEqual([]);
    expect(Object.values(template.Resources).map((r) => r.Type)).toEqual(
      expect.arrayContaining([
        'AWS::ApiGatewayV2::Authorizer',
        'AWS::ApiGatewayV2::DomainName',
        'AWS::CertificateManager::Certificate',
      ]),
    );
  });

  it('allows every call CloudFormation makes for each resource, on that resource only', () => {
    const refused = Object.entries(template.Resources).flatMap(([id, resource]) =>
      (callsOf(template, id, resource) ?? [])
        .filter((call) => !allows(policy, call))
        .map(([action, arn]) => `${id}: ${action} on ${arn}`),
    );

    expect(refused).toEqual([]);
  });

  it('allows what serverless deploy and remove call around the stack', () => {
    expect(DEPLOYER_CALLS.filter((call) => !allows(policy, call))).toEqual([]);
  });

  it("refuses what is not this stage's: another stage's functions, buckets and stack, other roles", () => {
    const others: Call[] = [
      ['lambda:UpdateFunctionCode', lambdaArn('dora-api-prod-health')],
      ['lambda:DeleteFunction', lambdaArn('billing-ci-handler')],
      ['s3:DeleteBucket', 'arn:aws:s3:::dora-api-prod-storebucket-1a2b3c4d5e6f'],
      ['s3:GetObject', `arn:aws:s3:::dora-api-${STAGE}-storebucket-1a2b3c4d5e6f/rollups/v2/day.json`],
      ['cloudformation:DeleteStack', `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/dora-api-prod/0a1b`],
      ['iam:PassRole', `arn:aws:iam::${ACCOUNT}:role/admin`],
      ['iam:CreateRole', `arn:aws:iam::${ACCOUNT}:role/dora-api-${STAGE}-escalation`],
      ['ssm:GetParameter', `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/dora-api/${STAGE}/GITHUB_TOKEN`],
    ];

    expect(others.filter((call) => allows(policy, call))).toEqual([]);
  });

  it('names no whole service and no action wildcard', () => {
    const actions = policy.Statement.flatMap((statement) => list(statement.Action));

    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it('is the policy docs/deployment.md shows', () => {
    const page = readFileSync(path.join(ROOT, 'docs', 'deployment.md'), 'utf8');
    const shown = /<!-- deploy\/deployer-policy\.json -->\n```json\n([\s\S]*?)\n```/.exec(page)?.[1];

    expect(shown === undefined ? undefined : JSON.parse(shown)).toEqual(JSON.parse(policyText));
  });
});
