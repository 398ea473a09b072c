// ROLLUPS_URL of the functions (osls calls `url` while it resolves `${file(./deploy/rollups.js):url}`):
// the rollupsUrl param as given (`off`, `s3://...`, `file://...`), or for `stack` (the default of deployed
// stages) the rollups/ prefix of the stack's own StoreBucket, a CloudFormation reference, so that
// `serverless package` needs no AWS credentials. `npm start` (--stage local) passes its own setting through.
async function url({ resolveVariable }) {
  const value = await resolveVariable('param:rollupsUrl');
  const text = value == null ? '' : String(value).trim();
  if (text !== 'stack') return text;
  return { 'Fn::Join': ['', ['s3://', { Ref: 'StoreBucket' }, '/rollups']] };
}

module.exports = { url };
