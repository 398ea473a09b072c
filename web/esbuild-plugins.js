// serverless-esbuild's plugins (serverless.yml custom.esbuild.plugins).
module.exports = [require('./build').dashboardPagePlugin];
