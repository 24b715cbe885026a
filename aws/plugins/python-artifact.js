'use strict';

// Builds the Python deployment package (../build_lambda.py) when Serverless packages the service
// (`serverless package` / `serverless deploy`), and makes it the service's artifact.
// serverless-offline does not package: it runs the handlers from the repository's .venv.
// Before a deploy, refuses to go on without the Stripe key and the Cognito pool.
//
// The interpreter is $COUCHPAY_BUILD_PYTHON, else ../.venv/bin/python, else python3.

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

class PythonArtifact {
  constructor(serverless, options, utils) {
    this.serverless = serverless;
    this.log = (utils && utils.log) || { warning: (message) => console.warn(message) };
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.build(),
      'before:deploy:deploy': () => this.checkSettings(),
    };
  }

  checkSettings() {
    const { service } = this.serverless;
    const stripe = service.custom.stripeEnvironment;
    const connect = service.functions.connect.environment;
    const missing = [
      ['stripeSecretKey (STRIPE_SECRET_KEY)', stripe.STRIPE_SECRET_KEY],
      ['cognitoUserPoolId (COGNITO_USER_POOL_ID)', !connect.COUCHPAY_TOKEN_ISSUER.endsWith('/')],
      ['cognitoClientId (COGNITO_CLIENT_ID)', connect.COUCHPAY_TOKEN_AUDIENCE],
    ]
      .filter(([, value]) => !value)
      .map(([name]) => name);
    if (missing.length) {
      throw new this.serverless.classes.Error(
        `couchpay: set ${missing.join(', ')} before deploying (see README, "Deploy to AWS")`
      );
    }
    if (!stripe.STRIPE_WEBHOOK_SECRET) {
      this.log.warning(
        'couchpay: no stripeWebhookSecret (STRIPE_WEBHOOK_SECRET): /stripe/webhook answers 503 ' +
          'until you create the Stripe endpoint and deploy again with its secret'
      );
    }
  }

  python() {
    if (process.env.COUCHPAY_BUILD_PYTHON) return process.env.COUCHPAY_BUILD_PYTHON;
    const venv = path.resolve(this.serverless.serviceDir, '..', '.venv', 'bin', 'python');
    return fs.existsSync(venv) ? venv : 'python3';
  }

  build() {
    const { service } = this.serverless;
    const serviceDir = this.serverless.serviceDir;
    // Serverless builds in .serverless/ and moves it all to --package DIR at the end.
    const out = path.join(serviceDir, '.serverless', `${service.service}.zip`);
    const runtime = String(service.provider.runtime || 'python3.11');
    execFileSync(
      this.python(),
      [
        path.join(serviceDir, 'build_lambda.py'),
        '--out',
        out,
        '--python-version',
        runtime.replace(/^python/, ''),
        '--architecture',
        String(service.provider.architecture || 'x86_64'),
      ],
      { stdio: 'inherit' }
    );
    service.package.artifact = out;
  }
}

module.exports = PythonArtifact;
